"""Normalising a large feed on the other cores while this process writes to the database.

Two ways in, both at most ``window`` chunks ahead (memory stays flat), results in input order:

- ``normalize_parallel``: records parsed here (CSV and JSON keep parser state), their values
  normalised in worker processes;
- ``prepare_text_parallel``: a plain list, cut here at line ends (``textio.line_chunks``);
  the workers parse, normalise and allowlist whole pieces. This process then only merges and
  writes: at a million lines, parsing and the unpickling of rich results cost it more than
  the database did.

Results cross the process boundary as plain tuples, which pickle in C without a call per
object (a ``Value`` or an exception costs far more to unpickle: docs/performance.md).
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import BinaryIO

from registry.domain.allowlist import Allowlist, Entry, emergency_reason
from registry.domain.normalize import NormalizeError, normalize
from registry.ingest import plainlist
from registry.ingest.records import FeedFormatError, Skipped
from registry.ingest.textio import line_chunks

CHUNK = 2000
WINDOW = 4


# Set only in the pool's worker processes, from the entries the caller read from its database:
# each pool is spawned for one run and ends with it, so no other database's list is ever seen.
_allowlist: Allowlist | None = None


def _start_worker(entries: list[Entry]) -> None:
    global _allowlist
    _allowlist = Allowlist(entries)
    normalize("example.com", None, "TH")  # loads the suffix list and phone metadata now
    normalize("+66812345678", None, "TH")
    gc.freeze()  # ...which the collector then never scans again (a feed's rows are acyclic)


def _normalize_chunk(values: list[tuple], region: str | None) -> list:
    """Per ``(raw, kind)`` or ``(raw, kind, platform, bank, country)``: ``(values, allowlist
    reasons)`` or the NormalizeError."""
    out = []
    reason_for = _allowlist.reason_for
    for item in values:
        try:
            if len(item) == 2:
                found = normalize(item[0], item[1], region)
            else:
                raw, kind, platform, bank, country = item
                found = normalize(raw, kind, region, platform, bank=bank, country=country)
        except NormalizeError as exc:
            out.append(exc)
            continue
        out.append((found, tuple(reason_for(v) for v in found)))
    return out


# What ``prepare_text_parallel`` yields per parsed row, by its first field.
SKIPPED, REJECTED, ALLOWLISTED, NORMALISED = 0, 1, 2, 3


def _prepare_text_chunk(piece: bytes, first_line: int, vcard: bool, name: str, kind: str | None,
                        region: str | None, platform: str | None = None) -> list[tuple] | tuple:
    """A piece of a plain list, parsed, normalised and allowlisted: per row
    ``(SKIPPED, line_no, line, reason)``, ``(REJECTED, value, line_no, line, reason)``,
    ``(ALLOWLISTED, value, reason)`` (an emergency number) or ``(NORMALISED, value, raw, values,
    reasons)`` with each value a plain tuple of ``Value``'s fields. A piece that breaks the
    file's rules comes back as ``(message, line_no)``, raised again in the parent."""
    out = []
    append = out.append
    reason_for = _allowlist.reason_for
    try:
        for record in plainlist.parse_text(io.BytesIO(piece), name=name, vcard=vcard, first_line=first_line,
                                         whole=False):
            if isinstance(record, Skipped):
                append((SKIPPED, record.line_no, record.line, record.reason))
                continue
            try:
                found = normalize(record.value, kind, region, platform)
            except NormalizeError as exc:
                reason = emergency_reason(record.value)
                append((ALLOWLISTED, record.value, reason) if reason
                       else (REJECTED, record.value, record.line_no, record.line, str(exc)))
                continue
            append((NORMALISED, record.value, record.line, tuple(map(tuple, found)),
                    tuple(map(reason_for, found))))
    except FeedFormatError as exc:
        return exc.message, exc.line_no
    return out


def prepare_text_parallel(stream: BinaryIO, *, name: str, kind: str | None, region: str | None,
                          allowlist: list[Entry], platform: str | None = None, workers: int | None = None,
                          window: int = WINDOW) -> Iterator[list[tuple]]:
    """Yield, piece by piece of a plain list, the rows ``_prepare_text_chunk`` describes.
    Raises ``FeedFormatError`` as ``parse_text`` would (binary data, a runaway line)."""
    vcard = None
    with _pool(allowlist, workers) as pool:
        pending: deque[Future] = deque()

        def result(future: Future) -> list[tuple]:
            rows = future.result()
            if isinstance(rows, tuple):
                message, line_no = rows
                raise FeedFormatError(message, name=name, line_no=line_no)
            return rows

        for first_line, piece in line_chunks(stream, name=name):
            if vcard is None:
                vcard = plainlist.vcard_start(piece)
            pending.append(pool.submit(_prepare_text_chunk, piece, first_line, vcard, name, kind, region, platform))
            if len(pending) >= window:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())


def _pool(allowlist: list[Entry], workers: int | None) -> ProcessPoolExecutor:
    # spawn, not fork: the parent may hold database connections and threads.
    return ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(allowlist,))


def _work(value: str, kind: str | None, parts: tuple | None) -> tuple:
    # Most rows are a value and a kind: the other fields cross only when a row has them.
    return (value, kind) if parts is None else (value, kind, *parts)


def default_workers() -> int:
    return max(1, min(3, (os.cpu_count() or 1) - 1))


def normalize_parallel(
    items: Iterable, *, value_of, kind_of, region: str | None, allowlist: list[Entry], parts_of=None,
    workers: int | None = None, chunk: int = CHUNK, window: int = WINDOW,
) -> Iterator[tuple[object, tuple | NormalizeError | None]]:
    """Yield ``(item, (values, allowlist reasons) or NormalizeError)`` in order; items whose
    ``value_of`` is None (skipped lines) come back with None. ``parts_of(item)``: None, or the
    ``(platform, bank, country)`` its value is read with. The allowlist check runs in the
    workers too: it is the next costliest step per row."""
    with _pool(allowlist, workers) as pool:
        pending: deque[tuple[list, Future]] = deque()
        batch: list = []

        def send(batch: list) -> None:
            work = [_work(value_of(i), kind_of(i), parts_of(i) if parts_of is not None else None)
                    for i in batch if value_of(i) is not None]
            pending.append((batch, pool.submit(_normalize_chunk, work, region)))

        def drain_one() -> Iterator:
            done_batch, future = pending.popleft()
            results = iter(future.result())
            for item in done_batch:
                yield item, (next(results) if value_of(item) is not None else None)

        for item in items:
            batch.append(item)
            if len(batch) >= chunk:
                send(batch)
                batch = []
                if len(pending) >= window:
                    yield from drain_one()
        if batch:
            send(batch)
        while pending:
            yield from drain_one()
