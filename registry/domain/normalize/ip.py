"""IPv4 and IPv6: addresses, CIDRs, a-b ranges (split into CIDRs), with a port or brackets.

A single IPv4 address is read by :func:`v4_fast` (split on dots, octets looked up in a dict);
``ipaddress`` is reached for IPv6 only and ``netaddr`` for a-b ranges only.
"""

from __future__ import annotations

import ipaddress
import re

import netaddr

from registry.domain.kinds import IPV4, IPV6, Value, ip_bytes, new_value
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind

_V4_BARE_SHAPE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
# Bound once for the URL and email kinds: Python 3.11 looks a method of an imported name up
# anew on every call.
is_dotted_quad = _V4_BARE_SHAPE.fullmatch
_V4_SHAPE = re.compile(
    r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?:/[0-9]{1,3}|:[0-9]{1,5})?"
)
_V6_SHAPE = re.compile(
    r"\[?[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:%[^\]/\s]*)?(?:\](?::[0-9]{1,5})?)?(?:/[0-9]{1,3})?",
    re.IGNORECASE,
)
_V6_BARE_SHAPE = re.compile(
    r"\[?[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:%[^\]/\s]*)?\]?", re.IGNORECASE
)
_RANGE_RE = re.compile(r"([0-9a-f:.\[\]%]+)\s*-\s*([0-9a-f:.\[\]%]+)", re.IGNORECASE)

_V4_MIN_PREFIX = 8
_V6_MIN_PREFIX = 16
V4_ALL = 0xFFFFFFFF
_V6_ALL = (1 << 128) - 1
V4_MAPPED = 0xFFFF << 32

# "0".."255" -> int: a dict lookup both validates an octet (no leading zero, <= 255) and
# converts it, faster than a regex plus int().
_OCTETS = {str(i): i for i in range(256)}


# --------------------------------------------------------------------------------------
# detection


def _range_kind(s: str) -> str | None:
    m = _RANGE_RE.fullmatch(s)
    if m is None:
        return None
    left, right = m.group(1), m.group(2)
    if _V4_BARE_SHAPE.fullmatch(left) and (
        _V4_BARE_SHAPE.fullmatch(right) or (right.isdigit() and len(right) <= 3)
    ):
        return IPV4
    if _V6_BARE_SHAPE.fullmatch(left) and _V6_BARE_SHAPE.fullmatch(right):
        return IPV6
    return None


# An ipv4 range has no ":" and an ipv6 one has: each text meets the range regex once.


def looks_ipv4(s: str) -> bool:
    """A dotted quad (with a /prefix or a :port) or an a-b range of them. Asked first: no
    other kind's text has this shape."""
    return _V4_SHAPE.fullmatch(s) is not None or ("-" in s and ":" not in s and _range_kind(s) == IPV4)


def looks_ipv6(s: str) -> bool:
    """Colon-hex (bracketed, with a zone, /prefix or port) or an a-b range of them. Asked
    after email: a zone id (``%…``) may hold an ``@``."""
    if ":" not in s:
        return False
    return _V6_SHAPE.fullmatch(s) is not None or ("-" in s and _range_kind(s) == IPV6)


# --------------------------------------------------------------------------------------
# reading addresses, prefixes and ports


