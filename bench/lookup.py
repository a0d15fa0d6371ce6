"""Lookup benchmark: 1,000,000 indicators (100,000 CIDR ranges) on SQLite; batches of 100,000
mixed values through the lookup service (its default, as a CLI run meets it; one process; the
default again in a process that answered a batch before), beside a raw sqlite3 ``IN`` query
for the exact values.

    .venv/bin/python bench/lookup.py [--indicators N] [--batch N] [--singles N]

The database is built once in a temp folder through the real submit path, then reused when the
same --indicators is asked again (bench/out/).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import sys
from pathlib import Path

# bench/ holds http.py (named by the issue); keep it from shadowing the standard library's http.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

from common import Timer, mixed_values, peak_rss_mb  # noqa: E402

from registry.domain.normalize import NormalizeError, normalize_one  # noqa: E402
from registry.domain.tlp import Viewer  # noqa: E402
from registry.services.lookup import lookup  # noqa: E402
from registry.services.orgs import add_org  # noqa: E402
from registry.services.submit import Provenance, Submission, Submitter  # noqa: E402
from registry.storage import migrate  # noqa: E402
from registry.storage.db import Database  # noqa: E402

OUT = Path(__file__).parent / "out"


def build(path: Path, count: int, cidr_share: float) -> None:
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    add_org(db, "bench", "Bench", "TH")
    with Timer() as t, db.write() as conn:
        submitter = Submitter(conn, Provenance(org="bench", confidence=70, labels=("bench",)), batch_size=5000)
        for value in mixed_values(count, seed=7, cidr_share=cidr_share):
            submitter.add(Submission(value))
        report = submitter.finish()
    print(f"built {report.new:,} indicators in {t.seconds:.0f} s (rejected {report.rejected})")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"lookup-{args.indicators}-v2.db"  # v2: ranges spread over the whole IPv4 space
    if not path.exists():
        build(path, args.indicators, cidr_share=0.1)
    db = Database(f"sqlite:///{path}")
    with db.read() as conn:
        cidrs = conn.exec_driver_sql("SELECT count(*) FROM indicator WHERE prefix_len < 32 AND kind='ipv4'").scalar()
        total = conn.exec_driver_sql("SELECT count(*) FROM indicator").scalar()
    print(f"database: {total:,} indicators, {cidrs:,} IPv4 ranges")

    # Half of each batch is known values, half fresh ones (which may still fall inside a range).
    # Every timed batch has values of its own: per-value caches (a domain's registrable part,
    # a number's display form) must not carry over from one timing to the next.
    known = [v for i, v in enumerate(mixed_values(args.indicators, seed=7, cidr_share=0.1)) if i % 10 == 0]

    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        fresh = list(mixed_values(args.batch - args.batch // 2, seed=1000 + seed, cidr_share=0))
        values = rng.sample(known, args.batch // 2) + fresh
        rng.shuffle(values)
        return values

    viewer = Viewer("bench", "amber+strict")
    # A fresh process first loads the listed networks (then keeps them current incrementally):
    # timed apart, so the batch figures are what a CLI run or a running process gets.
    first = batch(1)[:1000]
    with Timer() as t_cold, db.read() as conn:
        lookup(conn, first, viewer, region="TH")
    print(f"first lookup in a fresh process (loads {cidrs:,} listed networks): {t_cold.seconds:.2f} s")

    def timed(seed: int, **options) -> tuple[float, list[str], list[dict]]:
        values = batch(seed)
        with Timer() as t, db.read() as conn:
            answers = lookup(conn, values, viewer, region="TH", **options)
        return len(values) / t.seconds, values, answers

    # The service's default (two processes) as `registry lookup --file` meets it: the first large
    # batch of a process. Then one process alone, and the default again in a process that has
    # answered a batch already (the child then page-copies the memory that batch freed).
    rate, queries, answers = timed(2)
    listed = sum(1 for a in answers if a.get("listed"))
    del answers
    print(f"batch lookup (the service's default: split between two processes): {len(queries):,} values = "
          f"{rate:,.0f} values/s ({listed:,} listed)")
    one_rate, _, _ = timed(3, split=False)
    print(f"batch lookup in one process: {one_rate:,.0f} values/s")
    again, _, _ = timed(4)
    print(f"batch lookup (the default again, after a batch in the same process): {again:,.0f} values/s")

    canon = []
    for q in queries:
        with contextlib.suppress(NormalizeError):
            canon.append(normalize_one(q, None, "TH").value)
    raw = sqlite3.connect(path)
    with Timer() as t_raw:
        found = 0
        for i in range(0, len(canon), 5000):
            part = canon[i : i + 5000]
            found += len(raw.execute(f"SELECT id, value FROM indicator WHERE value IN ({','.join('?' * len(part))})", part).fetchall())
    raw_rate = len(canon) / t_raw.seconds
    print(f"raw sqlite3 IN (exact values only): {raw_rate:,.0f} values/s ({found:,} found)")
    print(f"batch lookup is {rate / raw_rate:.2f} of raw exact IN; target >= 50,000 values/s")

    singles = batch(5)[: args.singles]
    with Timer() as t_single:
        for q in singles:
            with db.read() as conn:
                lookup(conn, [q], viewer, region="TH")
    print(f"single lookups through the service: {len(singles) / t_single.seconds:,.0f} lookups/s "
          f"({t_single.seconds / len(singles) * 1000:.2f} ms each)")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
