"""Turn one raw indicator string into canonical ``Value`` objects.

Every feed line, API submission and search box goes through :func:`normalize`, so the
common cases are hand-written fast paths: a single IPv4 address is split on dots and its
octets looked up in a dict (no ``netaddr``/``ipaddress``), a plain ASCII domain is checked
by one regex (no ``idna``), a URL is split by one regex. The slower libraries are only
reached for what needs them: ``ipaddress`` for IPv6, ``netaddr.iprange_to_cidrs`` for a-b
ranges, ``idna`` for internationalised names and ``phonenumbers`` for phone numbers.

Canonical forms are described in docs/cli.md ("Canonical values"). A value that cannot be
canonicalised raises :class:`NormalizeError` naming the value, the kind tried and why.
What each kind costs is measured in docs/performance.md ("Normalisation").
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import idna
import netaddr
import phonenumbers

from registry.domain.kinds import (
    DOMAIN,
    EMAIL,
    IPV4,
    IPV6,
    KINDS,
    PHONE,
    URL,
    Value,
    ip_bytes,
    new_value,
)

__all__ = ["NormalizeError", "detect_kind", "normalize", "normalize_one", "phone_display", "refang"]


class NormalizeError(ValueError):
    """A raw value that is not a valid indicator of the kind tried."""

    def __init__(self, value: str, kind: str | None, reason: str):
        self.value = value
        self.kind = kind
        self.reason = reason
        super().__init__(f"{value!r} is not a valid {kind or 'indicator'}: {reason}")

    def __reduce__(self):  # keep the three fields across pickling (multiprocessing ingest)
        return (type(self), (self.value, self.kind, self.reason))


class _Invalid(Exception):
    """Internal: carries a reason up to :func:`normalize`, which adds the value and kind."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


_KIND_SET = frozenset(KINDS)
_KIND_LABEL = {
    IPV4: "an ipv4 address",
    IPV6: "an ipv6 address",
    DOMAIN: "a domain",
    URL: "a URL",
    PHONE: "a phone number",
    EMAIL: "an email address",
}


_value = new_value  # positional, all seven fields: the hot paths build millions


# --------------------------------------------------------------------------------------
# refang / cleaning

# Invisible characters dropped anywhere; odd spaces turned into plain spaces.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e\u200e\u200f"
_ODD_SPACES = "\u00a0\u2007\u202f\u3000\u2002\u2003\u2009"
_TRANSLATE = {**dict.fromkeys(map(ord, _INVISIBLE)), **dict.fromkeys(map(ord, _ODD_SPACES), " ")}
_PAIRS = {
    '"': '"',
    "'": "'",
    "`": "`",
    "<": ">",
    "\u201c": "\u201d",
    "\u2018": "\u2019",
    "\u00ab": "\u00bb",
}

_DEFANG_RE = re.compile(
    r"\s*(?P<dot>\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*"
    r"|(?P<css>\[://\])"
    r"|(?P<colon>\[:\])"
    r"|\s*(?P<at>\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)|\{\s*(?:@|at)\s*\})\s*"
    r"|(?P<slash>\[/\])",
    re.IGNORECASE,
)
_DEFANG_TO = {"dot": ".", "css": "://", "colon": ":", "at": "@", "slash": "/"}
_SCHEME_DEFANG_RE = re.compile(r"\b(?:h(?:xx|xt|tx)p(s?)|(f)xp)(?=:)", re.IGNORECASE)


def _defang_sub(m: re.Match) -> str:
    return _DEFANG_TO[m.lastgroup]


def _scheme_sub(m: re.Match) -> str:
    return "ftp" if m.group(2) else "http" + m.group(1).lower()


def refang(text: str) -> str:
    """Undo common defanging and strip the wrapping around one value.

    ``hxxp``/``hxxps``/``fxp`` schemes, ``[.]`` ``(.)`` ``{.}`` ``[dot]``, ``[:]``,
    ``[://]``, ``[@]`` ``[at]``, ``[/]``; BOM and zero-width characters; surrounding
    whitespace, quotes and ``<>``.
    """
    if not text.isascii():
        text = text.translate(_TRANSLATE)
    s = text.strip()
    while len(s) >= 2 and _PAIRS.get(s[0]) == s[-1]:
        s = s[1:-1].strip()
    if "[" in s or "(" in s or "{" in s:
        s = _DEFANG_RE.sub(_defang_sub, s)
    if ":" in s and ("xp" in s or "XP" in s or "Xp" in s or "xP" in s):
        s = _SCHEME_DEFANG_RE.sub(_scheme_sub, s)
    return s


# --------------------------------------------------------------------------------------
# detection

