"""CSV feeds (format ``csv``), with the quirks of the files abuse.ch and others publish.

``parse_csv`` is a generator over ``textio.iter_lines``: memory stays flat whatever the
size of the feed. It yields ``Record`` (a raw value and the row's hints) and ``Skipped``
(a row it could not use); whether a value is a real IP, domain, URL or phone number is
normalisation's job, which reports its own rejects.

The ``csv`` module reads the rows (quoted fields, commas inside quotes, doubled quotes,
quoted fields spanning several lines: a record's ``line_no`` is the row's first line).
Lines starting with ``#`` between rows are comments; the header may be the first row
(quoted or not) or, as abuse.ch publishes, a comment line such as
``# id,dateadded,url,...`` or ``# "first_seen_utc","ioc_id",...`` just before the data
(``csvheader`` says what reads as a header). The delimiter is sniffed among ``,``, tab,
``;`` and ``|`` from the first rows; ``skipinitialspace`` is on, so ThreatFox's ``", "``
separators read cleanly. ``None``, ``null`` and empty cells are empty. Rows longer than the
header are fine; a row too short for the value column, with an empty value, or with
undecodable bytes is ``Skipped``. A row repeating the header is ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain
from typing import BinaryIO

from registry.domain import grading
from registry.domain.kinds import BANK_ACCOUNT, USER_ACCOUNT
from registry.domain.normalize.file_hash import file_hashes_text
from registry.domain.spreadsheet import unguard
from registry.ingest.csvheader import (
    COLUMN_KINDS,
    SAMPLE_ROWS,
    VALUE_COLUMNS,
    column_key,
    comment_header_cells,
    is_header_row,
    sniff_delimiter,
    split_cells,
)
from registry.ingest.parts import FIELDS as PART_FIELDS
from registry.ingest.parts import Layout, hash_layout, pair_layout
from registry.ingest.records import MAX_REPORTED_LINE, FeedFormatError, Record, Skipped, clip_line
from registry.ingest.textio import HEAD_BYTES, NOT_UTF8, iter_lines

_NULLS = frozenset({"", "none", "null"})
GRADES = {"reliability": grading.reliability, "credibility": grading.credibility}  # the checked Record fields

#: One row as read: (first line number, row text, had undecodable bytes, cells or None, csv error).
_Row = tuple[int, str, bool, list[str] | None, str | None]


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


_FIELDS = ("kind", "labels", "confidence", "first_seen", "description", "reliability", "credibility", *PART_FIELDS)


def _read_ahead(lines: Iterator[tuple[int, str | None, bytes]],
                ) -> tuple[list[tuple[int, str | None, bytes]], str | None, int | None, list[str], bool]:
    """Read the first lines (up to ``SAMPLE_ROWS`` data rows or ``HEAD_BYTES``) for a sample
    to sniff the delimiter from and a header inside a ``#`` comment just before the data.
    Returns (the lines read, the comment header's text and line, the sample, whether the
    sample stops before the end)."""
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
            if not sample and comment_header_cells(body) is not None:
                comment_header, comment_header_line = body, line_no
        elif stripped:
            sample.append((text or "") + "\n")
        if len(sample) >= SAMPLE_ROWS or size >= HEAD_BYTES:
            cut = True
            break
    return ahead, comment_header, comment_header_line, sample, cut


def _rows(reader: Iterator[list[str]], state: _RowState) -> Iterator[_Row]:
    """Each row ``reader`` reads, a row ``csv`` cannot read included (with its error)."""
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


def _find_header(first: _Row | None, comment_header: str | None, comment_header_line: int | None,
                 delimiter: str, has_header: bool | None, column: str | int | None,
                 name: str) -> tuple[list[str] | None, int | None, bool]:
    """(the header's cells, its line, whether it is the first row) by ``parse_csv``'s
    ``has_header`` rules; (None, None, False) for a file without one."""
    header: list[str] | None = None
    header_line: int | None = None
    first_is_header = False
    if first is not None and has_header is not False:
        first_cells = [c.strip() for c in first[3]] if first[3] is not None else None
        candidate = split_cells(comment_header, delimiter) if comment_header else None
        first_is_header = first_cells is not None and is_header_row(first_cells)
        if not first_is_header and candidate is None and first_cells is not None:
            if has_header:
                first_is_header = True
            elif isinstance(column, str) and not column.strip().isdigit():
                first_is_header = column_key(column) in {column_key(c) for c in first_cells}
        if first_is_header:
            header, header_line = first_cells, first[0]
        elif candidate is not None:
            header, header_line = candidate, comment_header_line
    elif first is None and has_header is not False and comment_header:
        header, header_line = split_cells(comment_header, delimiter), comment_header_line
    if has_header and header is None and first is not None:
        raise FeedFormatError("no header row found", name=name, line_no=first[0])
    return header, header_line, first_is_header


class _Columns:
    """Column names or numbers resolved against the header (if any), with errors that name
    the header's columns."""

    def __init__(self, header: list[str] | None, header_line: int | None, name: str) -> None:
        self.header = header
        self.header_line = header_line
        self.name = name
        self.keys = [column_key(h) for h in header] if header is not None else None

    def resolve(self, spec: str | int, what: str) -> int:
        name, header, keys = self.name, self.header, self.keys
        if isinstance(spec, bool) or not isinstance(spec, (str, int)):
            raise FeedFormatError(f"the {what} column must be a name or a number", name=name)
        if isinstance(spec, int):
            if spec < 0:
                raise FeedFormatError(f"the {what} column number must be 0 or more", name=name)
            return spec
        if keys is not None and column_key(spec) in keys:
            return keys.index(column_key(spec))
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
            line_no=self.header_line,
        )

    def value_index(self, column: str | int | None, first: _Row | None) -> int | None:
        """The value column: ``column``, else a well-known header name, else the only
        column; None for an empty file."""
        if column is not None:
            return self.resolve(column, "value")
        keys = self.keys
        if keys is not None:
            for wanted in VALUE_COLUMNS:
                if wanted in keys:
                    return keys.index(wanted)
            if len(keys) == 1:
                return 0
            raise FeedFormatError(
                f"no value column among the header's columns ({', '.join(self.header or [])}); "
                "give the column",
                name=self.name,
                line_no=self.header_line,
            )
        if first is not None:
            if first[3] is not None and len(first[3]) == 1:
                return 0
            raise FeedFormatError(
                "no header row; give the value column by number (0-based)",
                name=self.name,
                line_no=first[0],
            )
        return None

    def layout(self, column: str | int | None, fields: dict[str, str | int]) -> Layout | None:
        """The columns of a value written in several (``parts``): the ``bank``, ``country`` or
        ``platform`` the column map names, else a pair of the header's columns; without a value
        column given or a well-known one, the header's hash columns."""
        keys = self.keys
        if any(name in fields for name in PART_FIELDS):
            kind = BANK_ACCOUNT if "bank" in fields or "country" in fields else USER_ACCOUNT
            return Layout(kind, column, **{name: fields[name] for name in PART_FIELDS if name in fields})
        if keys is None:
            return None
        index = self.resolve(column, "value") if column is not None else None
        found = pair_layout(keys, None if index is None else keys[index] if index < len(keys) else index)
        if found is not None or column is not None or any(wanted in keys for wanted in VALUE_COLUMNS):
            return found
        return hash_layout(keys)

    def label(self, index: int) -> str:
        if self.header is not None and index < len(self.header):
            return self.header[index]
        return str(index)


