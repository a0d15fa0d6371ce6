"""Audit log benchmark on SQLite: what ``AuditLog.record()`` costs the caller's thread, how fast
the background flusher writes, how fast ``verify`` reads, and what auditing adds to a lookup.

    .venv/bin/python bench/audit.py [--events N] [--indicators N] [--lookups N] [--rounds N]

Baseline in the same run: a raw ``sqlite3`` ``executemany`` of the same rows (hashes already
computed), the ceiling for the flusher.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from common import Timer, mixed_values

from registry.domain.tlp import Viewer
from registry.services.audit import AuditLog, verify
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage import migrate
from registry.storage.db import Database


def fresh(folder: Path, name: str) -> Database:
    db = Database(f"sqlite:///{folder / name}")
    migrate.upgrade(db)
    return db


def record_many(log: AuditLog, values: list[str]) -> float:
    """ns per ``record()`` on this thread (the flusher runs meanwhile and competes for the GIL)."""
    start = time.perf_counter_ns()
    for i, value in enumerate(values):
        log.record("lookup", org="ccib-th", actor="rk_3f9a", subject=[value], result_count=i & 1,
                   client="203.0.113.9", status=200)
    return (time.perf_counter_ns() - start) / len(values)


def noop(action, **fields) -> None:
    """Baseline: a call with the same arguments that does nothing."""


def wait_written(log: AuditLog, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while log.pending and time.monotonic() < deadline:
        time.sleep(0.005)


def bench_writer(folder: Path, values: list[str]) -> float:
    """Prints the writer's figures; returns the audit's CPU cost per event in seconds
    (``record()`` plus its share of a flush of 100 events, as at ~500 lookups/s)."""
    n = len(values)
    db = fresh(folder, "writer.db")
    log = AuditLog(db)  # the defaults a web worker uses: 0.2 s interval, 1,000-event buffer
    start = time.perf_counter()
    ns = record_many(log, values)
    wait_written(log)
    end_to_end = n / (time.perf_counter() - start)
    log.close()
    print(f"record(): {ns:,.0f} ns per call on the caller's thread ({n:,} calls back to back, flusher "
          "writing meanwhile: includes its share of the GIL)")
    print(f"background flusher, end to end: {end_to_end:,.0f} rows/s (defaults: 0.2 s interval, 1,000 buffer)")

    # record() alone: the flusher thread idles (long interval, huge buffer) until flush() is called.
    log = AuditLog(db, flush_interval=3600, max_buffer=10**9)
    start = time.perf_counter_ns()
    for i, value in enumerate(values):
        noop("lookup", org="ccib-th", actor="rk_3f9a", subject=[value], result_count=i & 1, client="203.0.113.9", status=200)
    baseline = (time.perf_counter_ns() - start) / n
    alone = record_many(log, values)
    print(f"record(): {alone:,.0f} ns per call with the flusher idle, {alone - baseline:,.0f} ns above a no-op "
          f"call with the same arguments ({baseline:,.0f} ns)")
    log.flush()

    # What the flusher spends per event at a realistic pace: 0.2 s of ~500 lookups/s = 100 events.
    small = values[: min(n, 20_000)]
    spent = 0.0
    for i in range(0, len(small), 100):
        record_many(log, small[i : i + 100])
        with Timer() as t_small:
            log.flush()
        spent += t_small.seconds
    per_event = spent / len(small)
    print(f"flush() of 100 events: {per_event * 1e6:,.1f} us per event ({1 / per_event:,.0f} rows/s)")

    record_many(log, values)  # a backlog, as after the database was unavailable for a while
    with Timer() as t_flush:
        log.flush()
    log.close()
    flush_rate = n / t_flush.seconds
    print(f"flush() of a {n:,}-event backlog: {flush_rate:,.0f} rows/s (serialise, hash, insert)")

    with Timer() as t_verify:
        result = verify(db)
    print(f"verify: {result.checked:,} rows in {t_verify.seconds:.2f} s = {result.checked / t_verify.seconds:,.0f} rows/s "
          f"({'OK' if result.ok else result.problem})")

    # Baseline: the same rows, already serialised and hashed, through raw sqlite3.
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT time, org, actor, action, subject, result_count, client, status, prev_hash, hash "
            "FROM audit_event ORDER BY id LIMIT ?", (n,)
        ).all()
    db.dispose()
    raw = sqlite3.connect(folder / "writer.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    with Timer() as t_raw:
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(
            "INSERT INTO audit_event (time, org, actor, action, subject, result_count, client, status, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(r) for r in rows],
        )
        raw.execute("COMMIT")
    raw.close()
    raw_rate = n / t_raw.seconds
    print(f"raw sqlite3 executemany of the same rows: {raw_rate:,.0f} rows/s "
          f"(flush() is {flush_rate / raw_rate:.2f} of it)")
    return (alone - baseline) / 1e9 + per_event


def bench_lookup_overhead(folder: Path, indicators: int, lookups: int, rounds: int, per_event: float) -> None:
    db = fresh(folder, "lookup.db")
    add_org(db, "bench", "Bench", "TH")
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="bench", confidence=70, labels=("bench",)), batch_size=5000)
        for value in mixed_values(indicators, seed=7):
            submitter.add(Submission(value))
        submitter.finish()
    viewer = Viewer("bench", "amber+strict")
    queries = list(mixed_values(lookups, seed=11, cidr_share=0))
    log = AuditLog(db)

    def run(audited: bool) -> tuple[float, float]:
        """Wall and process CPU seconds per lookup (CPU counts the flusher thread too and is
        less disturbed by other processes on the machine)."""
        wall, cpu = time.perf_counter(), time.process_time()
        for q in queries:
            with db.read() as conn:
                answers = lookup(conn, [q], viewer, region="TH")
            if audited:
                log.record("lookup", org="bench", actor="rk_3f9a", subject=[q],
                           result_count=sum(1 for a in answers if a.get("listed")), client="203.0.113.9", status=200)
        if audited:
            log.flush()  # the round pays for all of its own audit rows, none leak into the next
        return (time.perf_counter() - wall) / len(queries), (time.process_time() - cpu) / len(queries)

    # Alternate rounds so drift on a noisy machine hits both sides alike; compare medians.
    plain, audited = [], []
    for r in range(rounds):  # ABBA order, so whatever favours the first (or second) round cancels
        for audit_it in (False, True) if r % 2 == 0 else (True, False):
            (audited if audit_it else plain).append(run(audit_it))
    log.close()
    p = statistics.median(r[0] for r in plain)
    print(f"single in-process lookup ({indicators:,} indicators): {p * 1e6:,.0f} us; the audit's measured cost "
          f"per event ({per_event * 1e6:,.1f} us, above) is {per_event / p * 100:.1f}% of it")
    for i, what in enumerate(("wall", "CPU")):
        p = statistics.median(r[i] for r in plain)
        a = statistics.median(r[i] for r in audited)
        print(f"  measured directly, {what}: {p * 1e6:,.0f} us plain, {a * 1e6:,.0f} us audited: "
              f"{(a - p) / p * 100:+.1f}% (medians of {rounds} alternating rounds of {len(queries)}; noisy)")

    batch = list(mixed_values(10_000, seed=13, cidr_share=0))
    with db.read() as conn, Timer() as t_batch:
        lookup(conn, batch, viewer, region="TH")
    log = AuditLog(db)
    log.record("warm-up")  # starts the flusher thread, which is not part of a record()'s cost
    start = time.perf_counter_ns()
    log.record("lookup", org="bench", subject=batch, result_count=0)
    cost = time.perf_counter_ns() - start
    log.close()
    print(f"batch lookup of 10,000 values: {t_batch.seconds * 1000:,.0f} ms; recording it: {cost / 1000:,.0f} us "
          f"({cost / 1e9 / t_batch.seconds * 100:.3f}%)")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--indicators", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=300, help="single lookups per round")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    values = list(mixed_values(args.events, seed=5))
    with tempfile.TemporaryDirectory() as folder:
        per_event = bench_writer(Path(folder), values)
        bench_lookup_overhead(Path(folder), args.indicators, args.lookups, args.rounds, per_event)


if __name__ == "__main__":
    main()
