"""Lookup benchmark: 1,000,000 indicators (100,000 CIDR ranges) on SQLite or PostgreSQL; batches
of 100,000 mixed values through the lookup service (in one process, as every caller meets it),
`registry lookup --json --file` of 100,000 values including its start-up, beside a raw driver
query for the exact values; then single lookups.

    .venv/bin/python bench/lookup.py [--indicators N] [--batch N] [--singles N] [--postgres URL]
                                     [--new-kinds SHARE]

With ``--new-kinds 0.1`` a tenth of the stored and of the looked-up values are of the kinds of
issue 14 (bank and e-wallet accounts, crypto wallets, user accounts, file hashes), in a database
of their own. With ``--picture`` (SQLite) the database is a copy holding 10,000 operations of 10
members each and 200,000 relationships over its indicators (a fifth at TLP:RED, hidden from the
benchmark's viewer): lookups that list operations and count relationships, beside the same
database without them.

The database is built once through the real submit path, then reused when the same --indicators
is asked again: a file in bench/out/ on SQLite, a schema of its own (kept) on PostgreSQL. Its
rows carry a fixed time and the timed batches look up at a fixed time, so the sha256 printed of
the first batch's answers (canonical JSON: keys sorted, answers in input order) is the same on
every run and engine while the answers are: compare it before and after a change.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import (
    Timer,
    mixed_values,
    new_kinds_option,
    peak_rss_mb,
    postgres_admin,
    postgres_option,
    schema_url,
)
from sqlalchemy import text

from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.operations import RELATIONSHIP_TYPES
from registry.domain.tlp import Viewer
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage import bulk, migrate
from registry.storage.db import Database, next_seq

OUT = Path(__file__).parent / "out"
REGISTRY = Path(sys.executable).parent / "registry"
# v2: ranges spread over the whole IPv4 space; v3: every row written at BUILT.
VERSION = "v3"
BUILT = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # the timed batches' "now": answers that do not drift


def _mix(new_kinds: float) -> str:
    return f"-new{round(new_kinds * 100)}" if new_kinds else ""


def sqlite_path(indicators: int, new_kinds: float = 0.0) -> Path:
    """The cached SQLite database (bench/export.py, stix_export.py and http_api.py reuse it)."""
    return OUT / f"lookup-{indicators}-{VERSION}{_mix(new_kinds)}.db"


def build(path: Path, count: int, cidr_share: float, new_kinds: float = 0.0) -> None:
    build_into(Database(f"sqlite:///{path}"), count, cidr_share, new_kinds)


def build_into(db: Database, count: int, cidr_share: float, new_kinds: float = 0.0) -> None:
    migrate.upgrade(db)
    add_org(db, "bench", "Bench", "TH")
    with Timer() as t, db.write() as conn:
        submitter = Submitter(conn, Provenance(org="bench", confidence=70, labels=("bench",)), batch_size=5000,
                              now=BUILT)
        for value in mixed_values(count, seed=7, cidr_share=cidr_share, new_kinds=new_kinds):
            submitter.add(Submission(value))
        report = submitter.finish()
    print(f"built {report.new:,} indicators in {t.seconds:.0f} s (rejected {report.rejected})")
    db.dispose()


def database_url(indicators: int, postgres: str | None, new_kinds: float = 0.0) -> str:
    """The benchmark database's URL, built first if it is not there yet."""
    OUT.mkdir(exist_ok=True)
    if not postgres:
        path = sqlite_path(indicators, new_kinds)
        if not path.exists():
            build(path, indicators, cidr_share=0.1, new_kinds=new_kinds)
        return f"sqlite:///{path}"
    schema = f"bench_lookup_{indicators}_{VERSION}{_mix(new_kinds).replace('-', '_')}"
    url = schema_url(postgres, schema)
    admin = postgres_admin(postgres)
    with admin.begin() as conn:
        built = conn.execute(text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND "
                                  "table_name = 'indicator'"), {"s": schema}).first()
        if built:
            built = conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{schema}".indicator)')).scalar()
        if not built:  # a build cut short commits nothing but the tables: start again
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    if not built:
        print(f"building schema {schema} on PostgreSQL (once; kept for later runs) ...", flush=True)
        build_into(Database(url), indicators, cidr_share=0.1, new_kinds=new_kinds)
    return url


