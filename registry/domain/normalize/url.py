"""URLs: scheme and host lowercased (the host canonical as a domain or an IP), default port
dropped, the rest kept as written; split by one regex."""

from __future__ import annotations

import re

from registry.domain.kinds import DOMAIN, EMAIL, IPV4, IPV6, PHONE, URL, Value, new_value
from registry.domain.normalize import handlers
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.ip import is_dotted_quad, port_number, v4_int, v6_int, v6_value
from registry.domain.normalize.names import canon_domain

_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_SCHEME_ONLY = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?![0-9])")
_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)", re.DOTALL)
_SCHEMES = frozenset({"http", "https", "ftp", "sftp", "ws", "wss", "tcp", "udp"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


def looks_url(s: str) -> bool | None:
    """``scheme://``; a ``://`` after what is not a scheme makes the text no kind at all."""
    if "://" not in s:
        return False
    return True if _SCHEME_PREFIX.match(s) else None


def split_url(s: str) -> tuple[str, str | None, str, str | None, str, int | None, str]:
    """(scheme, userinfo, canonical host, unicode host, host kind, port, rest)."""
    m = _URL_RE.fullmatch(s)
    if m is None:
        raise Invalid("not a URL (no scheme://)")
    scheme, authority, rest = m.groups()
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise Invalid(f"unsupported scheme {scheme!r}")
    userinfo, at, hostport = authority.rpartition("@")
    port: int | None = None
    uhost: str | None = None
    if hostport[:1] == "[":
        close = hostport.find("]")
        if close < 0:
            raise Invalid("unbalanced '[' in the host")
        after = hostport[close + 1 :]
        if after:
            if after[0] != ":":
                raise Invalid(f"unexpected {after!r} after the host")
            port = port_number(after[1:]) if len(after) > 1 else None
        ip = v6_value(v6_int(hostport[1:close]), 128) if close > 1 else None
        if ip is None:
            raise Invalid("no host")
        host_kind = ip.kind
        host = f"[{ip.value}]" if ip.kind == IPV6 else ip.value
    else:
        host, colon, port_text = hostport.rpartition(":")
        if not colon:
            host = hostport
        elif port_text:
            port = port_number(port_text)
        if not host:
            raise Invalid("no host")
        if is_dotted_quad(host):
            host_kind = IPV4
            v4_int(host)  # validates; the strict form is already canonical
        else:
            host_kind = DOMAIN
            host, uhost = canon_domain(host)
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    return scheme, (userinfo if at else None), host, uhost, host_kind, port, rest


def _with_scheme(s: str) -> str:
    """A text given as a URL without ``scheme://`` (``//host``, ``host/path``) as http."""
    if s.startswith("//"):
        return "http:" + s
    m = _SCHEME_ONLY.match(s)
    if m is not None and "." not in m.group(1):
        raise Invalid(f"unsupported scheme {m.group(1).lower()!r}")
    kind = handlers.detect(s)
    if kind in (EMAIL, PHONE):
        raise Invalid(f"looks like {handlers.label(kind)}")
    if kind == IPV6 and s[:1] != "[":
        if "/" in s or "-" in s:
            raise Invalid("looks like an ipv6 network or range")
        s = f"[{s}]"
    return "http://" + s


def normalize_url(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if "://" not in s and explicit:
        s = _with_scheme(s)
    scheme, userinfo, host, uhost, _kind, port, rest = split_url(s)
    user = f"{userinfo}@" if userinfo is not None else ""
    tail = f":{port}{rest}" if port is not None else rest
    value = f"{scheme}://{user}{host}{tail}"
    display = f"{scheme}://{user}{uhost}{tail}" if uhost is not None else None
    return (new_value(URL, value, display, None, None, None, None),)


KIND = Kind(URL, "a URL", looks_url, normalize_url, explains=frozenset({DOMAIN, IPV4, IPV6}))