def _field_columns(columns: dict[str, str | int] | None, column: str | int | None,
                   name: str) -> tuple[dict[str, str | int], str | int | None]:
    """The Record fields' column specs and the value column's (``columns["value"]`` when
    ``column`` is None)."""
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
    return fields, column


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
    (text, unparsed), ``description``, ``reliability`` and ``credibility`` (the Admiralty
    grading, ``domain.grading``: a row whose grade is none is ``Skipped`` with the reason).
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
    ahead, comment_header, comment_header_line, sample, cut = _read_ahead(lines)
    if delimiter is None:
        sniff_lines = ([comment_header + "\n"] if comment_header else []) + sample
        delimiter = sniff_delimiter(sniff_lines, cut)

    state = _RowState()
    reader = csv.reader(
        _feed_rows(chain(ahead, lines), state), delimiter=delimiter, skipinitialspace=True
    )
    row_iter = _rows(reader, state)
    first = next(row_iter, None)
    header, header_line, first_is_header = _find_header(
        first, comment_header, comment_header_line, delimiter, has_header, column, name
    )
    resolver = _Columns(header, header_line, name)
    fields, column = _field_columns(columns, column, name)
    layout = resolver.layout(column, fields)
    if layout is not None and layout.hashes:
        hash_items = tuple((algorithm, resolver.resolve(spec, algorithm)) for algorithm, spec in layout.hashes)
        value_index, value_label = None, ", ".join(resolver.label(i) for _, i in hash_items)
    else:
        if layout is not None and layout.value is not None:
            column = layout.value
        hash_items = ()
        value_index = resolver.value_index(column, first)
        if value_index is None:  # an empty file
            return
        value_label = resolver.label(value_index)
    if layout is not None:
        fields = {**fields, **dict(layout.fields())}
    field_items = tuple((f, resolver.resolve(spec, f)) for f, spec in fields.items())
    # Rows naming no kind of their own take the layout's, or the value column's (an account number).
    row_kind = layout.kind if layout is not None else COLUMN_KINDS.get(column_key(value_label))

    rest = row_iter if first_is_header or first is None else chain([first], row_iter)
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
        if spreadsheet_quotes:
            cells = [unguard(c) for c in cells]
        if hash_items:
            value = file_hashes_text({algorithm: cell for algorithm, i in hash_items
                                      if i < n and (cell := cells[i].strip()).lower() not in _NULLS})
            if not value:
                yield Skipped(line_no, text, f"no hash in columns {value_label}")
                continue
        else:
            if value_index >= n:
                yield Skipped(line_no, text, f"row has {n} fields, no column {value_label}")
                continue
            value = cells[value_index].strip()
            if value.lower() in _NULLS:
                yield Skipped(line_no, text, f"empty value in column {value_label}")
                continue
        record = Record(line_no, value, text)
        bad_grade = None
        for f, index in field_items:
            if index < n:
                cell = cells[index].strip()
                if cell.lower() in _NULLS:
                    continue
                if f in GRADES:
                    try:
                        setattr(record, f, GRADES[f](cell))
                    except grading.GradeError as exc:
                        bad_grade = str(exc)
                elif f == "labels":
                    record.labels = _split_labels(cell)
                elif f == "confidence":
                    record.confidence = _int_or_none(cell)
                else:
                    setattr(record, f, cell)  # kind, first_seen, description, bank, country, platform: as written
        if bad_grade is not None:
            yield Skipped(line_no, text, bad_grade)
            continue
        if record.kind is None:
            record.kind = row_kind
        yield record

