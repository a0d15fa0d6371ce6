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

from registry.ingest.formats import HEAD_BYTES, detect_format
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


def _walk(node, segments, trail: str) -> Iterator[tuple[object, object, str]]:
    """(holder, value, where) for every value at the path; holder is the object holding it."""
    if not segments:
        yield None, node, trail
        return
    (key, many), rest = segments[0], segments[1:]
    if key:
        if not isinstance(node, dict) or key not in node:
            yield node, None, f"{trail}.{key}".lstrip(".")
            return
        holder, node = node, node[key]
        trail = f"{trail}.{key}".lstrip(".")
    else:
        holder = None
    if many:
        if not isinstance(node, list):
            raise FeedFormatError(f"{trail or 'the document'} is not a list (value_path)")
        for i, item in enumerate(node):
            yield from _walk(item, rest, f"{trail}[{i}]")
        return
    if not rest:
        yield holder, node, trail
        return
    yield from _walk(node, rest, trail)


def parse_json(stream: BinaryIO, *, name: str = "<input>", value_path: str | None = None) -> Iterator[Record | Skipped]:
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES] if hasattr(stream, "peek") else b""
    if head and detect_format(head, name=name) == "jsonl":
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
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FeedFormatError(f"not JSON: {exc}", name=name) from None
    del data
    if value_path:
        items = _walk(doc, _segments(value_path), "")
    elif isinstance(doc, list):
        items = ((None, item, f"[{i}]") for i, item in enumerate(doc))
    else:
        raise FeedFormatError("a JSON object: give value_path (e.g. data[].ip) to say where the values are",
                              name=name)
    for n, (holder, value, where) in enumerate(items, start=1):
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
