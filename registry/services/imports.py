"""Import a file: detect or take its format, parse it as a stream, submit every row.

The whole file is one transaction: a file that turns out to be unreadable halfway (binary
data, a runaway line) leaves nothing behind, and a crash leaves nothing half-written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from registry.domain.normalize import NormalizeError
from registry.domain.times import parse_time
from registry.export import csvfile
from registry.ingest.csvrows import parse_csv
from registry.ingest.detect import detect_format
from registry.ingest.jsonl import parse_jsonl
from registry.ingest.plainlist import parse_text
from registry.ingest.records import FeedFormatError, Record, Skipped
from registry.ingest.textio import HEAD_BYTES
from registry.ingest.vocabulary import map_kinds
from registry.services import collector
from registry.services.errors import Invalid
from registry.services.pipeline import normalize_parallel, prepare_text_parallel
from registry.services.submit import Provenance, Submission, SubmitReport, Submitter, clean_labels
from registry.storage.db import Database

IMPORT_FORMATS = ("text", "csv", "jsonl", "stix")
PARALLEL_BYTES = 4 << 20  # below this, starting worker processes costs more than it saves


class CountingReader(io.RawIOBase):
    """Passes reads through and reports the bytes read so far (for a progress bar)."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self.raw = raw
        self.on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n and self.on_bytes:
            self.on_bytes(n)
        return n or 0


def to_submission(record: Record) -> Submission:
    first_seen = None
    if record.first_seen:
        try:
            first_seen = parse_time(record.first_seen)
        except ValueError:
            first_seen = None  # an odd timestamp costs the row its first-seen time, not its value
    return Submission(
        value=record.value,
        kind=record.kind,
        labels=clean_labels(record.labels, strict=False) if record.labels else (),
        confidence=record.confidence if record.confidence is not None and 0 <= record.confidence <= 100 else None,
        description=record.description,
        first_seen=first_seen,
        line_no=record.line_no,
        line=record.line,
        platform=record.platform,
        bank=record.bank,
        country=record.country,
        reliability=record.reliability,
        credibility=record.credibility,
    )


def parse(stream: BinaryIO, fmt: str, *, name: str, column: str | int | None = None, **options):
    """Records and skipped lines of ``stream`` in ``fmt``. ``options``: ``parse_csv``'s
    (``columns``, ``delimiter``, ``has_header``) for csv; ``value_path`` for json."""
    if fmt == "text":
        return parse_text(stream, name=name)
    if fmt == "csv":
        return parse_csv(stream, name=name, column=column,
                         **{**_registry_export_options(stream, column), **options})
    if fmt == "jsonl":
        return parse_jsonl(stream, name=name, key=column)
    if fmt == "json":
        from registry.ingest.jsondoc import parse_json

        return parse_json(stream, name=name, value_path=options.get("value_path") or column)
    raise FeedFormatError(
        f"{name}: format {fmt!r} cannot be imported from a file yet (use one of {', '.join(IMPORT_FORMATS)})"
    )


# A CSV written by `registry export --format csv` imports back with each row's kind, labels,
# confidence (its max_confidence), first report and grading, not only its values; from its
# spreadsheet form (the default) without the quotes it put before cells a spreadsheet would
# compute. One written before the grading columns were added reads as it did.
REGISTRY_CSV_FIELDS = {"kind": "kind", "labels": "labels", "confidence": "max_confidence", "first_seen": "first_seen"}
GRADE_CSV_FIELDS = {"reliability": "reliability", "credibility": "credibility"}


def _registry_export_options(stream: BinaryIO, column) -> dict:
    """``parse_csv`` options for a file whose first line is one of the registry's CSV headers."""
    if not hasattr(stream, "peek"):
        return {}
    first = stream.peek(HEAD_BYTES)[:HEAD_BYTES].split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r")
    headers = csvfile.HEADERS.get(first)
    if headers is None:
        return {}
    safe, graded = headers
    options: dict = {"spreadsheet_quotes": safe}
    if column is None:
        options["columns"] = {**REGISTRY_CSV_FIELDS, **(GRADE_CSV_FIELDS if graded else {})}
    return options


def run_import(submitter: Submitter, stream: BinaryIO, fmt: str, *, name: str, column=None,
               parallel: bool = False, kinds: dict | None = None, on_rows: Callable[[int], None] | None = None,
               **options) -> SubmitReport:
    """Parse ``stream`` in ``fmt`` and submit every row. ``kinds``: a feed's extra kind names
    (``vocabulary.map_kinds``); ``on_rows(n)`` hears how many rows (records and skipped lines)
    were read, as they are read. A large plain list is parsed in the worker processes too."""
    with collector.paused():
        if parallel and fmt == "text":
            for rows in prepare_text_parallel(stream, name=name, kind=submitter.prov.kind, region=submitter.region,
                                              platform=submitter.prov.platform,
                                              allowlist=submitter.allowlist.entries):
                if on_rows:
                    on_rows(len(rows))
                submitter.add_prepared(rows)
            return submitter.finish()
        items = map_kinds(parse(stream, fmt, name=name, column=column, **options), kinds)
        if on_rows:
            items = _counted(items, on_rows)
        return submit_items(submitter, items, parallel=parallel)


