"""JSON Lines: one JSON object a line, the value under a key (``cidr``, ``value``, …).

Spamhaus' JSON lists end with a metadata record (``{"type": "metadata", …}``): records without
the value key that say they are metadata are passed over, not rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from registry.domain import grading, json_input
from registry.ingest.csvheader import COLUMN_KINDS
from registry.ingest.parts import (
    BANK_COLUMNS,
    HASH_COLUMNS,
    PLATFORM_COLUMNS,
    hash_layout,
    hashes_value,
    pair_layout,
)
from registry.ingest.records import FeedFormatError, Record, Skipped
from registry.ingest.textio import NOT_UTF8, iter_lines

VALUE_KEYS = ("value", "indicator", "ioc", "cidr", "ip", "ip_address", "domain", "url", "number", "phone",
              "iban", "bank_account", "account_number", "wallet", "wallet_address", "user_account", "handle",
              "username", "file_hash", "hash")
#: Keys that may start a value written under several keys (``parts``): only objects holding one
#: are checked for such a layout, so the other lines cost one set test.
_PART_KEYS = frozenset((*BANK_COLUMNS, *PLATFORM_COLUMNS, *HASH_COLUMNS))


def parse_jsonl(stream: BinaryIO, *, name: str = "<input>", key: str | int | None = None) -> Iterator[Record | Skipped]:
    if isinstance(key, int):
        raise FeedFormatError(f"{name}: JSON lines take a key name for the value, not a position")
    for line_no, text, _raw in iter_lines(stream, name=name):
        if text is None:
            yield Skipped(line_no, repr(_raw[:200]), NOT_UTF8)
            continue
        line = text.strip()
        if not line or line.startswith(("#", "//")):
            continue
        try:
            obj = json_input.loads(line)
        except json_input.TooDeep as exc:  # a hostile file, as a runaway line is: the file is refused
            raise FeedFormatError(f"{exc.message} (column {exc.column})", name=name, line_no=line_no) from None
        except json_input.JSONInputError as exc:
            yield Skipped(line_no, line[:500], f"not a JSON object: {exc.reason} (column {exc.column})")
            continue
        if not isinstance(obj, dict):
            yield Skipped(line_no, line[:500], "not a JSON object")
            continue
        item = record_from_object(obj, line_no, line[:500], key)
        if item is not None:
            yield item


def record_from_object(obj: dict, line_no: int, line: str, key: str | None = None) -> Record | Skipped | None:
    """The record of one JSON object: the value under ``key`` (default: the first of
    ``VALUE_KEYS`` present), with the hints the object carries (``kind``, ``labels`` or
    ``tags``, ``confidence``, ``first_seen``, ``description``, ``reliability`` and ``credibility``:
    the Admiralty grading, an object whose grade is none ``Skipped``). A value under several keys
    (``parts``: ``bank`` and ``account_number``,
    ``platform`` and ``handle``, ``md5`` and ``sha256``…) is read as the CSV columns are. None for
    a metadata record."""
    layout = None if _PART_KEYS.isdisjoint(obj) else pair_layout(obj.keys(), key)
    field = key or (layout.value if layout is not None else next((k for k in VALUE_KEYS if k in obj), None))
    if field is None and layout is None:
        layout = hash_layout(obj.keys())
    if layout is not None and layout.hashes:
        value = hashes_value(layout, lambda k: _text(obj.get(k)))
        if not value:
            return Skipped(line_no, line, f"no hash under {layout.described()}")
    elif field is None or field not in obj:
        if obj.get("type") == "metadata":
            return None
        return Skipped(line_no, line, f"no {field or 'value'!r} key")
    else:
        value = obj[field]
    if not isinstance(value, str) or not value.strip():
        return Skipped(line_no, line, f"empty or non-text {field!r}")
    reliability = credibility = None
    if "reliability" in obj or "credibility" in obj:
        try:
            reliability, credibility = grading.reliability(obj.get("reliability")), grading.credibility(obj.get("credibility"))
        except grading.GradeError as exc:
            return Skipped(line_no, line, str(exc))
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else None
    if kind is None:
        kind = layout.kind if layout is not None else COLUMN_KINDS.get(field)
    labels = obj.get("labels") or obj.get("tags") or ()
    if isinstance(labels, str):
        labels = labels.replace(",", " ").split()
    confidence = obj.get("confidence")
    return Record(
        line_no=line_no,
        value=value.strip(),
        line=line,
        kind=kind,
        labels=tuple(str(label) for label in labels) if isinstance(labels, list | tuple) else (),
        confidence=confidence if isinstance(confidence, int) and not isinstance(confidence, bool) else None,
        first_seen=_text(obj.get("first_seen")),
        description=_text(obj.get("description")),
        reliability=reliability,
        credibility=credibility,
        **({name: _text(obj.get(column)) for name, column in layout.fields()} if layout is not None else {}),
    )


def _text(value) -> str | None:
    """A key's value when it is non-empty text, else None."""
    return value.strip() if isinstance(value, str) and value.strip() else None
