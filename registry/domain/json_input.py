"""Reading JSON that comes from outside (request bodies, imported files, feeds) with one bound.

orjson parses up to 1,024 levels of nesting, but what then holds the document cannot: Python's
``json``, ``repr`` and recursive walks stop near 1,000 frames, orjson's own ``dumps`` at 255.
A document nested deeper than ``MAX_DEPTH`` levels (no STIX bundle, MISP event or API request
comes near: they nest under 15) is refused here, where the input arrives, with the line and
column where it goes too deep.
"""

from __future__ import annotations

import orjson

MAX_DEPTH = 100


class JSONInputError(ValueError):
    """Input that is not JSON, or nested too deep; ``str()`` says what and where, in one line.
    ``reason`` is the what alone (``unexpected end of data``), ``message`` says it in a sentence."""

    prefix = "not JSON: "

    def __init__(self, reason: str, line: int, column: int) -> None:
        self.reason = reason
        self.message = self.prefix + reason
        self.line = line
        self.column = column
        super().__init__(f"{self.message} (line {line}, column {column})")


class TooDeep(JSONInputError):
    prefix = "JSON "

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels", line, column)


def loads(data: bytes | bytearray | memoryview | str) -> object:
    """The parsed document; ``JSONInputError`` (``TooDeep`` for nesting past ``MAX_DEPTH``)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":  # orjson's own limit, past ours
            raise _too_deep(data) from None
        raise JSONInputError(exc.msg, exc.lineno, exc.colno) from None
    if isinstance(doc, (dict, list)) and _brackets(data) > MAX_DEPTH and _depth_exceeds(doc, MAX_DEPTH):
        raise _too_deep(data)
    return doc


def type_name(value: object) -> str:
    """What a parsed JSON value is, in JSON's words (for messages: "… is a list, not …")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _brackets(data) -> int:
    """An upper bound of the nesting, counted at C speed: most inputs end the check here."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    data = bytes(data) if isinstance(data, memoryview) else data
    return data.count(b"[") + data.count(b"{")


def _depth_exceeds(doc: dict | list, limit: int) -> bool:
    stack = [(doc, 1)]  # iterative: the point is not to recurse
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def _too_deep(data) -> TooDeep:
    """The error, pointing at the bracket that opens level ``MAX_DEPTH + 1``."""
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    depth, in_string, escaped, at = 0, False, False, 0
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                at = i
                break
        elif ch in "]}":
            depth -= 1
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return TooDeep(line, column)
