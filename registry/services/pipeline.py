"""Normalising a large feed on the other cores while this process writes to the database.

Parsing stays here (CSV state, line numbers); normalisation, the costliest step per row, runs
in worker processes on chunks of values, at most ``window`` chunks ahead, so memory stays flat.
Results come back in input order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from registry.domain.allowlist import Allowlist, Entry
from registry.domain.normalize import NormalizeError, normalize

CHUNK = 2000
WINDOW = 4


_allowlist: Allowlist | None = None  # each worker's own, built once from the parent's entries


def _start_worker(entries: list[Entry]) -> None:
    global _allowlist
    _allowlist = Allowlist(entries)


def _normalize_chunk(values: list[tuple[str, str | None]], region: str | None) -> list:
    """Per value: ``(values, allowlist reasons)`` or the NormalizeError."""
    out = []
    reason_for = _allowlist.reason_for
    for raw, kind in values:
        try:
            found = normalize(raw, kind, region)
        except NormalizeError as exc:
            out.append(exc)
            continue
        out.append((found, tuple(reason_for(v) for v in found)))
    return out


def default_workers() -> int:
    return max(1, min(3, (os.cpu_count() or 1) - 1))


def normalize_parallel(
    items: Iterable, *, value_of, kind_of, region: str | None, allowlist: list[Entry],
    workers: int | None = None, chunk: int = CHUNK, window: int = WINDOW,
) -> Iterator[tuple[object, tuple | NormalizeError | None]]:
    """Yield ``(item, (values, allowlist reasons) or NormalizeError)`` in order; items whose
    ``value_of`` is None (skipped lines) come back with None. The allowlist check runs in the
    workers too: it is the next costliest step per row."""
    # spawn, not fork: the parent may hold database connections and threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers or default_workers(), mp_context=context, initializer=_start_worker,
        initargs=(allowlist,),
    ) as pool:
        pending: deque[tuple[list, Future]] = deque()
        batch: list = []

        def send(batch: list) -> None:
            work = [(value_of(i), kind_of(i)) for i in batch if value_of(i) is not None]
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