PICTURE = (10_000, 10, 200_000)  # operations, members of each, relationships


def picture_url(indicators: int, new_kinds: float = 0.0) -> str:
    """A copy of the SQLite benchmark database with ``PICTURE`` added (built once, kept)."""
    path = sqlite_path(indicators, new_kinds)
    copy = path.with_name(f"{path.stem}-picture.db")
    if not copy.exists():
        partial = copy.with_suffix(".partial")
        shutil.copyfile(path, partial)
        with Timer() as t:
            add_picture(Database(f"sqlite:///{partial}"))
        partial.rename(copy)
        print(f"added {PICTURE[0]:,} operations of {PICTURE[1]} members and {PICTURE[2]:,} relationships in "
              f"{t.seconds:.0f} s")
    return f"sqlite:///{copy}"


def add_picture(db: Database, seed: int = 11) -> None:
    """Operations (TLP:AMBER) of random indicators and relationships between random indicators,
    written straight into their tables in one transaction."""
    operations, members, links = PICTURE
    rng = random.Random(seed)
    with db.write() as conn:
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM indicator ORDER BY id")]
        org = conn.exec_driver_sql("SELECT id FROM organization WHERE slug = 'bench'").scalar_one()
        at, seq = bulk.time_writer(conn)(BUILT), next_seq(conn)
        bulk.insert_many(conn, "operation", ("uid", "org_id", "name", "tlp", "labels", "status", "created", "modified",
                                             "seq"),
                         [(str(uuid.UUID(int=rng.getrandbits(128))), org, f"operation {n}", "amber", ",bench,", "open",
                           at, at, seq) for n in range(operations)])
        made = [row[0] for row in conn.exec_driver_sql("SELECT id FROM operation ORDER BY id")]
        bulk.insert_many(conn, "operation_member", ("operation_id", "indicator_id", "org_id", "added"),
                         [(op, member, org, at) for op in made for member in rng.sample(ids, members)])
        pairs: set[tuple[int, int, str]] = set()
        while len(pairs) < links:
            source, target = rng.choice(ids), rng.choice(ids)
            if source != target:
                pairs.add((source, target, rng.choice(RELATIONSHIP_TYPES)))
        bulk.insert_many(conn, "relationship", ("uid", "source_id", "target_id", "type", "org_id", "tlp", "confidence",
                                                "first_seen", "last_seen", "created", "modified", "seq"),
                         [(str(uuid.UUID(int=rng.getrandbits(128))), source, target, kind, org,
                           "red" if rng.random() < 0.2 else "amber", 50, at, at, at, at, seq)
                          for source, target, kind in sorted(pairs)])
    db.dispose()


