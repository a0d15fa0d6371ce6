"""Parsers for plain lists (``text``) and ``csv``, and content-based format detection.

Both parsers are generators over ``textio.iter_lines``: memory stays flat whatever the
size of the feed. They yield ``Record`` (a raw value and the row's hints) and ``Skipped``
(a data line the parser could not use); they never decide whether a value is a real IP,
domain, URL or phone number, that is normalisation's job, which reports its own rejects.

Plain lists (``parse_text``)
----------------------------
One value per line, in the shapes real lists come in. For each line:

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

CSV (``parse_csv``)
-------------------
The ``csv`` module reads the rows (quoted fields, commas inside quotes, doubled quotes,
quoted fields spanning several lines: a record's ``line_no`` is the row's first line).
Lines starting with ``#`` between rows are comments; the header may be the first row
(quoted or not) or, as abuse.ch publishes, a comment line such as
``# id,dateadded,url,...`` or ``# "first_seen_utc","ioc_id",...`` just before the data.
The delimiter is sniffed among ``,``, tab, ``;`` and ``|`` from the first rows;
``skipinitialspace`` is on, so ThreatFox's ``", "`` separators read cleanly. ``None``,
``null`` and empty cells are empty. Rows longer than the header are fine; a row too short
for the value column, with an empty value, or with undecodable bytes is ``Skipped``.
A row repeating the header is ignored.

Format detection (``detect_format``)
------------------------------------
From the first 64 KiB: JSON that is a STIX bundle is ``stix``; a MISP event
(``{"Event": ...}``, ``{"response": [{"Event": ...}]}``, a list of events) or a MISP feed
``manifest.json`` is ``misp``; one JSON object per line is ``jsonl``; any other JSON
document is refused. A first data line that is a CSV header, a header inside a ``#``
comment naming a value column, or a headerless table (every line the same number of
comma-separated cells, not all of them indicator values) is ``csv``. Binary data, HTML
and XML are refused, and so is JSON nested deeper than ``json_input.MAX_DEPTH`` levels (with
the line); everything else is ``text``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import chain
from typing import BinaryIO

from registry.domain import json_input
from registry.domain.spreadsheet import unguard
from registry.ingest.records import (
    MAX_REPORTED_LINE,
    FeedFormatError,
    Record,
    Skipped,
    clip_line,
)
from registry.ingest.textio import UTF8_BOM, check_head, iter_lines

FORMATS = ("text", "csv", "jsonl", "stix", "misp")

#: How much of a file ``detect_format`` looks at.
HEAD_BYTES = 1 << 16

NOT_UTF8 = "not valid UTF-8"

# ---------------------------------------------------------------------------------------
# Shared shapes

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


def _looks_like_indicator(token: str) -> bool:
    token = _REFANG.sub(lambda m: _REFANG_TO.get(m.group().lower(), "."), token)
    return _INDICATOR.fullmatch(token) is not None


# ---------------------------------------------------------------------------------------
# Plain lists

_COMMENT_START = ("#", ";")
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
    words = [m.group() for m in tokens]
    meaningful = [w for w in words if not _SEPARATOR.fullmatch(w)]
    if meaningful and all(_looks_like_indicator(w) for w in meaningful):
        return meaningful  # `1.2.3.4 evil.example`, `9ygw2[.]com - 185.183.162[.]169`
    return [words[0]]


def plain_values(line: str) -> list[str]:
    """The raw values in one line of a plain list, by the rules in the module docstring."""
    s = line.strip()
    if not s or s.startswith(_COMMENT_START):
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


# ---------------------------------------------------------------------------------------
# CSV

#: Header names taken as the value column when none is given, in order of preference.
VALUE_COLUMNS: tuple[str, ...] = (
    "value",
    "indicator",
    "ioc",
    "ioc_value",
    "observable",
    "url",
    "domain",
    "domain_name",
    "hostname",
    "fqdn",
    "host",
    "ip",
    "ip_address",
    "ipaddress",
    "ipv4",
    "ipv6",
    "dst_ip",
    "dstip",
    "src_ip",
    "srcip",
    "cidr",
    "netblock",
    "network",
    "phone_number",
    "phone",
    "company_phone_number",
    "msisdn",
    "telephone",
    "tel",
    "number",
    "email",
    "email_address",
)
_VALUE_COLUMN_SET = frozenset(VALUE_COLUMNS)
#: Other names often found in feed headers (only used to recognise a header row).
_OTHER_COLUMNS = frozenset(
    {
        "id",
        "uuid",
        "event_id",
        "type",
        "kind",
        "ioc_type",
        "category",
        "tags",
        "tag",
        "labels",
        "label",
        "comment",
        "comments",
        "description",
        "desc",
        "date",
        "dateadded",
        "date_added",
        "first_seen",
        "first_seen_utc",
        "last_seen",
        "last_seen_utc",
        "last_online",
        "created",
        "created_date",
        "timestamp",
        "time",
        "confidence",
        "confidence_level",
        "score",
        "port",
        "dst_port",
        "dstport",
        "status",
        "url_status",
        "c2_status",
        "threat",
        "threat_type",
        "malware",
        "malware_printable",
        "reporter",
        "reference",
        "source",
        "country",
        "asn",
        "target",
        "online",
        "verified",
    }
)
_NAME_CELL = re.compile(r"[A-Za-z_][A-Za-z0-9_ ()/#-]{0,63}")
_DELIMITERS = (",", "\t", ";", "|")
_NULLS = frozenset({"", "none", "null"})
_SAMPLE_ROWS = 50


def _column_key(name: str) -> str:
    return re.sub(r"[\s.\-]+", "_", name.strip().lstrip("#").strip().lower())


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        row = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:
        return []
    return [c.strip() for c in row]


def _names_only(cells: list[str]) -> bool:
    filled = [c.lstrip("#").strip() for c in cells if c.strip()]
    return bool(filled) and all(_NAME_CELL.fullmatch(c) for c in filled)


def _is_header_row(cells: list[str]) -> bool:
    """Cells that read as column names, at least one of them a well-known one."""
    if not _names_only(cells):
        return False
    keys = {_column_key(c) for c in cells}
    return bool(keys & (_VALUE_COLUMN_SET | _OTHER_COLUMNS))


def _comment_header(body: str) -> list[str] | None:
    """The cells of a header written inside a comment (abuse.ch style), or None."""
    for d in _DELIMITERS:
        if d in body:
            cells = _cells(body, d)
            if (
                len(cells) >= 2
                and _names_only(cells)
                and any(_column_key(c) in _VALUE_COLUMN_SET for c in cells)
            ):
                return cells
    return None


def _sniff_delimiter(lines: list[str], cut: bool) -> str:
    best, best_score = ",", 0.0
    for d in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=d, skipinitialspace=True) if r]
        except csv.Error:
            continue
        if cut and len(rows) > 1:
            rows = rows[:-1]
        counts = [len(r) for r in rows]
        if not counts:
            continue
        mode, n = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = n / len(counts)
        if score > best_score:
            best, best_score = d, score
    return best


class _RowState:
    """Where the row ``csv.reader`` is reading started, and its raw text."""

    __slots__ = ("start", "texts", "size", "bad_utf8")

    def __init__(self) -> None:
        self.end_row()

    def end_row(self) -> None:
        self.start: int | None = None
        self.texts: list[str] = []
        self.size = 0
        self.bad_utf8 = False

    def row_text(self) -> str:
        texts = self.texts
        return clip_line(texts[0] if len(texts) == 1 else "\n".join(texts))


def _feed_rows(lines: Iterator[tuple[int, str | None, bytes]], state: _RowState) -> Iterator[str]:
    """Physical lines for ``csv.reader``, noting in ``state`` where each row starts.

    Between rows, blank lines and ``#`` comments are dropped; inside a quoted field that
    spans lines everything is passed on. The caller calls ``state.end_row()`` after each
    row (or row error).
    """
    for line_no, text, raw in lines:
        if text is None:
            text = raw.decode("utf-8", "replace")
            state.bad_utf8 = True
            if state.start is None:
                stripped = text.lstrip()
                if not stripped or stripped[0] == "#":
                    state.bad_utf8 = False
                    continue
        elif state.start is None:
            stripped = text.lstrip()
            if not stripped or stripped[0] == "#":
                continue
        if state.start is None:
            state.start = line_no
        if state.size < MAX_REPORTED_LINE:
            state.texts.append(text)
            state.size += len(text) + 1
        yield text + "\n"


@lru_cache(maxsize=4096)
def _split_labels(cell: str) -> tuple[str, ...]:
    parts = cell.split(",") if "," in cell else cell.split()
    labels: list[str] = []
    for p in parts:
        p = p.strip().lstrip("#").strip()
        if p and p.lower() not in _NULLS and p not in labels:
            labels.append(p)
    return tuple(labels)


def _int_or_none(cell: str) -> int | None:
    try:
        return int(cell)
    except ValueError:
        try:
            return round(float(cell))
        except (ValueError, OverflowError):
            return None


_FIELDS = ("kind", "labels", "confidence", "first_seen", "description")


def parse_csv(
    stream: BinaryIO,
    *,
    name: str = "<input>",
    column: str | int | None = None,
    columns: dict[str, str | int] | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
    spreadsheet_quotes: bool = False,
) -> Iterator[Record | Skipped]:
    """Yield a ``Record`` per CSV row, or a ``Skipped`` for a row that cannot be used.

    ``column``: the value column, a header name (case-insensitive; spaces, dots and hyphens
    count as ``_``) or a 0-based position (an int, or a string of digits that is not a
    header name). When None: ``columns["value"]`` if given, else the first of
    ``VALUE_COLUMNS`` found in the header, else the only column; otherwise
    ``FeedFormatError`` naming the header's columns.
    ``columns``: Record fields taken from other columns: ``kind``, ``labels`` (a cell with
    commas is split on commas, else on whitespace; a leading ``#`` is dropped),
    ``confidence`` (an integer; a cell that is not a number gives None), ``first_seen``
    (text, unparsed), ``description``.
    ``delimiter``: sniffed among , tab ; | when None.
    ``has_header``: None detects it (first row of column names, else a header in a ``#``
    comment just before the data); True forces one (the first row when nothing
    header-like is found); False means every row is data (give columns by position).
    ``spreadsheet_quotes``: the file is the registry's spreadsheet-safe export, whose writer put
    a ``'`` before some cells (``domain.spreadsheet.guard``); each cell read loses it again.
    """
    if delimiter is not None and len(delimiter) != 1:
        raise FeedFormatError(f"a CSV delimiter is one character, not {delimiter!r}", name=name)
    lines = iter_lines(stream, name=name)

    # Read ahead a little: the comment header candidate and a sample for the delimiter.
    ahead: list[tuple[int, str | None, bytes]] = []
    comment_header: str | None = None
    comment_header_line: int | None = None
    sample: list[str] = []
    size = 0
    cut = False
    for item in lines:
        ahead.append(item)
        line_no, text, raw = item
        size += len(raw)
        stripped = (text or "").strip()
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            if not sample and _comment_header(body) is not None:
                comment_header, comment_header_line = body, line_no
        elif stripped:
            sample.append((text or "") + "\n")
        if len(sample) >= _SAMPLE_ROWS or size >= HEAD_BYTES:
            cut = True
            break

    if delimiter is None:
        sniff_lines = ([comment_header + "\n"] if comment_header else []) + sample
        delimiter = _sniff_delimiter(sniff_lines, cut)

    state = _RowState()
    reader = csv.reader(
        _feed_rows(chain(ahead, lines), state), delimiter=delimiter, skipinitialspace=True
    )

    def rows() -> Iterator[tuple[int, str, bool, list[str] | None, str | None]]:
        """(line_no, row text, bad_utf8, cells or None, csv error) per row."""
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield state.start or 0, state.row_text(), state.bad_utf8, None, str(exc)
                state.end_row()
                continue
            yield state.start or 0, state.row_text(), state.bad_utf8, cells, None
            state.end_row()

    row_iter = rows()
    first = next(row_iter, None)

    header: list[str] | None = None
    header_line: int | None = None
    pending_first = first  # the first row, unless it turns out to be the header
    if first is not None and has_header is not False:
        first_cells = [c.strip() for c in first[3]] if first[3] is not None else None
        candidate = _cells(comment_header, delimiter) if comment_header else None
        first_is_header = first_cells is not None and _is_header_row(first_cells)
        if not first_is_header and candidate is None and first_cells is not None:
            if has_header:
                first_is_header = True
            elif isinstance(column, str) and not column.strip().isdigit():
                first_is_header = _column_key(column) in {_column_key(c) for c in first_cells}
        if first_is_header:
            header, header_line, pending_first = first_cells, first[0], None
        elif candidate is not None:
            header, header_line = candidate, comment_header_line
    elif first is None and has_header is not False and comment_header:
        header, header_line = _cells(comment_header, delimiter), comment_header_line
    if has_header and header is None and first is not None:
        raise FeedFormatError("no header row found", name=name, line_no=first[0])

    keys = [_column_key(h) for h in header] if header is not None else None

    def resolve(spec: str | int, what: str) -> int:
        if isinstance(spec, bool) or not isinstance(spec, (str, int)):
            raise FeedFormatError(f"the {what} column must be a name or a number", name=name)
        if isinstance(spec, int):
            if spec < 0:
                raise FeedFormatError(f"the {what} column number must be 0 or more", name=name)
            return spec
        if keys is not None and _column_key(spec) in keys:
            return keys.index(_column_key(spec))
        if spec.strip().isdigit():
            return int(spec.strip())
        if header is None:
            raise FeedFormatError(
                f"no header row, so the {what} column {spec!r} must be given as a number (0-based)",
                name=name,
            )
        raise FeedFormatError(
            f"no column {spec!r} for the {what}; the header has: {', '.join(header)}",
            name=name,
            line_no=header_line,
        )

    fields = dict(columns or {})
    unknown = set(fields) - set(_FIELDS) - {"value"}
    if unknown:
        raise FeedFormatError(
            f"unknown Record fields in the column map: {', '.join(sorted(unknown))}", name=name
        )
    if column is None:
        column = fields.pop("value", None)
    else:
        fields.pop("value", None)

    value_index: int | None = None
    if column is not None:
        value_index = resolve(column, "value")
    elif keys is not None:
        for wanted in VALUE_COLUMNS:
            if wanted in keys:
                value_index = keys.index(wanted)
                break
        if value_index is None and len(keys) == 1:
            value_index = 0
        if value_index is None:
            raise FeedFormatError(
                f"no value column among the header's columns ({', '.join(header or [])}); "
                "give the column",
                name=name,
                line_no=header_line,
            )
    elif first is not None:
        if first[3] is not None and len(first[3]) == 1:
            value_index = 0
        else:
            raise FeedFormatError(
                "no header row; give the value column by number (0-based)",
                name=name,
                line_no=first[0],
            )
    if value_index is None:  # an empty file
        return

    field_index = {f: resolve(spec, f) for f, spec in fields.items()}

    def label(index: int) -> str:
        if header is not None and index < len(header):
            return header[index]
        return str(index)

    value_label = label(value_index)
    field_items = tuple(field_index.items())

    rest = row_iter if pending_first is None else chain([pending_first], row_iter)
    for line_no, text, bad_utf8, cells, error in rest:
        if error is not None:
            yield Skipped(line_no, text, f"bad CSV row: {error}")
            continue
        assert cells is not None
        if bad_utf8:
            yield Skipped(line_no, text, NOT_UTF8)
            continue
        if (
            header is not None
            and len(cells) == len(header)
            and cells[0].strip() == header[0]
            and [c.strip() for c in cells] == header
        ):
            continue  # the header repeated (concatenated exports)
        n = len(cells)
        if value_index >= n:
            yield Skipped(line_no, text, f"row has {n} fields, no column {value_label}")
            continue
        if spreadsheet_quotes:
            cells = [unguard(c) for c in cells]
        value = cells[value_index].strip()
        if value.lower() in _NULLS:
            yield Skipped(line_no, text, f"empty value in column {value_label}")
            continue
        record = Record(line_no, value, text)
        for f, index in field_items:
            if index < n:
                cell = cells[index].strip()
                if cell.lower() in _NULLS:
                    continue
                if f == "labels":
                    record.labels = _split_labels(cell)
                elif f == "confidence":
                    record.confidence = _int_or_none(cell)
                elif f == "kind":
                    record.kind = cell
                elif f == "first_seen":
                    record.first_seen = cell
                else:
                    record.description = cell
        yield record


# ---------------------------------------------------------------------------------------
# Format detection

_MISSING = object()
# `[{`, `[[`, `["`, `[]`: a JSON array, unlike a list starting `[2001:db8::1]:443`.
_JSON_ARRAY_START = re.compile(r'\[\s*[\[{"\]]')
_STIX_START = re.compile(r'\{\s*"type"\s*:\s*"bundle"')
_STIX_ID = re.compile(r'"id"\s*:\s*"bundle--')
_MISP_START = re.compile(r'(?:\{\s*"response"\s*:\s*)?\[?\s*\{\s*"Event"\s*:')
_MISP_MANIFEST_START = re.compile(r'\{\s*"[0-9a-fA-F-]{36}"\s*:\s*\{\s*"(?:info|Orgc|Tag)"')


def _json_kind(doc: object) -> str | None:
    if isinstance(doc, dict):
        if doc.get("type") == "bundle":
            return "stix"
        if "Event" in doc:
            return "misp"
        response = doc.get("response")
        if isinstance(response, dict) and "Event" in response:
            return "misp"
        if (
            isinstance(response, list)
            and response
            and all(isinstance(e, dict) and "Event" in e for e in response)
        ):
            return "misp"
        if doc and all(
            isinstance(v, dict) and "info" in v and ("Orgc" in v or "timestamp" in v)
            for v in doc.values()
        ):
            return "misp"  # a MISP feed manifest.json
    if isinstance(doc, list) and doc and all(isinstance(e, dict) and "Event" in e for e in doc):
        return "misp"
    return None


def _too_deep(exc: json_input.JSONInputError, name: str, first_line: int, line: int | None = None) -> FeedFormatError:
    """A JSON document or line nested too deep: the whole file is refused, as binary data is."""
    if line is None:
        line = first_line + exc.line - 1
    return FeedFormatError(f"{exc.message} (column {exc.column})", name=name, line_no=line)


def _is_json_object(line: str, line_no: int, name: str) -> bool:
    try:
        return isinstance(json_input.loads(line), dict)
    except json_input.TooDeep as exc:
        raise _too_deep(exc, name, line_no, line_no) from None
    except json_input.JSONInputError:
        return False


def _detect_json(text: str, cut: bool, name: str, first_line: int = 1) -> str:
    """``text``: the head from its first non-blank character, on line ``first_line``."""
    doc = _MISSING
    if not cut:
        try:
            doc = json_input.loads(text)
        except json_input.TooDeep as exc:
            raise _too_deep(exc, name, first_line) from None
        except json_input.JSONInputError:
            doc = _MISSING
    if doc is not _MISSING:
        kind = _json_kind(doc)
        if kind is not None:
            return kind
        if isinstance(doc, dict) and ("spec_version" in doc or "objects" in doc):
            raise FeedFormatError("STIX JSON that is not a bundle", name=name)
        if isinstance(doc, dict) and "\n" not in text.strip():
            return "jsonl"  # JSON lines with one line
    else:
        if _STIX_START.match(text) or _STIX_ID.search(text[:4096]):
            return "stix"
        if _MISP_START.match(text) or _MISP_MANIFEST_START.match(text):
            return "misp"
        lines = [(n, ln) for n, ln in enumerate(text.splitlines(), first_line) if ln.strip()]
        if cut and len(lines) > 1:
            lines = lines[:-1]
        if lines and all(_is_json_object(ln, n, name) for n, ln in lines[:20]):
            return "jsonl"
    raise FeedFormatError(
        "JSON that is not a STIX bundle, a MISP event or JSON lines (one object per line)",
        name=name,
    )


def _headerless_table(lines: list[str]) -> bool:
    """At least two lines, each the same number (2 or more) of comma-separated cells, and
    not a list of indicator values joined by commas."""
    if len(lines) < 2 or not all("," in ln for ln in lines):
        return False
    rows = [_cells(ln, ",") for ln in lines]
    counts = {len(r) for r in rows}
    if len(counts) != 1 or counts.pop() < 2:
        return False
    return not all(_looks_like_indicator(c) for r in rows for c in r if c)


def detect_format(head: bytes, *, name: str = "<input>") -> str:
    """The format of a file from its first bytes (up to 64 KiB are used): one of ``FORMATS``.

    Raises ``FeedFormatError`` for binary data, an HTML page, XML, or JSON of no known
    shape (rules in the module docstring).
    """
    cut = len(head) >= HEAD_BYTES
    head = head[:HEAD_BYTES]
    check_head(head, name=name)
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    text = head.decode("utf-8", "replace")
    stripped = text.lstrip()
    if not stripped:
        return "text"
    if stripped[0] == "{" or _JSON_ARRAY_START.match(stripped):
        return _detect_json(stripped, cut, name, text.count("\n", 0, len(text) - len(stripped)) + 1)
    if stripped[0] == "<":
        raise FeedFormatError("an XML or markup document, not a feed", name=name)

    lines = text.splitlines()
    if cut and len(lines) > 1:
        lines = lines[:-1]
    comments: list[str] = []
    data: list[str] = []
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        if s.startswith(_COMMENT_START):
            if not data and s.startswith("#"):
                comments.append(s.lstrip("#").strip())
            continue
        data.append(s)
        if len(data) >= _SAMPLE_ROWS:
            break
    if any(_comment_header(c) is not None for c in comments):
        return "csv"
    if not data:
        return "text"
    first = data[0]
    if first.upper() == "BEGIN:VCARD":
        return "text"
    for d in _DELIMITERS:
        if d in first:
            cells = _cells(first, d)
            if len(cells) >= 2 and (
                _is_header_row(cells) or (len(cells) >= 3 and _names_only(cells))
            ):
                return "csv"
    if _column_key(first.strip('"')) in _VALUE_COLUMN_SET and len(data) > 1:
        return "csv"  # a one-column CSV: a header such as `number` over the values
    if _headerless_table(data):
        return "csv"
    return "text"


def iter_records(
    stream: BinaryIO, fmt: str, *, name: str = "<input>", **options: object
) -> Iterable[Record | Skipped]:
    """``parse_text`` or ``parse_csv`` by format name; other formats have their own readers."""
    if fmt == "text":
        return parse_text(stream, name=name)
    if fmt == "csv":
        return parse_csv(stream, name=name, **options)  # type: ignore[arg-type]
    if fmt in FORMATS:
        raise FeedFormatError(f"format {fmt!r} is not read by the line parsers", name=name)
    raise FeedFormatError(
        f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})", name=name
    )
