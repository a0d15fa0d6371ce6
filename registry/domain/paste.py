"""Values pasted into the web page, as an analyst copies them out of a case file.

One value a line, or several on a line separated by commas, semicolons or tabs. Spaces are
ambiguous: "+66 81 234 5678" is one phone number, "203.0.113.7 evil.example" two values. So a
line is split on spaces only when every piece looks like a network value (holds a ``.``, ``:``,
``/`` or ``@``, defanged or not); otherwise it stays whole and the normaliser judges it.
Lines starting with ``#`` are comments. Repeats are looked up once, in first-seen order.
"""

from __future__ import annotations

import re

MAX_PASTED = 1000  # values in one paste: a case file's worth, answered in well under a second

_SEPARATORS = re.compile(r"[\t,;]+")
_NETWORKISH = re.compile(r"[.:/@\[\]()]")


def split_values(text: str) -> tuple[list[str], int]:
    """The distinct values in ``text`` in order, and how many repeats were dropped."""
    values: list[str] = []
    seen: set[str] = set()
    repeats = 0
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for piece in _SEPARATORS.split(line):
            for value in _pieces(piece.strip()):
                if value in seen:
                    repeats += 1
                    continue
                seen.add(value)
                values.append(value)
    return values, repeats


def _pieces(piece: str) -> list[str]:
    if not piece:
        return []
    words = piece.split()
    if len(words) > 1 and all(_NETWORKISH.search(word) for word in words):
        return words
    return [piece]