def answers_sha256(answers: list[dict]) -> str:
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def raw_exact_in(db: Database, canon: list[str]) -> tuple[float, int]:
    """The baseline: the exact values through the bare driver, 5,000 a statement."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with Timer() as t_raw:
            found = 0
            for i in range(0, len(canon), 5000):
                part = canon[i : i + 5000]
                if db.is_sqlite:
                    cursor.execute(f"SELECT id, value FROM indicator WHERE value IN ({','.join('?' * len(part))})", part)
                else:
                    cursor.execute("SELECT id, value FROM indicator WHERE value = ANY(%s)", (part,))
                found += len(cursor.fetchall())
        cursor.close()
    finally:
        raw.close()
    return len(canon) / t_raw.seconds, found


def cli_lookup(url: str, values: list[str]) -> tuple[float, list[dict]]:
    """`registry lookup --json --file` of ``values`` in a process of its own, its answers
    written to a file (as `> answers.json` would): values/s from its start to its exit, and
    its answers."""
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as work:
        values_file, answers_file = Path(work) / "values.txt", Path(work) / "answers.json"
        values_file.write_text("\n".join(values) + "\n", encoding="utf-8")
        env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_DEFAULT_REGION": "TH",
               "REGISTRY_INSTANCE_PATH": work}
        with answers_file.open("wb") as out, Timer() as t:
            subprocess.run([REGISTRY, "lookup", "--json", "--file", str(values_file)], env=env, check=True,
                           stdout=out)
        return len(values) / t.seconds, json.loads(answers_file.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000)
    postgres_option(parser)
    new_kinds_option(parser)
    parser.add_argument("--picture", action="store_true",
                        help="on a copy holding 10,000 operations and 200,000 relationships (SQLite)")
    args = parser.parse_args()
    url = database_url(args.indicators, args.postgres, args.new_kinds)
    if args.picture:
        if args.postgres:
            parser.error("--picture is for SQLite")
        url = picture_url(args.indicators, args.new_kinds)
    db = Database(url)
    engine = "SQLite" if db.is_sqlite else "PostgreSQL"
    with db.read() as conn:
        cidrs = conn.exec_driver_sql("SELECT count(*) FROM indicator WHERE prefix_len < 32 AND kind='ipv4'").scalar()
        total = conn.exec_driver_sql("SELECT count(*) FROM indicator").scalar()
    print(f"database: {total:,} indicators, {cidrs:,} IPv4 ranges ({engine}); load average {os.getloadavg()[0]:.2f}")

    # Half of each batch is known values, half fresh ones (which may still fall inside a range).
    # Every timed batch has values of its own: per-value caches (a domain's registrable part,
    # a number's display form) must not carry over from one timing to the next.
    known = [v for i, v in enumerate(mixed_values(args.indicators, seed=7, cidr_share=0.1, new_kinds=args.new_kinds))
             if i % 10 == 0]

    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        fresh = list(mixed_values(args.batch - args.batch // 2, seed=1000 + seed, cidr_share=0,
                                  new_kinds=args.new_kinds))
        values = rng.sample(known, args.batch // 2) + fresh
        rng.shuffle(values)
        return values

    viewer = Viewer("bench", "amber+strict")
    # A fresh process first loads the listed networks (then keeps them current incrementally):
    # timed apart, so the batch figures are what a CLI run or a running process gets.
    first = batch(1)[:1000]
    with Timer() as t_cold, db.read() as conn:
        lookup(conn, first, viewer, region="TH", now=NOW)
    print(f"first lookup in a fresh process (loads {cidrs:,} listed networks): {t_cold.seconds:.2f} s")

    def timed(seed: int) -> tuple[float, float, list[str], list[dict]]:
        values = batch(seed)
        with Timer() as t, db.read() as conn:
            answers = lookup(conn, values, viewer, region="TH", now=NOW)
        return len(values) / t.seconds, len(values) / t.cpu, values, answers

    rate, cpu_rate, queries, answers = timed(2)
    listed = sum(1 for a in answers if a.get("listed"))
    in_operations = sum(1 for a in answers if a.get("operations"))
    print(f"batch lookup in one process: {len(queries):,} values = {rate:,.0f} values/s ({cpu_rate:,.0f} per CPU "
          f"second; {listed:,} listed, {in_operations:,} in an operation); target >= 30,000 values/s")
    print(f"sha256 of the batch's answers: {answers_sha256(answers)}")
    del answers
    again, cpu_again, _, _ = timed(3)
    print(f"batch lookup again, after a batch in the same process: {again:,.0f} values/s ({cpu_again:,.0f} per CPU "
          f"second)")

    cli_rate, cli_answers = cli_lookup(url, queries)
    assert [a["query"] for a in cli_answers] == queries
    cli_listed = sum(1 for a in cli_answers if a.get("listed"))
    del cli_answers
    print(f"registry lookup --json --file, {len(queries):,} values including start-up: {cli_rate:,.0f} values/s "
          f"({cli_listed:,} listed); target >= 25,000 values/s")

    canon = []
    for q in queries:
        with contextlib.suppress(NormalizeError):
            canon.append(normalize_one(q, None, "TH").value)
    raw_rate, found = raw_exact_in(db, canon)
    driver = "sqlite3 IN" if db.is_sqlite else "psycopg = ANY"
    print(f"raw {driver} (exact values only): {raw_rate:,.0f} values/s ({found:,} found)")
    print(f"batch lookup is {rate / raw_rate:.2f} of raw exact values")

    singles = batch(5)[: args.singles]
    with Timer() as t_single:
        for q in singles:
            with db.read() as conn:
                lookup(conn, [q], viewer, region="TH")
    print(f"single lookups through the service: {len(singles) / t_single.seconds:,.0f} lookups/s "
          f"({t_single.seconds / len(singles) * 1000:.2f} ms each)")
    print(f"peak RSS {peak_rss_mb():.0f} MB; load average {os.getloadavg()[0]:.2f}")
    db.dispose()


if __name__ == "__main__":
    main()
