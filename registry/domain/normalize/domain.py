"""Domains: lowercase A-label, the Unicode form kept for display (rules in ``names``)."""

from __future__ import annotations

import re

from registry.domain.kinds import DOMAIN, URL, Value, new_value
from registry.domain.normalize import handlers
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.ip import port_number
from registry.domain.normalize.names import canon_domain
from registry.domain.normalize.url import split_url

_DOMAIN_SHAPE = re.compile(r"[^\s/\\@?#]*[.\u3002\uff0e\uff61][^\s/\\@?#]*")


def looks_domain(s: str) -> bool:
    """A dot (or an ideographic one) and no whitespace, slash, ``@``, ``?`` or ``#``. Asked
    last: addresses, URLs, emails and phone numbers written with dots come first."""
    return _DOMAIN_SHAPE.fullmatch(s) is not None


def normalize_domain(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if "://" in s:  # a URL in a feed of domains: take its host
        _scheme, _user, host, uhost, host_kind, _port_text, _rest = split_url(s)
        if host_kind != DOMAIN:
            raise Invalid(f"the URL's host is {handlers.label(host_kind)}, not a domain")
        return (new_value(DOMAIN, host, uhost, None, None, None, None),)
    if "@" in s:
        raise Invalid("looks like an email address")
    if "/" in s:
        if s.find("/") != len(s) - 1:
            raise Invalid("has a path (looks like a URL without a scheme)")
        s = s[:-1]
    if ":" in s:
        s, _, port = s.rpartition(":")
        port_number(port)
    if not s:
        raise Invalid("empty value")
    a, u = canon_domain(s)
    return (new_value(DOMAIN, a, u, None, None, None, None),)


KIND = Kind(DOMAIN, "a domain", looks_domain, normalize_domain, explains=frozenset({URL}))
