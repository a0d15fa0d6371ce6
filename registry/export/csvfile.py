"""``csv``: one indicator a row with a summary of who reported it, for spreadsheets, SIEM
lookup tables and bank fraud engines. RFC 4180 (comma, ``\\r\\n``), UTF-8, a header row. Lists
inside a cell (sources, labels) are joined with commas, inside quotes.

Two forms, with the same columns:

- by default, safe to open in a spreadsheet: every cell is quoted and a text cell a spreadsheet
  would compute (``=…``, ``+66…``, ``-…``, ``@…``; ``domain.spreadsheet`` says which) starts
  with an added ``'``. The quoted header (``"value","kind",…``) tells ``registry import`` to
  remove the added quotes, so it reads the exact values back;
- ``raw``: the exact values, quoted only where CSV needs it (header ``value,kind,…``), for
  machines.

Columns (``COLUMNS``; docs/exports.md says the same):

value           the canonical value (the column ``registry import`` picks up)
kind            one of registry.domain.kinds.KINDS
score           0-100 over the exported assertions, as the search API scores
sources         the orgs whose assertions are exported
max_confidence  the highest confidence among them
tlp             the most restricted TLP among them: the row is shared under it
labels          every label of those assertions
first_seen      earliest first report among them
last_seen       latest report among them
valid_until     the latest end of validity; empty when any assertion is open-ended
times_reported  reports counted over those assertions
allowlisted     the allowlist's reason (only with --include-allowlisted)
display         the human form when it differs (Unicode domain, national phone format)
reliability     the best source reliability (A … F) among the graded ones; empty when none is
credibility     the best information credibility (1 … 6) among the graded ones; empty when none is

New columns go at the end, so readers that take columns by position keep working.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from registry.domain.spreadsheet import guard
from registry.export.records import Listed

MEDIA_TYPE = "text/csv; charset=utf-8"
COLUMNS = ("value", "kind", "score", "sources", "max_confidence", "tlp", "labels", "first_seen", "last_seen",
           "valid_until", "times_reported", "allowlisted", "display", "reliability", "credibility")
ROWS_PER_CHUNK = 1000
# The columns a spreadsheet could take for a formula, guarded in the default form. The others
# cannot start one: kind and tlp are words of a fixed list, the times ISO 8601 as the registry
# writes them, the rest whole numbers 0 or more (checking only these keeps the export fast).
TEXT_COLUMNS = ("value", "sources", "labels", "allowlisted", "display")
_TEXT_INDEXES = tuple(COLUMNS.index(name) for name in TEXT_COLUMNS)
# The first line of each form, as ``registry import`` recognises it.
RAW_HEADER = ",".join(COLUMNS).encode()
SAFE_HEADER = ",".join(f'"{name}"' for name in COLUMNS).encode()
_UNGRADED = COLUMNS[:COLUMNS.index("reliability")]  # the columns of files written before grading
# Every header the registry has written: (its spreadsheet-safe form, it has the grading columns).
HEADERS: dict[bytes, tuple[bool, bool]] = {
    RAW_HEADER: (False, True), SAFE_HEADER: (True, True),
    ",".join(_UNGRADED).encode(): (False, False), ",".join(f'"{name}"' for name in _UNGRADED).encode(): (True, False),
}


def row(item: Listed) -> list:
    s = item.summary()
    return [s["value"], s["kind"], s["score"], ",".join(s["sources"]), s["confidence"], s["tlp"], ",".join(s["labels"]),
            s["first_seen"], s["last_seen"], s["valid_until"] or "", s["times_reported"], s["allowlisted"] or "",
            s["display"] or "", s["reliability"] or "", s["credibility"] or ""]


def safe_row(item: Listed) -> list:
    cells = row(item)
    for i in _TEXT_INDEXES:
        cells[i] = guard(cells[i])
    return cells


def write(items: Iterable[Listed], *, raw: bool = False) -> Iterator[bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL if raw else csv.QUOTE_ALL)
    make_row = row if raw else safe_row
    out.writerow(COLUMNS)
    for n, item in enumerate(items, 1):
        out.writerow(make_row(item))
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
