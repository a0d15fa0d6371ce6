"""JSON feeds: a JSON document with the values at a path, or JSON lines.

``value_path`` says where the values are: dot-separated keys, ``[]`` after a key (or alone,
first) to go through a list: ``data[].ip`` reads ``{"data": [{"ip": "…"}, …]}``,
``[].indicator`` a top-level list of objects, ``blocklist[]`` a list of strings. The object
holding each value gives the row's hints as in JSON lines (``labels``/``tags``,
``confidence``, ``kind``, ``first_seen``, ``description``). Without a path: a top-level
list of strings, or of objects with one of the usual value keys (``jsonl.VALUE_KEYS``).
Records of type ``metadata`` without a value (Spamhaus' trailing record) are passed over.

A body that is JSON lines (one object a line, as Spamhaus' ``drop_v4.json``) is streamed by
``jsonl.parse_jsonl``, with ``value_path`` as the key; a JSON document is read whole
(it is bounded by the feed's size limit).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import orjson

from registry.domain import json_input
from registry.ingest.formats import HEAD_BYTES
from registry.ingest.jsonl import parse_jsonl, record_from_object
from registry.ingest.records import FeedFormatError, Record, Skipped, clip_line
from registry.ingest.textio import UTF8_BOM, check_head


def _segments(path: str) -> list[tuple[str, bool]]:
    """``data[].ip`` → [("data", True), ("ip", False)]; ``[]`` alone is the top-level list."""
    out = []
    for part in path.strip().lstrip("$").lstrip(".").split("."):
        if not part:
            raise FeedFormatError(f"value_path {path!r} has an empty step")
        many = part.endswith("[]") or part.endswith("[*]")
        key = part.removesuffix("[]").removesuffix("[*]")
        out.append((key, many))
    return out


def _walk(node, segments, trail: str, record=None) -> Iterator[tuple[object, object, str]]:
    """(record, value, where) for every value at the path. The record is the list element the
    value belongs to (or the object holding it when the path has no list): its hints apply."""
    if not segments:
        yield record, node, trail
        return
    (key, many), rest = segments[0], segments[1:]
    if key:
        if not isinstance(node, dict) or key not in node:
            yield (record if record is not None else node), None, f"{trail}.{key}".lstrip(".")
            return
        if record is None and not many and not rest:
            record = node
        node = node[key]
        trail = f"{trail}.{key}".lstrip(".")
    if many:
        if not isinstance(node, list):
            raise FeedFormatError(f"{trail or 'the document'} is not a list (value_path)")
        for i, item in enumerate(node):
            yield from _walk(item, rest, f"{trail}[{i}]", item if isinstance(item, dict) else None)
        return
    yield from _walk(node, rest, trail, record)


def _is_json_lines(head: bytes) -> bool:
    """Two complete first lines that are each a JSON object: JSON lines, not one document."""
    lines = [line for line in head.removeprefix(UTF8_BOM).split(b"\n")[:-1] if line.strip()][:2]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(json_input.loads(line), dict) for line in lines)
    except json_input.JSONInputError:
        return False


def parse_json(stream: BinaryIO, *, name: str = "<input>", value_path: str | None = None) -> Iterator[Record | Skipped]:
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES] if hasattr(stream, "peek") else b""
    if _is_json_lines(head):
        key = value_path.strip() if value_path else None
        if key and ("." in key or "[" in key):
            raise FeedFormatError(f"the body is JSON lines: value_path {value_path!r} must be one key", name=name)
        yield from parse_jsonl(stream, name=name, key=key)
        return
    data = stream.read()
    check_head(data[:8192], name=name)
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        doc = json_input.loads(data)
    except json_input.JSONInputError as exc:
        raise FeedFormatError(str(exc), name=name) from None
    del data
    if value_path:
        items = _walk(doc, _segments(value_path), "")
    elif isinstance(doc, list):
        items = ((None, item, f"[{i}]") for i, item in enumerate(doc))
    else:
        raise FeedFormatError("a JSON object: give value_path (e.g. data[].ip) to say where the values are",
                              name=name)
    for n, (holder, value, where) in enumerate(items, start=1):  # holder: the value's record
        if isinstance(value, dict) and not value_path:
            item = record_from_object(value, n, clip_line(orjson.dumps(value).decode()))
            if item is not None:
                yield item
            continue
        if isinstance(holder, dict) and holder.get("type") == "metadata" and value is None:
            continue
        line = clip_line(orjson.dumps(holder if isinstance(holder, dict) else value).decode())
        if not isinstance(value, str) or not value.strip():
            yield Skipped(n, line, f"no text value at {where}")
            continue
        if isinstance(holder, dict):
            # The holder's hints (labels, confidence...), with the value at the path.
            item = record_from_object({**holder, "value": value}, n, line, "value")
            if isinstance(item, Record):
                yield item
                continue
        yield Record(line_no=n, value=value.strip(), line=line)
