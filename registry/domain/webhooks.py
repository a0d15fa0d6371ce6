"""Webhooks: the pure rules (docs/api.md, "Webhooks"; docs/security.md, "Webhooks").

Where a webhook may point (the URL's form here, its addresses checked here once the service
has resolved the host name), how a delivery is signed and named, how long a failing one waits
before the next attempt, and when the registry gives up and disables the webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from registry.domain.events import listed

MAX_URL = 2048  # characters, as stored
SIGNATURE = "X-Registry-Signature"
EVENT = "X-Registry-Event"
DELIVERY = "X-Registry-Delivery"
ALL = "all"  # a webhook of every event the org receives, not of chosen watches

# uuid5 namespace of delivery ids: the id of (webhook, event) is the same on every attempt and in
# every dispatcher, without storing it before the first attempt.
_DELIVERY_NAMESPACE = uuid.UUID("6f3c9a52-7d1e-4b8a-9c2f-5e0d4a1b3c7e")
_LOOPBACK_HINT = "plain http only to 127.0.0.1 with REGISTRY_WEBHOOK_ALLOW_LOOPBACK=true"


class UrlRefused(ValueError):
    """A webhook URL the registry will not deliver to; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL points: its scheme, host (lower case, brackets off an IPv6 literal), port and
    the request target (path and query) of the POST."""

    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: object, *, allow_loopback: bool) -> Target:
    """The URL's target, or ``UrlRefused``: https only (plain http only with ``allow_loopback``,
    and then only to loopback addresses: see ``refusal``), no credentials, no fragment."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("url must be an https URL")
    if len(url) > MAX_URL:
        raise UrlRefused(f"url must be at most {MAX_URL} characters (got {len(url):,})")
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in url):
        raise UrlRefused("url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"url is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_loopback):
        raise UrlRefused(f"url must be https (got {scheme or 'no scheme'}; {_LOOPBACK_HINT})")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("url must not carry credentials: authenticate deliveries by their signature")
    if parts.fragment or url.endswith("#"):
        raise UrlRefused("url must not have a #fragment (it is never sent)")
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("url has no host")
    if not host.isascii():
        raise UrlRefused("url's host must be ASCII: write an international name in its xn-- (IDNA) form")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """What forbids delivery to this IP address (``"a private address"``), or None: only global
    unicast addresses, and loopback ones with ``allow_loopback`` (never private, link-local,
    shared, reserved, multicast or unspecified ones)."""
    ip = _ip(address)
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a global unicast address"
    return None


def refusal(target: Target, addresses: Sequence[str], *, allow_loopback: bool) -> str | None:
    """Why the registry will not deliver to ``target`` at the addresses its host resolved to, or
    None. Every address must pass (a host answering with one private address among public ones
    could be made to reach it); plain http only when every address is loopback."""
    if not addresses:
        return f"{target.host} does not resolve to an address"
    for address in addresses:
        why = address_refusal(address, allow_loopback=allow_loopback)
        if why is not None:
            named = address if _ip(address) == _ip_or_none(target.host) else f"{target.host} ({address})"
            return f"url's host {named} is {why}"
    if target.scheme == "http" and not all(_ip(a).is_loopback for a in addresses):
        return f"url must be https ({_LOOPBACK_HINT})"
    return None


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) names no other host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return ip


def _ip_or_none(host: str):
    try:
        return _ip(host)
    except ValueError:
        return None


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body with the secret>``: the X-Registry-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_id(webhook_uid: str, seq: int) -> str:
    """The X-Registry-Delivery of event ``seq`` to this webhook: the same on every attempt."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{webhook_uid}/{seq}"))


@dataclass(frozen=True, slots=True)
class Backoff:
    """The wait after the n-th failed attempt at an event: ``first`` seconds, doubling, at most
    ``cap``. The defaults give about 30 attempts in a day; tests pass shorter ones."""

    first: float = 1.0
    cap: float = 3600.0

    def delay(self, failures: int) -> timedelta:
        return timedelta(seconds=min(self.cap, self.first * 2 ** max(0, min(failures - 1, 62))))


def gives_up(failing_since: datetime, now: datetime, retry_hours: float) -> bool:
    """Whether a webhook failing since ``failing_since`` is to be disabled at ``now``
    (``REGISTRY_WEBHOOK_RETRY_HOURS``)."""
    return now - failing_since >= timedelta(hours=retry_hours)


def watches_given(value: object) -> tuple[str, ...] | None:
    """The ``watches`` of a registration: ``"all"`` (or absent) is None, every event the org
    receives; else a non-empty list of watch ids (``ValueError`` says what is wrong; whether
    they are the org's watches is the service's to check)."""
    if value is None or value == ALL:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError('watches must be "all" or a non-empty list of watch ids')
    if len(value) > 100:
        raise ValueError(f"watches takes at most 100 watch ids (got {len(value)})")
    ids: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item or len(item) > 36 or "," in item:
            raise ValueError(f"watches must be watch ids (as POST /api/v1/watches answered them), not {item!r:.60}")
        if item not in ids:
            ids.append(item)
    return tuple(ids)


def watches_text(watches: tuple[str, ...] | None) -> str | None:
    """As stored: ,a,b, or NULL for all."""
    return None if watches is None else "," + "".join(f"{uid}," for uid in watches)


def watches_shown(stored: str | None) -> str | list[str]:
    return ALL if stored is None else list(listed(stored))


def wanted(event_watches: Sequence[str], stored: str | None) -> bool:
    """Whether a webhook of these watches (stored form) takes an event that matched
    ``event_watches`` of the org's (a webhook of all takes every event the org receives)."""
    return stored is None or any(f",{uid}," in stored for uid in event_watches)
