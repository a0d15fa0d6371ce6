"""Recognising a CSV header and its delimiter, for ``csvrows.parse_csv`` and ``detect``.

A header is a row of column names (letters, digits, ``_``, spaces and a little punctuation)
naming at least one column a feed header is known to have; abuse.ch writes it inside a ``#``
comment (``# id,dateadded,url,...``), which counts only when it names a value column (or a
column of a value written in several, ``parts``). The
delimiter is the one among ``,``, tab, ``;`` and ``|`` under which the largest share of the
sampled rows have the same number (two or more) of cells; ``,`` when none does.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

from registry.domain.kinds import BANK_ACCOUNT, CRYPTO_WALLET, FILE_HASH, USER_ACCOUNT
from registry.ingest.parts import PART_COLUMNS

#: The kind of the values in a value column of these names, for rows that name no kind of their
#: own (an account number's digits would otherwise read as a phone number).
COLUMN_KINDS: dict[str, str] = {
    **dict.fromkeys(("iban", "bank_account", "account_number", "account_no"), BANK_ACCOUNT),
    **dict.fromkeys(("wallet", "wallet_address", "crypto_wallet", "crypto_address", "btc_address"), CRYPTO_WALLET),
    **dict.fromkeys(("user_account", "handle", "username"), USER_ACCOUNT),
    **dict.fromkeys(("file_hash", "hash"), FILE_HASH),
}

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
    *COLUMN_KINDS,  # last, in the order written there
)
VALUE_COLUMN_SET = frozenset(VALUE_COLUMNS)
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
_VALUE_OR_PART = VALUE_COLUMN_SET | PART_COLUMNS
_KNOWN_COLUMNS = _VALUE_OR_PART | _OTHER_COLUMNS
_NAME_CELL = re.compile(r"[A-Za-z_][A-Za-z0-9_ ()/#-]{0,63}")
DELIMITERS = (",", "\t", ";", "|")
#: How many data rows are read to sniff a delimiter or recognise a header.
SAMPLE_ROWS = 50


def column_key(name: str) -> str:
    """A header name as compared: lowercase, no leading ``#``; spaces, dots and hyphens as ``_``."""
    return re.sub(r"[\s.\-]+", "_", name.strip().lstrip("#").strip().lower())


def split_cells(line: str, delimiter: str) -> list[str]:
    """The stripped cells of one CSV line ([] when it is not one)."""
    try:
        row = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:
        return []
    return [c.strip() for c in row]


def names_only(cells: list[str]) -> bool:
    filled = [c.lstrip("#").strip() for c in cells if c.strip()]
    return bool(filled) and all(_NAME_CELL.fullmatch(c) for c in filled)


def is_header_row(cells: list[str]) -> bool:
    """Cells that read as column names, at least one of them a well-known one."""
    if not names_only(cells):
        return False
    keys = {column_key(c) for c in cells}
    return bool(keys & _KNOWN_COLUMNS)


def comment_header_cells(body: str) -> list[str] | None:
    """The cells of a header written inside a comment (abuse.ch style), or None."""
    for d in DELIMITERS:
        if d in body:
            cells = split_cells(body, d)
            if (
                len(cells) >= 2
                and names_only(cells)
                and any(column_key(c) in _VALUE_OR_PART for c in cells)
            ):
                return cells
    return None


def sniff_delimiter(lines: list[str], cut: bool) -> str:
    """The delimiter of sample ``lines``; ``cut``: their last row may be incomplete."""
    best, best_score = ",", 0.0
    for d in DELIMITERS:
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