def _counted(items, on_rows: Callable[[int], None]):
    for item in items:
        on_rows(1)
        yield item


def submit_items(submitter: Submitter, items, *, parallel: bool = False) -> SubmitReport:
    """Submit parsed records (rejecting skipped lines), normalising in worker processes when
    ``parallel``; the feed runs call this too."""
    if not parallel:
        for item in items:
            if isinstance(item, Skipped):
                submitter.reject(item.line_no, item.line, item.reason)
            else:
                submitter.add(to_submission(item))
        return submitter.finish()
    subs = (item if isinstance(item, Skipped) else to_submission(item) for item in items)
    kind = submitter.prov.kind

    def parts_of(sub: Submission) -> tuple | None:
        platform = submitter.platform_for(sub, sub.kind or kind)
        return (platform, sub.bank, sub.country) if platform or sub.bank or sub.country else None

    for item, result in normalize_parallel(
        subs, value_of=lambda i: None if isinstance(i, Skipped) else i.value,
        kind_of=lambda i: i.kind or kind, parts_of=parts_of, region=submitter.region,
        allowlist=submitter.allowlist.entries,
    ):
        if result is None:
            submitter.reject(item.line_no, item.line, item.reason)
        elif isinstance(result, NormalizeError):
            submitter.add_normalized(item, result)
        else:
            submitter.add_normalized(item, *result)
    return submitter.finish()


def detect(path: Path) -> str:
    with path.open("rb") as fh:
        return detect_format(fh.read(HEAD_BYTES), name=path.name)


def import_file(
    db: Database,
    path: Path,
    provenance: Provenance,
    *,
    fmt: str | None = None,
    column: str | int | None = None,
    on_bytes: Callable[[int], None] | None = None,
    parallel: bool | None = None,
    relist_days: int | None = None,
) -> tuple[str, SubmitReport]:
    """Import one file in one transaction; returns the format used and the report.

    ``parallel`` (default: files over PARALLEL_BYTES on a machine with more than one core)
    normalises in worker processes while this one writes. ``relist_days``: the caller's
    REGISTRY_RELIST_DAYS (reports of values delisted since are held: ``SubmitReport.held``).
    """
    if not path.is_file():
        raise Invalid(f"{path}: no such file", field="file")
    try:
        fmt = fmt or detect(path)
    except OSError as exc:
        raise Invalid(f"{path}: cannot read: {exc.strerror}", field="file") from None
    if fmt == "stix":
        return fmt, _import_stix(db, path, provenance, on_bytes)
    with db.write() as conn, path.open("rb") as raw:
        if parallel is None:
            parallel = path.stat().st_size > PARALLEL_BYTES and (os.cpu_count() or 1) > 1
        stream = io.BufferedReader(CountingReader(raw, on_bytes), 1 << 16)
        with Submitter(conn, provenance, background_writes=parallel, batch_size=20000,
                       relist_days=relist_days) as submitter:
            report = run_import(submitter, stream, fmt, name=path.name, column=column, parallel=parallel)
    return fmt, report


def _import_stix(db: Database, path: Path, provenance: Provenance, on_bytes) -> SubmitReport:
    """A STIX bundle: read whole (orjson), imported by services.stix_import in one transaction.
    The provenance's org is the source of objects naming no identity; its TLP, confidence and
    grading are the defaults for objects without their own; its labels and feed apply to every row."""
    # the STIX code loads only for STIX files
    from registry.services.stix_import import import_bundle

    data = path.read_bytes()
    if on_bytes:
        on_bytes(len(data))
    try:
        return import_bundle(db, data, default_org=provenance.org, tlp=provenance.tlp,
                             confidence=provenance.confidence, labels=provenance.labels, feed=provenance.feed,
                             reliability=provenance.reliability, credibility=provenance.credibility,
                             keep_results=False, review_days=provenance.review_days)
    except Invalid as exc:
        if (exc.field or "").partition("[")[0] not in ("bundle", "objects"):
            raise
        # The file's shape is wrong: say which file, as the other formats' errors do.
        raise Invalid(f"{path.name}: {exc.message}", field=exc.field, details=exc.details) from None