_V4_SHAPE = re.compile(
    r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?:/[0-9]{1,3}|:[0-9]{1,5})?"
)
_V4_BARE_SHAPE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
_V6_SHAPE = re.compile(
    r"\[?[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:%[^\]/\s]*)?(?:\](?::[0-9]{1,5})?)?(?:/[0-9]{1,3})?",
    re.IGNORECASE,
)
_V6_BARE_SHAPE = re.compile(
    r"\[?[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:%[^\]/\s]*)?\]?", re.IGNORECASE
)
_RANGE_RE = re.compile(r"([0-9a-f:.\[\]%]+)\s*-\s*([0-9a-f:.\[\]%]+)", re.IGNORECASE)
_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_SCHEME_ONLY = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?![0-9])")
_PHONE_SHAPE = re.compile(
    r"(?:tel:\s*)?\+?[\d\s().\-/]*\d[\d\s().\-/]*"
    r"(?:\*+|x+|\s*(?:;ext=|ext\.?|extension|x|\#)\s*\d{1,7}|(?:[\s.\-]*(?:\*+|x+))+)?\s*",
    re.IGNORECASE,
)
_SHORT_BLOCK = re.compile(r"[\d\s.\-()]*\d[\s.\-]*(?:\*+|[xX]{2,})")
_DOMAIN_SHAPE = re.compile(r"[^\s/\\@?#]*[.\u3002\uff0e\uff61][^\s/\\@?#]*")


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


def _detect(s: str) -> str | None:
    """Kind of an already refanged, stripped, non-empty value (see ``detect_kind``)."""
    if _V4_SHAPE.fullmatch(s):
        return IPV4
    if "://" in s:
        return URL if _SCHEME_PREFIX.match(s) else None
    if "@" in s:
        return EMAIL
    if ":" in s and _V6_SHAPE.fullmatch(s):
        return IPV6
    if "-" in s:
        kind = _range_kind(s)
        if kind is not None:
            return kind
    if s[:4].lower() == "tel:":
        return PHONE
    if _PHONE_SHAPE.fullmatch(s):
        lead = s.lstrip(" (")
        digits = sum(c.isdigit() for c in s)
        if lead[:1] == "+" or lead[:2] == "00" or digits >= 6:
            return PHONE
        if digits >= 3 and _SHORT_BLOCK.fullmatch(s):  # a short national block: "8123 ****"
            return PHONE
    if _DOMAIN_SHAPE.fullmatch(s):
        return DOMAIN
    return None


def detect_kind(text: str) -> str | None:
    """Guess the kind of one (possibly defanged) value; ``None`` when nothing fits.

    Order: url (``scheme://``) -> email -> ipv4/ipv6 (address, CIDR, a-b range, with a
    port) -> phone (``+``/``00``/``tel:``, digits and separators with >= 6 digits, or a
    block such as ``8123 ****``) -> domain (has a dot and no whitespace, slash or ``@``).
    """
    s = refang(text)
    return _detect(s) if s else None


def _undetected_reason(s: str) -> str:
    head = s.split("/", 1)[0]
    if "/" in s and head and _DOMAIN_SHAPE.fullmatch(head):
        return "not a recognised indicator (looks like a URL without a scheme; give kind 'url')"
    if any(c.isspace() for c in s):
        return "not a recognised indicator (contains whitespace)"
    return "not a recognised indicator"


# --------------------------------------------------------------------------------------
# IP addresses

_V4_MIN_PREFIX = 8
_V6_MIN_PREFIX = 16
_V4_ALL = 0xFFFFFFFF
_V6_ALL = (1 << 128) - 1