def _v4_str(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def v4_fast(s: str) -> int | None:
    """The address as an int if ``s`` is exactly a canonical dotted quad, else None."""
    parts = s.split(".")
    if len(parts) != 4:
        return None
    get = _OCTETS.get
    a, b, c, d = get(parts[0]), get(parts[1]), get(parts[2]), get(parts[3])
    if a is None or b is None or c is None or d is None:
        return None
    return (a << 24) | (b << 16) | (c << 8) | d


def v4_int(s: str) -> int:
    n = v4_fast(s)
    if n is not None:
        return n
    parts = s.split(".")
    if len(parts) != 4:
        raise Invalid("an ipv4 address has four dot-separated octets")
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            raise Invalid(f"octet {p!r} is not a decimal number")
        if len(p) > 1 and p[0] == "0":
            raise Invalid(f"octet {p!r} has a leading zero (ambiguous: octal or decimal?)")
        if int(p) > 255:
            raise Invalid(f"octet {p} is greater than 255")
    raise Invalid("not a valid ipv4 address")  # pragma: no cover - the regex covers the rest


def v6_int(s: str) -> int:
    if "%" in s:
        raise Invalid("zone ids (%...) are not accepted")
    try:
        return int(ipaddress.IPv6Address(s))
    except ipaddress.AddressValueError as e:
        raise Invalid(f"not a valid ipv6 address ({e})") from None


def _prefix(p: str, width: int) -> int:
    if not (p.isascii() and p.isdigit()) or len(p) > 3 or int(p) > width:
        raise Invalid(f"invalid prefix length /{p}")
    return int(p)


def port_number(p: str) -> int:
    if not (p.isascii() and p.isdigit()) or len(p) > 5 or not 0 < int(p) <= 65535:
        raise Invalid(f"invalid port {p!r}")
    return int(p)


# --------------------------------------------------------------------------------------
# canonical values


def v4_value(net: int, plen: int) -> Value:
    if plen == 32:
        if net == 0 or net == V4_ALL:
            raise Invalid(f"{_v4_str(net)} is not an indicator (unspecified or broadcast address)")
        key = ip_bytes(4, net)
        return new_value(IPV4, _v4_str(net), None, 32, key, key, None)
    if plen < _V4_MIN_PREFIX:
        raise Invalid(f"too broad (/{plen}; /{_V4_MIN_PREFIX} is the widest accepted)")
    net &= V4_ALL ^ ((1 << (32 - plen)) - 1)
    last = net | ((1 << (32 - plen)) - 1)
    return new_value(
        IPV4, f"{_v4_str(net)}/{plen}", None, plen, ip_bytes(4, net), ip_bytes(4, last), None
    )


def v6_value(net: int, plen: int) -> Value:
    if net >> 32 == 0xFFFF and plen >= 96:  # IPv4-mapped: store as IPv4
        return v4_value(net & V4_ALL, plen - 96)
    if plen == 128:
        if net == 0:
            raise Invalid(":: is not an indicator (unspecified address)")
        key = ip_bytes(6, net)
        return new_value(IPV6, ipaddress.IPv6Address(net).compressed, None, 128, key, key, None)
    if plen < _V6_MIN_PREFIX:
        raise Invalid(f"too broad (/{plen}; /{_V6_MIN_PREFIX} is the widest accepted)")
    host = (1 << (128 - plen)) - 1
    net &= _V6_ALL ^ host
    text = f"{ipaddress.IPv6Address(net).compressed}/{plen}"
    return new_value(IPV6, text, None, plen, ip_bytes(6, net), ip_bytes(6, net | host), None)


def _one_ip(s: str) -> tuple[Value, bool]:
    """A single address or CIDR, maybe bracketed or with a port; (value, written as v6)."""
    if s[:1] == "[":
        close = s.find("]")
        if close < 0:
            raise Invalid("unbalanced '['")
        inner, after = s[1:close], s[close + 1 :]
        if after:
            if after[0] == ":":
                port_number(after[1:])
            elif after[0] == "/":
                inner += after
            else:
                raise Invalid(f"unexpected {after!r} after ']'")
        s = inner
    elif s.count(":") == 1:
        s, _, port = s.partition(":")
        port_number(port)
    if ":" in s:
        addr, slash, p = s.partition("/")
        n = v6_int(addr)
        return v6_value(n, _prefix(p, 128) if slash else 128), True
    addr, slash, p = s.partition("/")
    return v4_value(v4_int(addr), _prefix(p, 32) if slash else 32), False


def _range_ip(s: str) -> tuple[Value, ...]:
    m = _RANGE_RE.fullmatch(s)
    if m is None:
        raise Invalid("malformed range (expected start-end)")
    left, right = m.group(1).strip("[]"), m.group(2).strip("[]")
    if ":" in left:
        lo, hi = v6_int(left), v6_int(right)
        if lo >> 32 == 0xFFFF and hi >> 32 == 0xFFFF:  # both v4-mapped
            version, lo, hi = 4, lo & V4_ALL, hi & V4_ALL
        else:
            version = 6
    else:
        lo = v4_int(left)
        if right.isdigit() and len(right) <= 3:  # short form 192.0.2.10-20
            right = left.rsplit(".", 1)[0] + "." + right
        if ":" in right:
            raise Invalid("range mixes ipv4 and ipv6")
        hi, version = v4_int(right), 4
    if lo > hi:
        raise Invalid("range start is after its end")
    cidrs = netaddr.iprange_to_cidrs(netaddr.IPAddress(lo, version), netaddr.IPAddress(hi, version))
    build = v4_value if version == 4 else v6_value
    return tuple(build(c.value, c.prefixlen) for c in cidrs)


def _ip(s: str, want: str) -> tuple[Value, ...]:
    if "-" in s:
        values = _range_ip(s)
        written_v6 = values[0].kind == IPV6 or ":" in s
    else:
        value, written_v6 = _one_ip(s)
        values = (value,)
    got = values[0].kind
    if want == IPV4 and got == IPV6:
        raise Invalid("looks like an ipv6 address")
    if want == IPV6 and not written_v6:
        raise Invalid("looks like an ipv4 address")
    return values


def normalize_ipv4(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    return _ip(s, IPV4)


def normalize_ipv6(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    return _ip(s, IPV6)


IPV4_KIND = Kind(IPV4, "an ipv4 address", looks_ipv4, normalize_ipv4)
IPV6_KIND = Kind(IPV6, "an ipv6 address", looks_ipv6, normalize_ipv6)
