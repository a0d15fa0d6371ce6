"""Plain lists (format ``text``): one value a line, in the shapes real lists come in.

``parse_text`` is a generator over ``textio.iter_lines``: memory stays flat whatever the
size of the feed. It yields ``Record`` (a raw value and its line) and ``Skipped`` (a line
that is not valid UTF-8); it never decides whether a value is a real IP, domain, URL or
phone number, that is normalisation's job, which reports its own rejects.

For each line:

1. Blank lines are ignored. Lines starting with ``#`` or ``;`` are comments (FireHOL
   netset/ipset headers, Spamhaus headers and its ``; EOF`` marker).
2. A trailing remark starting with whitespace then ``#`` or ``;`` is dropped
   (``1.10.16.0/20 ; SBL256894`` gives ``1.10.16.0/20``). A ``#`` with no space before it
   stays (a URL fragment). A leading list bullet (``-``, ``*``, ``•`` then a space) is
   dropped.
3. Hosts-file lines: ``0.0.0.0 evil.example`` (also ``127.0.0.1``, ``::``, ``::1``) give
   each host name after the address, not the address; the usual boilerplate names
   (``localhost``, ``broadcasthost``, ``ip6-…``) give nothing.
4. Otherwise a tab ends the value: ``value<TAB>anything`` gives ``value``.
5. Commas separate values: ``a,b,c`` gives three records (the one-line, comma-joined
   number lists phone apps export). In a line holding a URL (``://``), only a comma
   followed by another URL scheme separates, since URLs may contain commas.
6. Within each comma-separated part:
   - a single token is the value;
   - an address range ``1.2.3.4 - 1.2.3.9`` is one value, as written;
   - a phone number written with spaces (``+66 81 234 5678``, ``(02) 123 4567``,
     ``081 234 5678``): the leading run of tokens made only of digits, ``+``, ``-``, ``.``,
     ``(``, ``)`` (at least 5 digits; no IPv4 address or ``YYYY-MM-DD`` date in it) is one
     value, and whatever follows it is a remark (``081 234 5678 call centre``); but when
     the part is only such tokens and each has 7 digits or more, each token is a number
     of its own (``0812345678 0823456789``);
   - a part that kind detection reads whole as a bank account (``KBank 123-4-56789-0``, an
     IBAN in groups of four), a crypto wallet (``USDT-TRC20: T…``, ``ERC20 0x…``), a user
     account or one file's hashes (``md5:… sha256:…``) is one value;
   - leading timestamps and separator tokens (``2021-04-08``, ``12:30``, ``-``, ``|``,
     ``=>``) are dropped first (``2021-04-08 - 1-909-741-1518 (repeat)``);
   - when every token but separators looks like an indicator (IP, CIDR, domain, URL,
     e-mail, possibly defanged), each is a value (``1.2.3.4 evil.example``,
     ``9ygw2[.]com - 185.183.162[.]169``);
   - otherwise the first token is the value and the rest a remark (``1.2.3.4 scanner``).
7. A vCard file (first line ``BEGIN:VCARD``, as scam-number lists are often shared as
   contacts) gives the value of each ``TEL`` and ``EMAIL`` property and nothing else.

Every record from a line carries that line's number and text, so a value that turns out to
be junk (prose, a truncated URL) is reported by normalisation with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from registry.domain.kinds import BANK_ACCOUNT, CRYPTO_WALLET, FILE_HASH, USER_ACCOUNT
from registry.domain.normalize import detect_kind
from registry.ingest.records import Record, Skipped, clip_line
from registry.ingest.textio import NOT_UTF8, iter_lines

# ---------------------------------------------------------------------------------------
# Token shapes (format detection also asks whether cells look like indicators)

_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV4_START = re.compile(_IPV4)
_IP_RANGE = re.compile(
    rf"(?:{_IPV4}\s*-\s*{_IPV4}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\s*-\s*[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)"
)
_REFANG = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[@\]|\[at\]", re.IGNORECASE)
_REFANG_TO = {"[:]": ":", "[@]": "@", "[at]": "@"}
_INDICATOR = re.compile(
    r"""
    (?:[a-z][a-z0-9+.\-]*|hxxps?)://\S+                         # URL
    | [^\s@]+@(?:[\w-]+\.)+[\w-]+                               # e-mail
    | \d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2}|:\d{1,5})?             # IPv4, CIDR, with port
    | \[?[0-9a-f:]*::[0-9a-f:.]*\]?(?:/\d{1,3}|:\d{1,5})?         # IPv6 with ::
    | \[?(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\]?(?:/\d{1,3}|:\d{1,5})?  # IPv6, 8 groups
    | (?:[\w-]+\.)+(?:[^\W\d_][\w-]*)\.?(?::\d{1,5})?(?:/\S*)?  # host name (last label: letter)
    """,
    re.IGNORECASE | re.VERBOSE,
)


def looks_like_indicator(token: str) -> bool:
    """Whether ``token`` (possibly defanged) has the shape of an IP, CIDR, domain, URL or e-mail."""
    token = _REFANG.sub(lambda m: _REFANG_TO.get(m.group().lower(), "."), token)
    return _INDICATOR.fullmatch(token) is not None


# ---------------------------------------------------------------------------------------
# Plain lists

#: What starts a comment line in a plain list.
COMMENT_START = ("#", ";")
_REMARK = re.compile(r"\s[#;]")
_BULLET = re.compile(r"[-*\u2022]\s+")
_HOSTS_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::0", "::1"})
_HOSTS_BOILERPLATE = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",
    }
)
_URL_SPLIT = re.compile(r",\s*(?=(?:[a-z][a-z0-9+.\-]*|hxxps?)(?::|\[:\])//)", re.IGNORECASE)
_PHONE_FIRST = re.compile(r"[+(]*[\d().\-]*\d[\d().\-]*\*?")
_PHONE_MORE = re.compile(r"[\d().\-]+\*?")
_SIMPLE = re.compile(r"[^\s,]+")
_PHONE_ONLY = re.compile(r"[+(]*[\d().\-]*\d[\d().\- \t]*\*?")
_DIGIT = re.compile(r"\d")
_SEPARATOR = re.compile(r"[-|:=>\u2013\u2014]+")
_FILLER = re.compile(
    r"[-|:=>\u2013\u2014]+"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]?\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # 2021-04-08 is never part of a phone number
_TOKEN = re.compile(r"\S+")
# Kinds whose written forms hold spaces: "KBank 123-4-56789-0", an IBAN in groups of four,
# "USDT-TRC20: T…", "md5:… sha256:…" (one file's hashes) are one value each.
_SPACED_KINDS = frozenset({BANK_ACCOUNT, CRYPTO_WALLET, FILE_HASH, USER_ACCOUNT})
_VCARD_VALUE = re.compile(r"(?:[\w-]+\.)?(?:TEL|EMAIL)(?:;[^:]*)?:(.*)", re.IGNORECASE)


def _is_phone(part: str) -> bool:
    """Only phone-number characters, at least 5 digits, no IPv4 address or date inside."""
    return (
        _PHONE_ONLY.fullmatch(part) is not None
        and _IPV4_START.search(part) is None
        and _DATE.search(part) is None
        and len(_DIGIT.findall(part)) >= 5
    )


def _phone_values(part: str) -> list[str] | None:
    """``part`` as phone numbers when it holds nothing else: one number written with spaces
    (``+66 81 234 5678``), or several whole numbers separated by spaces (every token with 7
    digits or more: ``0812345678 0823456789``). None otherwise."""
    if not _is_phone(part):
        return None
    tokens = part.split()
    if len(tokens) > 1 and all(len(_DIGIT.findall(t)) >= 7 for t in tokens):
        return tokens
    return [part]


def _phone_run(part: str, tokens: list[re.Match[str]]) -> str | None:
    """The phone number written with spaces at the start of ``part``, if there is one."""
    first = tokens[0].group()
    if not _PHONE_FIRST.fullmatch(first) or _IPV4_START.match(first) or _DATE.match(first):
        return None
    end = 0
    digits = 0
    for i, m in enumerate(tokens):
        tok = m.group()
        if i and (not _PHONE_MORE.fullmatch(tok) or _IPV4_START.match(tok) or _DATE.match(tok)):
            break
        if any(c.isdigit() for c in tok):
            end = m.end()
            digits += sum(c.isdigit() for c in tok)
    if end <= tokens[0].end() or digits < 5:  # a run of one token is just the first token
        return None
    return part[:end]


def _single_value(part: str) -> bool:
    """Whether ``part`` reads as exactly one value (or nothing)."""
    tokens = list(_TOKEN.finditer(part))
    if len(tokens) <= 1 or _IP_RANGE.fullmatch(part):
        return True
    return _phone_values(part) is not None


def _part_values(part: str) -> list[str]:
    tokens = list(_TOKEN.finditer(part))
    if not tokens:
        return []
    if len(tokens) == 1:
        return [tokens[0].group()]
    # Leading timestamps and separators are not values: `2021-04-08 - 1-909-741-1518`.
    skip = 0
    while skip < len(tokens) - 1 and _FILLER.fullmatch(tokens[skip].group()):
        skip += 1
    if skip:
        offset = tokens[skip].start()
        part = part[offset:]
        tokens = list(_TOKEN.finditer(part))
        if len(tokens) == 1:
            return [part]
    if _IP_RANGE.fullmatch(part):
        return [part]
    phones = _phone_values(part)
    if phones is not None:
        return phones
    phone = _phone_run(part, tokens)
    if phone is not None:
        return [phone]
    if detect_kind(part) in _SPACED_KINDS:
        return [part]
    words = [m.group() for m in tokens]
    meaningful = [w for w in words if not _SEPARATOR.fullmatch(w)]
    if meaningful and all(looks_like_indicator(w) for w in meaningful):
        return meaningful  # `1.2.3.4 evil.example`, `9ygw2[.]com - 185.183.162[.]169`
    return [words[0]]


def plain_values(line: str) -> list[str]:
    """The raw values in one line of a plain list, by the rules in the module docstring."""
    s = line.strip()
    if not s or s.startswith(COMMENT_START):
        return []
    if _SIMPLE.fullmatch(s):  # the common case: one token, no comma
        return [s]
    phones = _phone_values(s)  # the next most common: phone numbers written with spaces
    if phones is not None:
        return phones
    m = _REMARK.search(s)
    if m:
        s = s[: m.start()].rstrip()
    m = _BULLET.match(s)
    if m:
        s = s[m.end() :]
    if not s:
        return []
    words = s.split()
    if len(words) > 1:
        if all(w.lower() in _HOSTS_BOILERPLATE for w in words[1:]):
            return []
        if words[0] in _HOSTS_ADDRESSES:
            return [w for w in words[1:] if w.lower() not in _HOSTS_BOILERPLATE]
    if "\t" in s:
        s = s.split("\t", 1)[0].strip()
    parts = [s]
    if "," in s:
        split = _URL_SPLIT.split(s) if ("://" in s or "[:]//" in s) else s.split(",")
        # A list of values only when each part is one value; `1.2.3.4 scan, brute force`
        # is a value and a remark.
        if all(_single_value(p.strip()) for p in split):
            parts = split
    values: list[str] = []
    for part in parts:
        values.extend(_part_values(part.strip()))
    return values


def _vcard_values(line: str) -> list[str]:
    m = _VCARD_VALUE.fullmatch(line.strip())
    if not m:
        return []
    value = m.group(1).strip()
    for scheme in ("tel:", "mailto:"):
        if value[: len(scheme)].lower() == scheme:
            value = value[len(scheme) :].strip()
    return [value] if value else []


def vcard_start(piece: bytes) -> bool | None:
    """Whether a plain list whose first lines are ``piece`` is a vCard file (``parse_text``'s
    rule 7), or None while ``piece`` holds only blank lines."""
    for line in piece.splitlines():
        text = line.decode("utf-8", "replace").strip()
        if text:
            return text.upper() == "BEGIN:VCARD"
    return None


def _undecodable(line_no: int, raw: bytes) -> Skipped:
    return Skipped(line_no, clip_line(raw.decode("utf-8", "replace")), NOT_UTF8)


def parse_text(stream: BinaryIO, *, name: str = "<input>", vcard: bool | None = None, first_line: int = 1,
               whole: bool = True) -> Iterator[Record | Skipped]:
    """Yield a ``Record`` per value of a plain list (rules in the module docstring) and a
    ``Skipped`` per line that is not valid UTF-8. ``vcard``: whether the file is a vCard
    file, when already known (else its first line decides); ``first_line``, ``whole``: for a
    piece of a file (see ``textio.line_chunks``)."""
    for line_no, text, raw in iter_lines(stream, name=name, first_line=first_line, whole=whole):
        if text is None:
            yield _undecodable(line_no, raw)
            continue
        if vcard is None:
            if not text.strip():
                continue
            vcard = text.strip().upper() == "BEGIN:VCARD"
        values = _vcard_values(text) if vcard else plain_values(text)
        if values:
            kept = clip_line(text)
            for value in values:
                yield Record(line_no=line_no, value=value, line=kept)