def _v4_str(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


# "0".."255" -> int: a dict lookup both validates an octet (no leading zero, <= 255) and
# converts it, faster than a regex plus int().
_OCTETS = {str(i): i for i in range(256)}
_V4_MAPPED = 0xFFFF << 32


def _v4_fast(s: str) -> int | None:
    """The address as an int if ``s`` is exactly a canonical dotted quad, else None."""
    parts = s.split(".")
    if len(parts) != 4:
        return None
    get = _OCTETS.get
    a, b, c, d = get(parts[0]), get(parts[1]), get(parts[2]), get(parts[3])
    if a is None or b is None or c is None or d is None:
        return None
    return (a << 24) | (b << 16) | (c << 8) | d


def _v4_int(s: str) -> int:
    n = _v4_fast(s)
    if n is not None:
        return n
    parts = s.split(".")
    if len(parts) != 4:
        raise _Invalid("an ipv4 address has four dot-separated octets")
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            raise _Invalid(f"octet {p!r} is not a decimal number")
        if len(p) > 1 and p[0] == "0":
            raise _Invalid(f"octet {p!r} has a leading zero (ambiguous: octal or decimal?)")
        if int(p) > 255:
            raise _Invalid(f"octet {p} is greater than 255")
    raise _Invalid("not a valid ipv4 address")  # pragma: no cover - the regex covers the rest


def _v6_int(s: str) -> int:
    if "%" in s:
        raise _Invalid("zone ids (%...) are not accepted")
    try:
        return int(ipaddress.IPv6Address(s))
    except ipaddress.AddressValueError as e:
        raise _Invalid(f"not a valid ipv6 address ({e})") from None


def _prefix(p: str, width: int) -> int:
    if not (p.isascii() and p.isdigit()) or len(p) > 3 or int(p) > width:
        raise _Invalid(f"invalid prefix length /{p}")
    return int(p)


def _port(p: str) -> int:
    if not (p.isascii() and p.isdigit()) or len(p) > 5 or not 0 < int(p) <= 65535:
        raise _Invalid(f"invalid port {p!r}")
    return int(p)


def _v4_value(net: int, plen: int) -> Value:
    if plen == 32:
        if net == 0 or net == _V4_ALL:
            raise _Invalid(f"{_v4_str(net)} is not an indicator (unspecified or broadcast address)")
        key = ip_bytes(4, net)
        return _value(IPV4, _v4_str(net), None, 32, key, key, None)
    if plen < _V4_MIN_PREFIX:
        raise _Invalid(f"too broad (/{plen}; /{_V4_MIN_PREFIX} is the widest accepted)")
    net &= _V4_ALL ^ ((1 << (32 - plen)) - 1)
    last = net | ((1 << (32 - plen)) - 1)
    return _value(
        IPV4, f"{_v4_str(net)}/{plen}", None, plen, ip_bytes(4, net), ip_bytes(4, last), None
    )


def _v6_value(net: int, plen: int) -> Value:
    if net >> 32 == 0xFFFF and plen >= 96:  # IPv4-mapped: store as IPv4
        return _v4_value(net & _V4_ALL, plen - 96)
    if plen == 128:
        if net == 0:
            raise _Invalid(":: is not an indicator (unspecified address)")
        key = ip_bytes(6, net)
        return _value(IPV6, ipaddress.IPv6Address(net).compressed, None, 128, key, key, None)
    if plen < _V6_MIN_PREFIX:
        raise _Invalid(f"too broad (/{plen}; /{_V6_MIN_PREFIX} is the widest accepted)")
    host = (1 << (128 - plen)) - 1
    net &= _V6_ALL ^ host
    text = f"{ipaddress.IPv6Address(net).compressed}/{plen}"
    return _value(IPV6, text, None, plen, ip_bytes(6, net), ip_bytes(6, net | host), None)


def _one_ip(s: str) -> tuple[Value, bool]:
    """A single address or CIDR, maybe bracketed or with a port; (value, written as v6)."""
    if s[:1] == "[":
        close = s.find("]")
        if close < 0:
            raise _Invalid("unbalanced '['")
        inner, after = s[1:close], s[close + 1 :]
        if after:
            if after[0] == ":":
                _port(after[1:])
            elif after[0] == "/":
                inner += after
            else:
                raise _Invalid(f"unexpected {after!r} after ']'")
        s = inner
    elif s.count(":") == 1:
        s, _, port = s.partition(":")
        _port(port)
    if ":" in s:
        addr, slash, p = s.partition("/")
        n = _v6_int(addr)
        return _v6_value(n, _prefix(p, 128) if slash else 128), True
    addr, slash, p = s.partition("/")
    return _v4_value(_v4_int(addr), _prefix(p, 32) if slash else 32), False


def _range_ip(s: str) -> tuple[Value, ...]:
    m = _RANGE_RE.fullmatch(s)
    if m is None:
        raise _Invalid("malformed range (expected start-end)")
    left, right = m.group(1).strip("[]"), m.group(2).strip("[]")
    if ":" in left:
        lo, hi = _v6_int(left), _v6_int(right)
        if lo >> 32 == 0xFFFF and hi >> 32 == 0xFFFF:  # both v4-mapped
            version, lo, hi = 4, lo & _V4_ALL, hi & _V4_ALL
        else:
            version = 6
    else:
        lo = _v4_int(left)
        if right.isdigit() and len(right) <= 3:  # short form 192.0.2.10-20
            right = left.rsplit(".", 1)[0] + "." + right
        if ":" in right:
            raise _Invalid("range mixes ipv4 and ipv6")
        hi, version = _v4_int(right), 4
    if lo > hi:
        raise _Invalid("range start is after its end")
    cidrs = netaddr.iprange_to_cidrs(netaddr.IPAddress(lo, version), netaddr.IPAddress(hi, version))
    build = _v4_value if version == 4 else _v6_value
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
        raise _Invalid("looks like an ipv6 address")
    if want == IPV6 and not written_v6:
        raise _Invalid("looks like an ipv4 address")
    return values


def _norm_ipv4(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    return _ip(s, IPV4)


def _norm_ipv6(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    return _ip(s, IPV6)


# --------------------------------------------------------------------------------------
# domains

# Non-TLD labels may hold underscores (``_dmarc``); the TLD may not, nor be all digits.
_LDH = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?\.)+[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
_BAD_LABEL_CHAR = re.compile(r"[^a-z0-9_\-]")
_IDN_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _label_reason(label: str) -> str:
    if not label:
        return "empty label (leading, trailing or doubled dot)"
    if len(label) > 63:
        return f"label {label[:20]}... is longer than 63 characters"
    bad = _BAD_LABEL_CHAR.search(label)
    if bad:
        if bad.group() == "*":
            return "wildcards are not accepted"
        return f"invalid character {bad.group()!r} in label {label!r}"
    return f"label {label!r} starts or ends with a hyphen"


def _check_labels(labels: list[str], a_name: str) -> None:
    """Whole-name rules shared by the ASCII and IDN paths (labels already valid)."""
    if len(labels) < 2:
        raise _Invalid("needs at least two labels (no dot)")
    if len(a_name) > 253:
        raise _Invalid("longer than 253 characters")
    tld = labels[-1]
    if tld.isdigit():
        raise _Invalid(f"top-level label {tld!r} is all-numeric")
    if "_" in tld:
        raise _Invalid(f"underscore in the top-level label {tld!r}")


def _domain_reason(h: str) -> str:
    labels = h.split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            return _label_reason(label)
    try:
        _check_labels(labels, h)
    except _Invalid as e:
        return e.reason
    return "not a valid domain"  # pragma: no cover


def _canon_idn(host: str) -> tuple[str, str | None]:
    try:
        if host.isascii():
            mapped = host.lower()
        else:
            mapped = idna.uts46_remap(
                host.translate(_IDN_DOTS), std3_rules=False, transitional=False
            )
    except idna.IDNAError as e:
        raise _Invalid(f"invalid internationalised name ({e})") from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    labels = mapped.split(".")
    a_labels: list[str] = []
    u_labels: list[str] = []
    for label in labels:
        if label.isascii():
            if label.startswith("xn--"):
                try:
                    u_labels.append(idna.ulabel(label))
                except (idna.IDNAError, UnicodeError) as e:
                    raise _Invalid(f"label {label!r} is not valid punycode ({e})") from None
            elif _LABEL.fullmatch(label):
                u_labels.append(label)
            else:
                raise _Invalid(_label_reason(label))
            a_labels.append(label)
        else:
            try:
                a_labels.append(idna.alabel(label).decode("ascii"))
            except (idna.IDNAError, UnicodeError) as e:
                raise _Invalid(f"label {label!r} is not a valid IDNA 2008 label ({e})") from None
            u_labels.append(label)
    a_name = ".".join(a_labels)
    _check_labels(a_labels, a_name)
    u_name = ".".join(u_labels)
    return a_name, (u_name if u_name != a_name else None)


def _canon_domain(host: str) -> tuple[str, str | None]:
    """(lowercase A-label name, Unicode form or None); ``host`` has no port."""
    if host.isascii():
        h = host.lower()
        if h[-1:] == ".":
            h = h[:-1]
        if "xn--" not in h:  # fast path: no idna
            if len(h) <= 253 and _LDH.fullmatch(h) and not h[h.rfind(".") + 1 :].isdigit():
                return h, None
            raise _Invalid(_domain_reason(h))
    return _canon_idn(host)


def _norm_domain(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if "://" in s:  # a URL in a feed of domains: take its host
        _scheme, _user, host, uhost, host_kind, _port_text, _rest = _split_url(s)
        if host_kind != DOMAIN:
            raise _Invalid(f"the URL's host is {_KIND_LABEL[host_kind]}, not a domain")
        return (_value(DOMAIN, host, uhost, None, None, None, None),)
    if "@" in s:
        raise _Invalid("looks like an email address")
    if "/" in s:
        if s.find("/") != len(s) - 1:
            raise _Invalid("has a path (looks like a URL without a scheme)")
        s = s[:-1]
    if ":" in s:
        s, _, port = s.rpartition(":")
        _port(port)
    if not s:
        raise _Invalid("empty value")
    a, u = _canon_domain(s)
    return (_value(DOMAIN, a, u, None, None, None, None),)


# --------------------------------------------------------------------------------------
# URLs

_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)(.*)", re.DOTALL)
_SCHEMES = frozenset({"http", "https", "ftp", "sftp", "ws", "wss", "tcp", "udp"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


def _split_url(s: str) -> tuple[str, str | None, str, str | None, str, int | None, str]:
    """(scheme, userinfo, canonical host, unicode host, host kind, port, rest)."""
    m = _URL_RE.fullmatch(s)
    if m is None:
        raise _Invalid("not a URL (no scheme://)")
    scheme, authority, rest = m.groups()
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise _Invalid(f"unsupported scheme {scheme!r}")
    userinfo, at, hostport = authority.rpartition("@")
    port: int | None = None
    uhost: str | None = None
    if hostport[:1] == "[":
        close = hostport.find("]")
        if close < 0:
            raise _Invalid("unbalanced '[' in the host")
        after = hostport[close + 1 :]
        if after:
            if after[0] != ":":
                raise _Invalid(f"unexpected {after!r} after the host")
            port = _port(after[1:]) if len(after) > 1 else None
        ip = _v6_value(_v6_int(hostport[1:close]), 128) if close > 1 else None
        if ip is None:
            raise _Invalid("no host")
        host_kind = ip.kind
        host = f"[{ip.value}]" if ip.kind == IPV6 else ip.value
    else:
        host, colon, port_text = hostport.rpartition(":")
        if not colon:
            host = hostport
        elif port_text:
            port = _port(port_text)
        if not host:
            raise _Invalid("no host")
        if _V4_BARE_SHAPE.fullmatch(host):
            host_kind = IPV4
            _v4_int(host)  # validates; the strict form is already canonical
        else:
            host_kind = DOMAIN
            host, uhost = _canon_domain(host)
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    return scheme, (userinfo if at else None), host, uhost, host_kind, port, rest


def _norm_url(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if "://" not in s and explicit:
        if s.startswith("//"):
            s = "http:" + s
        else:
            m = _SCHEME_ONLY.match(s)
            if m is not None and "." not in m.group(1):
                raise _Invalid(f"unsupported scheme {m.group(1).lower()!r}")
            kind = _detect(s)
            if kind in (EMAIL, PHONE):
                raise _Invalid(f"looks like {_KIND_LABEL[kind]}")
            if kind == IPV6 and s[:1] != "[":
                if "/" in s or "-" in s:
                    raise _Invalid("looks like an ipv6 network or range")
                s = f"[{s}]"
            s = "http://" + s
    scheme, userinfo, host, uhost, _kind, port, rest = _split_url(s)
    user = f"{userinfo}@" if userinfo is not None else ""
    tail = f":{port}{rest}" if port is not None else rest
    value = f"{scheme}://{user}{host}{tail}"
    display = f"{scheme}://{user}{uhost}{tail}" if uhost is not None else None
    return (_value(URL, value, display, None, None, None, None),)


# --------------------------------------------------------------------------------------
# email


def _norm_email(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if s[:7].lower() == "mailto:":
        s = s[7:].split("?", 1)[0].strip()
    n_at = s.count("@")
    if n_at == 0:
        raise _Invalid("missing '@'")
    if n_at > 1:
        raise _Invalid("more than one '@'")
    if any(c.isspace() for c in s):
        raise _Invalid("contains whitespace")
    local, _, dom = s.partition("@")
    if not local:
        raise _Invalid("missing local part")
    if len(local) > 64:
        raise _Invalid("local part longer than 64 characters")
    if not dom:
        raise _Invalid("missing domain")
    if dom[:1] == "[" or _V4_BARE_SHAPE.fullmatch(dom):
        raise _Invalid("address literals are not accepted as email domains")
    a, u = _canon_domain(dom)
    return (_value(EMAIL, f"{local}@{a}", f"{local}@{u}" if u else None, None, None, None, None),)


# --------------------------------------------------------------------------------------
# phone numbers

_PNT = phonenumbers.PhoneNumberType
_TYPE_NAMES = {getattr(_PNT, n): n.lower() for n in dir(_PNT) if n.isupper()}
_UNKNOWN = _PNT.UNKNOWN
_INTL = phonenumbers.PhoneNumberFormat.INTERNATIONAL
_NSN = phonenumbers.national_significant_number
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}
_VR = phonenumbers.ValidationResult
# parse's own steps, which _parsed_alike repeats (phonenumbers has no public name for them)
_strip_national_prefix = phonenumbers.phonenumberutil._maybe_strip_national_prefix_carrier_code
_test_number_length = phonenumbers.phonenumberutil._test_number_length
_LENGTH_WHY = {
    _VR.TOO_SHORT: "too short",
    _VR.TOO_LONG: "too long",
    _VR.INVALID_LENGTH: "invalid length",
}
_NO_REGION = "national number without a region (give --region or use +CC)"

_PHONE_BODY = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*")
_PHONE_EXT = re.compile(r"(?:;ext=|ext\.?|extension|x|\#)\s*\d{1,7}\s*$", re.IGNORECASE)
_PHONE_BLOCK = re.compile(r"(?:[\s.\-]*(?:\*+|[xX]+))+\s*$")


@lru_cache(maxsize=512)
def _region(region: str) -> str:
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise _Invalid(f"unknown region {region!r} (expected an ISO 3166 alpha-2 code)")
    return code


def _country_code(digits: str) -> int | None:
    for size in (1, 2, 3):
        cc = int(digits[:size]) if len(digits) >= size else None
        if cc is not None and cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return cc
    return None


def _where(cc: int) -> str:
    region = phonenumbers.region_code_for_country_code(cc)
    return region if region != "ZZ" else f"+{cc}"


def _phone_reason(num: phonenumbers.PhoneNumber) -> str:
    where = _where(num.country_code)
    why = phonenumbers.is_possible_number_with_reason(num)
    if why in (_VR.IS_POSSIBLE, _VR.IS_POSSIBLE_LOCAL_ONLY):
        return f"not a valid number for region {where}"
    if why == _VR.INVALID_COUNTRY_CODE:
        return f"unknown country code +{num.country_code}"
    return f"not a possible number for {where} ({_LENGTH_WHY.get(why, 'invalid')})"


def _parse_phone(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        raise _Invalid(_PARSE_ERRORS.get(e.error_type, str(e))) from None


def _phone_block(body: str, region: str | None) -> Value:
    body = body.strip()
    if not _PHONE_BODY.fullmatch(body):
        raise _Invalid("not a phone number block")
    digits = phonenumbers.normalize_digits_only(body)
    if body.lstrip("(")[:1] == "+":
        pass
    elif digits[:2] == "00":
        digits = digits[2:]
    else:
        if region is None:
            raise _Invalid(_NO_REGION)
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        national_prefix = meta.national_prefix if meta is not None else None
        if national_prefix and digits.startswith(national_prefix):
            digits = digits[len(national_prefix) :]
        digits = f"{meta.country_code}{digits}"
    cc = _country_code(digits)
    if cc is None:
        raise _Invalid("unknown country code")
    if len(digits) - len(str(cc)) < 2:
        raise _Invalid("a block needs the country code and at least 2 more digits")
    if len(digits) > 15:
        raise _Invalid("too long (E.164 numbers have at most 15 digits)")
    return _value(PHONE, f"+{digits}*", None, len(digits), None, None, "block")


def _norm_phone(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    t = s
    if t[:4].lower() == "tel:":
        t = t[4:].lstrip()
    if region is not None:
        region = _region(region)
    if _PHONE_EXT.search(t):
        raise _Invalid("extensions are not accepted")
    block = _PHONE_BLOCK.search(t)
    if block is not None:
        return (_phone_block(t[: block.start()], region),)
    if not _PHONE_BODY.fullmatch(t):
        if any(c.isalpha() for c in t):
            raise _Invalid("contains letters")
        raise _Invalid("contains characters that are not part of a phone number")
    lead = t.lstrip(" (")
    double_zero = lead[:2] == "00"
    if double_zero:
        text = "+" + lead[2:]
    elif lead[:1] == "+":
        text = t
    elif region is None:
        raise _Invalid(_NO_REGION)
    else:
        text = t
    e164 = text[:1] == "+"
    num = _e164_number(text.translate(_SEPARATORS)) if e164 else _national_number(text, region)
    ntype = _number_type(num) if num is not None else _UNKNOWN
    if ntype == _UNKNOWN and e164 and not double_zero and num is not None and _parsed_alike(num):
        raise _Invalid(_phone_reason(num))  # invalid, and the full parser would read the same number
    if ntype == _UNKNOWN:  # no fast path, or an odd number: the full parser gives the exact reason
        num = _parse_phone(text, region)
        ntype = phonenumbers.number_type(num)  # UNKNOWN exactly when is_valid_number is False
    if ntype == _UNKNOWN and double_zero and region is not None:
        # "00" may be part of a national number or the region's own IDD (SG 001, ...)
        try:
            other = phonenumbers.parse(t, region)
        except phonenumbers.NumberParseException:
            other = None
        if other is not None and (other_type := phonenumbers.number_type(other)) != _UNKNOWN:
            num, ntype = other, other_type
    if ntype == _UNKNOWN:
        raise _Invalid(_phone_reason(num))
    if num.extension:
        raise _Invalid("extensions are not accepted")
    e164 = f"+{num.country_code}{_NSN(num)}"
    # No display form here: formatting costs as much again as validating, on every feed line;
    # the output layer asks phone_display() for the few values it shows.
    return (_value(PHONE, e164, None, None, None, None, _TYPE_NAMES.get(ntype, "unknown")),)


_E164 = re.compile(r"\+[1-9]\d{6,14}")

# phonenumbers.number_type, in its order: the special types first, then fixed line / mobile.
_SPECIAL_TYPES = (
    ("premium_rate", _PNT.PREMIUM_RATE), ("toll_free", _PNT.TOLL_FREE), ("shared_cost", _PNT.SHARED_COST),
    ("voip", _PNT.VOIP), ("personal_number", _PNT.PERSONAL_NUMBER), ("pager", _PNT.PAGER), ("uan", _PNT.UAN),
    ("voicemail", _PNT.VOICEMAIL),
)


def _desc_check(desc):
    """(possible lengths, compiled pattern) of a PhoneNumberDesc, or None where it never matches."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=512)
def _type_table(country_code: int):
    """The metadata number_type consults for a country code served by one region, compiled
    once; None where phonenumbers must decide (shared codes such as +1, +7, +44)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions or len(regions) != 1:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    if meta is None:
        return None
    specials = tuple((check, ntype) for name, ntype in _SPECIAL_TYPES if (check := _desc_check(getattr(meta, name))))
    return (_desc_check(meta.general_desc), specials, _desc_check(meta.fixed_line), _desc_check(meta.mobile),
            bool(meta.same_mobile_and_fixed_line_pattern))


def _matches(check, nsn: str) -> bool:
    if check is None:
        return False
    lengths, pattern = check
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def _number_type(num: phonenumbers.PhoneNumber) -> int:
    """``phonenumbers.number_type`` for the fast paths' numbers (no leading zero), from
    compiled tables, much cheaper (docs/performance.md), on every phone number of every feed."""
    table = _type_table(num.country_code) if not num.italian_leading_zero else None
    if table is None:
        return phonenumbers.number_type(num)
    return _table_type(table, str(num.national_number))


def _table_type(table, nsn: str) -> int:
    general, specials, fixed, mobile, same = table
    if not _matches(general, nsn):
        return _UNKNOWN
    for check, ntype in specials:
        if _matches(check, nsn):
            return ntype
    if _matches(fixed, nsn):
        return _PNT.FIXED_LINE_OR_MOBILE if same or _matches(mobile, nsn) else _PNT.FIXED_LINE
    if not same and _matches(mobile, nsn):
        return _PNT.MOBILE
    return _UNKNOWN


@lru_cache(maxsize=512)
def _region_metadata(country_code: int):
    """The metadata of the one region behind a country code (None for shared codes)."""
    if _type_table(country_code) is None:
        return None
    region = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code][0]
    return phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)


_KEEPS_PREFIX = (_VR.TOO_SHORT, _VR.IS_POSSIBLE_LOCAL_ONLY, _VR.INVALID_LENGTH)


def _parsed_alike(num: phonenumbers.PhoneNumber) -> bool:
    """Whether phonenumbers.parse reads ``+<code><national>`` as this very number: true unless
    it would strip a national prefix or carrier code from the national part (parse's own
    rule, applied here without the rest of parse, which an invalid number would pay for)."""
    meta = _region_metadata(num.country_code)
    if meta is None:
        return False
    national = str(num.national_number)
    _, stripped, _ = _strip_national_prefix(national, meta)
    return stripped == national or _test_number_length(stripped, meta) in _KEEPS_PREFIX


def _e164_number(text: str) -> phonenumbers.PhoneNumber | None:
    """The number for text already in E.164 form, without phonenumbers.parse (the costliest step: docs/performance.md).

    Only ``+`` and digits qualify; national numbers with a leading zero after the country
    code (Italy's) and anything with separators go through the full parser.
    """
    parts = _e164_parts(text)
    return None if parts is None else _phone_number(*parts)


def _phone_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))


def _e164_fast(s: str, region: str | None) -> Value | None:
    """A valid number already in canonical E.164 form, straight from the compiled tables (a
    third of ``_norm_phone``'s cost); None leaves it, and every invalid one, to the full path."""
    if region is not None:
        try:
            _region(region)
        except _Invalid:
            return None  # the full path names the unknown region
    parts = _e164_parts(s)
    if parts is None:
        return None
    table = _type_table(parts[0])
    if table is None:
        return None
    ntype = _table_type(table, parts[1])
    if ntype == _UNKNOWN:
        return None
    return _value(PHONE, s, None, None, None, None, _TYPE_NAMES.get(ntype, "unknown"))


def _e164_parts(text: str) -> tuple[int, str] | None:
    """(country code, national significant number) of what ``_e164_number`` accepts."""
    if not _E164.fullmatch(text):
        return None
    digits = text[1:]
    cc = _country_code(digits)
    if cc is None:
        return None
    national = digits[len(str(cc)) :]
    if not national or national[0] == "0":
        return None
    return cc, national


_SEPARATORS = str.maketrans("", "", " -.()")


@lru_cache(maxsize=512)
def _national_rule(region: str) -> tuple[int, str] | None:
    """(country code, national prefix) when a region's numbers parse by plain prefix stripping."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or not meta.national_prefix:
        return None
    if meta.national_prefix_for_parsing not in (None, meta.national_prefix) or meta.national_prefix_transform_rule:
        return None  # carrier codes, transforms (JP, CN, …): the full parser knows them
    return meta.country_code, meta.national_prefix


def _national_number(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """A national number (``081-234-5678``, region TH) without phonenumbers.parse, when the
    region's rule is plain prefix stripping; None sends the text through the full parser."""
    if region is None:
        return None
    rule = _national_rule(region)
    if rule is None:
        return None
    digits = text.translate(_SEPARATORS)
    cc, prefix = rule
    if not digits.isdigit() or not digits.startswith(prefix) or not 6 <= len(digits) <= 15:
        return None
    national = digits[len(prefix) :]
    if not national or national[0] == "0":
        return None
    return phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))


@lru_cache(maxsize=65536)
def phone_display(e164: str) -> str | None:
    """``+66812345678`` → ``+66 81 234 5678`` (international format), for showing people."""
    parts = _e164_parts(e164)  # canonical values take the fast path; parse only odd ones
    if parts is not None and (shown := _formatted(*parts)) is not None:
        return shown
    try:
        return phonenumbers.format_number(_phone_number(*parts) if parts else phonenumbers.parse(e164, None), _INTL)
    except phonenumbers.NumberParseException:
        return None


def _formatted(country_code: int, nsn: str) -> str | None:
    """``phonenumbers.format_number(…, INTERNATIONAL)`` from compiled formats (cheaper,
    and a batch lookup shows every number it answers); None where phonenumbers must decide."""
    formats = _display_formats(country_code)
    if formats is None:
        return None
    for leading, pattern, template in formats:  # phonenumbers' own choice: the first that fits
        if (leading is None or leading.match(nsn)) and (groups := pattern.fullmatch(nsn)):
            return None if template is None else f"+{country_code} {template.format(*groups.groups())}"
    return f"+{country_code} {nsn}"


@lru_cache(maxsize=512)
def _display_formats(country_code: int):
    """(leading digits, pattern, format) of each international format, compiled, for a country
    code served by one region (as ``_type_table``); None otherwise."""
    meta = _region_metadata(country_code)
    if meta is None:
        return None
    return tuple(
        (re.compile(f.leading_digits_pattern[-1]) if f.leading_digits_pattern else None, re.compile(f.pattern),
         _as_format_string(f.format))
        for f in (meta.intl_number_format or meta.number_format)
    )


def _as_format_string(template: str) -> str | None:
    """A metadata format (``\\1 \\2-\\3``) as a str.format string (``{0} {1}-{2}``), cheaper
    than re.sub's template; None for "NA" (not formatted internationally)."""
    if template == "NA":
        return None
    escaped = template.replace("{", "{{").replace("}", "}}")
    return re.sub(r"\\(\d)", lambda m: "{" + str(int(m.group(1)) - 1) + "}", escaped)


# --------------------------------------------------------------------------------------
# entry points

_HANDLERS = {
    IPV4: _norm_ipv4,
    IPV6: _norm_ipv6,
    DOMAIN: _norm_domain,
    URL: _norm_url,
    PHONE: _norm_phone,
    EMAIL: _norm_email,
}

# Explicit kind -> detected kinds for which the handler's own reason is the better one.
_COMPATIBLE = {
    DOMAIN: frozenset({URL}),
    URL: frozenset({DOMAIN, IPV4, IPV6}),
}


def normalize(raw: str, kind: str | None = None, region: str | None = None) -> tuple[Value, ...]:
    """Canonical values for one raw indicator (an a-b IP range gives several CIDRs).

    ``kind`` forces the kind (one of ``KINDS``); ``None`` detects it. ``region`` is the
    ISO 3166 alpha-2 default region for national phone numbers. Raises
    :class:`NormalizeError` naming the value, the kind tried and the reason.
    """
    if not isinstance(raw, str):
        raise NormalizeError(repr(raw), kind, f"expected a string, got {type(raw).__name__}")
    if kind is not None and kind not in _KIND_SET:
        raise NormalizeError(raw, kind, f"unknown kind (expected one of {', '.join(KINDS)})")
    s = refang(raw)
    # Fast paths for the two commonest feed lines, checked before any detection:
    if kind is None or kind == IPV4:  # a plain dotted quad (canonical as written)
        n = _v4_fast(s)
        if n is not None and 0 < n < _V4_ALL:
            key = (n | _V4_MAPPED).to_bytes(16, "big")  # == ip_bytes(4, n)
            return (_value(IPV4, s, None, 32, key, key, None),)
    if (kind is None or kind == PHONE) and s[:1] == "+" and s[1:].isdigit():  # E.164 as written
        value = _e164_fast(s, region)
        if value is not None:
            return (value,)
    if (kind is None or kind == DOMAIN) and s.isascii():
        # An ASCII name matching the LDH regex needs no idna. Without a kind it must not
        # be something detection would call a phone ("097.123.xxxx" is a number block):
        # phone shapes start with a digit, "+" or "(" and end in digits, x's or "*", so
        # a name starting with a letter or ending in a TLD of letters (not only x's) is
        # a domain.
        h = s.lower()
        if "xn--" not in h and len(h) <= 253 and _LDH.fullmatch(h):
            tld = h[h.rfind(".") + 1 :]
            if (tld.isalpha() and tld.strip("x")) or (
                not tld.isdigit() and (kind is not None or h[0].isalpha())
            ):
                return (_value(DOMAIN, h, None, None, None, None, None),)
    explicit = kind is not None
    try:
        if not s:
            raise _Invalid("empty value")
        if s[-1] == "\u2026":
            if kind is None and len(s) > 1:
                kind = _detect(s[:-1].rstrip())
            raise _Invalid("truncated (ends with \u2026)")
        if kind is None:
            kind = _detect(s)
            if kind is None:
                raise _Invalid(_undetected_reason(s))
        if not s.isprintable():
            raise _Invalid("contains control or invisible characters")
        return _HANDLERS[kind](s, region, explicit)
    except _Invalid as e:
        reason = e.reason
        if explicit and not reason.startswith("looks like"):
            seen = _detect(s) if s else None
            if seen is not None and seen != kind and seen not in _COMPATIBLE.get(kind, ()):
                reason = f"looks like {_KIND_LABEL[seen]}; {reason}"
        raise NormalizeError(raw, kind, reason) from None


def normalize_one(raw: str, kind: str | None = None, region: str | None = None) -> Value:
    """Like :func:`normalize` but for exactly one value (an a-b range must be one CIDR)."""
    values = normalize(raw, kind, region)
    if len(values) != 1:
        raise NormalizeError(
            raw, values[0].kind, f"expands to {len(values)} values (a range that is not one CIDR)"
        )
    return values[0]
