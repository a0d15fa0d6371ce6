"""Telling a feed's format from the start of its content (``detect_format``).

From the first ``HEAD_BYTES``: JSON that is a STIX bundle is ``stix``; a MISP event
(``{"Event": ...}``, ``{"response": [{"Event": ...}]}``, a list of events) or a MISP feed
``manifest.json`` is ``misp``; one JSON object per line is ``jsonl``; any other JSON
document is refused. A first data line that is a CSV header, a header inside a ``#``
comment naming a value column, or a headerless table (every line the same number of
comma-separated cells, not all of them indicator values) is ``csv``. Binary data, HTML
and XML are refused, and so is JSON nested deeper than ``json_input.MAX_DEPTH`` levels (with
the line); everything else is ``text``.
"""

from __future__ import annotations

import re

from registry.domain import json_input
from registry.ingest.csvheader import (
    DELIMITERS,
    SAMPLE_ROWS,
    VALUE_COLUMN_SET,
    column_key,
    comment_header_cells,
    is_header_row,
    names_only,
    split_cells,
)
from registry.ingest.plainlist import COMMENT_START, looks_like_indicator
from registry.ingest.records import FeedFormatError
from registry.ingest.textio import HEAD_BYTES, UTF8_BOM, check_head

#: What ``detect_format`` answers.
FORMATS = ("text", "csv", "jsonl", "stix", "misp")

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
    rows = [split_cells(ln, ",") for ln in lines]
    counts = {len(r) for r in rows}
    if len(counts) != 1 or counts.pop() < 2:
        return False
    return not all(looks_like_indicator(c) for r in rows for c in r if c)


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
        if s.startswith(COMMENT_START):
            if not data and s.startswith("#"):
                comments.append(s.lstrip("#").strip())
            continue
        data.append(s)
        if len(data) >= SAMPLE_ROWS:
            break
    if any(comment_header_cells(c) is not None for c in comments):
        return "csv"
    if not data:
        return "text"
    first = data[0]
    if first.upper() == "BEGIN:VCARD":
        return "text"
    for d in DELIMITERS:
        if d in first:
            cells = split_cells(first, d)
            if len(cells) >= 2 and (
                is_header_row(cells) or (len(cells) >= 3 and names_only(cells))
            ):
                return "csv"
    if column_key(first.strip('"')) in VALUE_COLUMN_SET and len(data) > 1:
        return "csv"  # a one-column CSV: a header such as `number` over the values
    if _headerless_table(data):
        return "csv"
    return "text"

