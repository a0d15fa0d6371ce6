"""Graph benchmark: 1,000,000 indicators, 200,000 relationships and 10,000 operations on SQLite or
PostgreSQL. The pivot graph two steps out around a value with 500 neighbours, through the service
(`services.graph.neighbourhood`) and over HTTP (`GET /api/v1/graph` against `registry serve`);
then batches of lookups without and with the operations and relationship counts of what they
matched.

    .venv/bin/python bench/graph.py [--indicators N] [--relationships N] [--operations N] [--runs N]
                                    [--batch N] [--lookups-only] [--postgres URL]

Targets: the graph around the 500-neighbour value answers in under 200 ms; lookups with operation
membership keep at least 90 % of their rate without it.

The indicators are bench/lookup.py's database (built there through the real submit path on first
use); the relationships and operations are added to a copy of it with bulk SQL (one executemany
per table), and the result is cached: a file in bench/out/ on SQLite, a schema of its own (kept)
on PostgreSQL. Operations hold 5 to 35 indicators each (20 on average), each linked to an earlier
member (a tree) and a few more within the operation, stated by one of four orgs at a TLP from CLEAR
to RED; the 500-neighbour value is a phone linked (GREEN) to one member of each of 500 operations,
so two steps out it reaches their operations' members. The HTTP measurement runs on a copy (SQLite)
so its key and audit rows never touch the cache.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import http_api
import lookup as lookup_bench
from common import Timer, mixed_values, postgres_admin, postgres_option, schema_url
from sqlalchemy import text

from registry.domain.operations import GRAPH_MAX_NODES, RELATIONSHIP_TYPES
from registry.domain.tlp import AMBER_STRICT, Viewer
from registry.services import graph, operations
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.storage import bulk
from registry.storage import indicators as ind_store
from registry.storage import relationships as rel_store
from registry.storage.db import Database, next_seq

VERSION = "v1"
HUB_NEIGHBOURS = 500
ORGS = (("bench", None), ("ccib-th", "TH"), ("pdrm-my", "MY"), ("bank-x", "TH"))
LEVELS = ("clear", "green", "green", "amber", "amber", "amber+strict", "red")
VIEWER = Viewer("bench", AMBER_STRICT)  # as bench/lookup.py's: every level but another org's RED


def sqlite_path(indicators: int, relationships: int, ops: int) -> Path:
    return lookup_bench.OUT / f"graph-{indicators}-{relationships}-{ops}-{VERSION}.db"


def database_url(args) -> str:
    """The benchmark database's URL, built first if it is not there yet."""
    if not args.postgres:
        path = sqlite_path(args.indicators, args.relationships, args.operations)
        if not path.exists():
            source = Path(lookup_bench.database_url(args.indicators, None).removeprefix("sqlite:///"))
            with sqlite3.connect(source) as conn:  # fold any WAL into the file before copying it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            partial = path.with_suffix(".partial")
            shutil.copy(source, partial)
            add_links(Database(f"sqlite:///{partial}"), args.relationships, args.operations)
            partial.rename(path)  # a build cut short is never taken for a cached one
        return f"sqlite:///{path}"
    schema = f"bench_graph_{args.indicators}_{args.relationships}_{args.operations}_{VERSION}"
    url = schema_url(args.postgres, schema)
    admin = postgres_admin(args.postgres)
    with admin.begin() as conn:
        built = conn.execute(text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND "
                                  "table_name = 'operation'"), {"s": schema}).first()
        if built:
            built = conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{schema}".operation)')).scalar()
        if not built:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    if not built:
        print(f"building schema {schema} on PostgreSQL (once; kept for later runs) ...", flush=True)
        lookup_bench.build_into(Database(url), args.indicators, cidr_share=0.1)
        add_links(Database(url), args.relationships, args.operations)
        # The statistics autovacuum gathers a while after a bulk load: without them the planner
        # scans tables it has never counted.
        analysed = postgres_admin(url)
        with analysed.begin() as conn:
            conn.execute(text("ANALYZE indicator, assertion, organization, relationship, operation, operation_member"))
        analysed.dispose()
    return url


def add_links(db: Database, relationships: int, ops: int, seed: int = 17) -> None:
    """The orgs, operations with their members, and relationships, in one transaction."""
    rng = random.Random(seed)
    for slug, country in ORGS[1:]:
        add_org(db, slug, slug, country)
    with Timer() as t, db.write() as conn:
        org_ids = dict(conn.exec_driver_sql("SELECT slug, id FROM organization").fetchall())
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM indicator ORDER BY id")]
        hub = conn.exec_driver_sql("SELECT min(id) FROM indicator WHERE kind = 'phone'").scalar()
        at = bulk.db_time(conn, lookup_bench.BUILT)
        orgs = [org_ids[slug] for slug, _ in ORGS]

        groups = [rng.sample(ids, rng.randint(5, 35)) for _ in range(ops)]
        seq = next_seq(conn, ops)
        bulk.insert_many(conn, "operation", (
            "uid", "org_id", "name", "tlp", "labels", "status", "created", "modified", "first_activity",
            "last_activity", "seq"), [
            (_uid(rng), rng.choice(orgs), f"Bench operation {k}", rng.choice(LEVELS), ",bench,", "open", at, at, at,
             at, seq + k) for k in range(ops)])
        op_ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM operation ORDER BY id")]
        bulk.insert_many(conn, "operation_member", ("operation_id", "indicator_id", "org_id", "added"), [
            (op_id, member, org_ids["bench"], at) for op_id, group in zip(op_ids, groups, strict=True)
            for member in group])

        links: dict[tuple, tuple] = {}  # (source, target, type, org) → (tlp, confidence): one statement each

        def state(source: int, target: int, org: int, tlp: str) -> None:
            links.setdefault((source, target, rng.choice(RELATIONSHIP_TYPES), org), (tlp, rng.randrange(20, 100)))

        for group in rng.sample(groups, HUB_NEIGHBOURS):
            state(hub, rng.choice(group), org_ids["bench"], "green")
        for group in groups:  # each member linked to an earlier one
            for i in range(1, len(group)):
                state(group[rng.randrange(i)], group[i], rng.choice(orgs), rng.choice(LEVELS))
        while len(links) < relationships:  # and a few more within an operation
            a, b = rng.sample(rng.choice(groups), 2)
            state(a, b, rng.choice(orgs), rng.choice(LEVELS))
        rows = list(links.items())[:relationships]
        seq = next_seq(conn, len(rows))
        bulk.insert_many(conn, "relationship", (
            "uid", "source_id", "target_id", "type", "org_id", "tlp", "confidence", "first_seen", "last_seen",
            "created", "modified", "seq"), [
            (_uid(rng), s, tg, ty, org, tlp, confidence, at, at, at, at, seq + n)
            for n, ((s, tg, ty, org), (tlp, confidence)) in enumerate(rows)])
    print(f"added {ops:,} operations ({sum(map(len, groups)):,} members) and {len(rows):,} relationships in "
          f"{t.seconds:.0f} s")
    db.dispose()


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hub(db: Database) -> tuple[str, int]:
    """The 500-neighbour value and how many relationships touch it."""
    with db.read() as conn:
        value, hub = conn.exec_driver_sql(
            "SELECT value, id FROM indicator WHERE id = (SELECT min(id) FROM indicator WHERE kind = 'phone')").one()
        count = rel_store.counts(conn, [hub], Viewer.operator())[hub]
    return value, count


def _timed_graph(db: Database, value: str, runs: int) -> tuple[list[float], dict]:
    """Milliseconds of each of ``runs`` graphs two steps out (after one untimed), and the last answer."""
    times = []
    for run in range(runs + 1):
        started = time.perf_counter()
        with db.read() as conn:
            answer = graph.neighbourhood(conn, value, VIEWER, 2)
        if run:
            times.append((time.perf_counter() - started) * 1000)
    return times, answer


def _spread(times: list[float]) -> str:
    return f"median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms of {len(times)}"


def graph_service(db: Database, runs: int) -> str:
    value, degree = _hub(db)
    times, answer = _timed_graph(db, value, runs)
    print(f"graph two steps out around {value} ({degree} relationships), through the service: {_spread(times)}; "
          f"{len(answer['nodes'])} nodes, {len(answer['edges'])} edges, truncated {answer['truncated']} "
          f"(cap {GRAPH_MAX_NODES}); target < 200 ms {'ok' if max(times) < 200 else 'MISSED'}")
    # One of its neighbours: two whole steps (the second reaches the 500 through it).
    near = answer["nodes"][1]["value"]
    times, answer = _timed_graph(db, near, runs)
    print(f"graph two steps out around {near}, one of its neighbours, through the service: {_spread(times)}; "
          f"{len(answer['nodes'])} nodes ({sum(1 for n in answer['nodes'] if n['distance'] == 2)} two steps out), "
          f"{len(answer['edges'])} edges, truncated {answer['truncated']}")
    # Values in the middle of an operation: a whole neighbourhood, under the cap.
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT i.value FROM operation_member m JOIN indicator i ON i.id = m.indicator_id "
                                    "ORDER BY m.operation_id, m.indicator_id LIMIT 20000").fetchall()
    sample = [r[0] for r in random.Random(5).sample(rows, 50)]
    each, sizes = [], []
    for sampled in sample:
        times_one, answer = _timed_graph(db, sampled, 1)
        each.append(times_one[0])
        sizes.append(len(answer["nodes"]))
    print(f"graph two steps out around 50 operation members, through the service: {_spread(each)}; "
          f"{statistics.median(sizes):.0f} nodes (median), {max(sizes)} at most")
    return value


def graph_http(url: str, value: str, runs: int) -> None:
    """The same graph as ``GET /api/v1/graph`` from `registry serve` (on a copy of a SQLite database)."""
    import requests

    from registry.services.access import ON_SERVER
    from registry.services.keys import create_key

    workdir = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    process = None
    try:
        if url.startswith("sqlite:///"):
            copy = workdir / "registry.db"
            shutil.copy(url.removeprefix("sqlite:///"), copy)
            url = f"sqlite:///{copy}"
        db = Database(url)
        key = create_key(db, "bench", "reader", AMBER_STRICT, by=ON_SERVER)["key"]
        db.dispose()
        process, base = http_api.start_server(url, workdir)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        path, params = base + "/api/v1/graph", {"value": value, "depth": 2}
        # Untimed first, from several connections at once so that every worker answers: a worker's
        # first lookup loads the listed networks (docs/performance.md, "Lookups").
        with ThreadPoolExecutor(http_api.WORKERS * 2) as pool:
            warm = list(pool.map(lambda _: requests.get(path, params=params, timeout=120,
                                                        headers=session.headers).status_code, range(12)))
        assert warm == [200] * 12, warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = session.get(path, params=params, timeout=60)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        nodes = len(response.json()["nodes"])
        session.close()
        print(f"GET /api/v1/graph?depth=2 around {value} over HTTP (registry serve, {http_api.WORKERS} workers): "
              f"{_spread(times)} ({nodes} nodes, {len(response.content):,} bytes); target < 200 ms "
              f"{'ok' if max(times) < 200 else 'MISSED'}")
    finally:
        if process is not None:
            http_api.stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _batch(indicators: int, size: int, seed: int) -> list[str]:
    """bench/lookup.py's mix: half values the database holds, half fresh ones."""
    known = [v for i, v in enumerate(mixed_values(indicators, seed=7, cidr_share=0.1)) if i % 10 == 0]
    rng = random.Random(seed)
    values = rng.sample(known, size // 2) + list(mixed_values(size - size // 2, seed=1000 + seed, cidr_share=0))
    rng.shuffle(values)
    return values


def _matched_ids(db: Database, answers: list[dict]) -> list[int]:
    """The ids of what the answers matched: the lookup holds them as it reads (untimed here)."""
    with db.read() as conn:
        return list(ind_store.indicator_ids(conn, sorted({m["value"] for a in answers for m in a.get("matches", ())})).values())


def _memberships(conn, ids: list[int]) -> None:
    """What a lookup adds to show ``operations`` and a ``related`` count for what it matched: the
    visible operations and relationship counts of those indicators (in chunks, as bulk reads go)."""
    for part in bulk.chunks(ids):
        operations.memberships(conn, part, VIEWER)
        rel_store.counts(conn, part, VIEWER)


def lookups(db: Database, args) -> None:
    """Lookups without and with the operations and relationship counts of what they match. With
    the lookup fields in place, "without" is the same batch on bench/lookup.py's database (the same
    indicators, no operation or relationship: the lookup reads neither); before them, it is the
    lookup alone on this database, and "with" adds the reads those fields take."""
    values = _batch(args.indicators, args.batch, 2)
    with db.read() as conn:
        answers = lookup(conn, values, VIEWER, region="TH", now=lookup_bench.NOW)
    native = "operations" in next(a for a in answers if "error" not in a)
    if native:
        print("lookup answers carry operations and related: this database beside bench/lookup.py's, which has "
              "the same indicators and no operation or relationship")
        plain = Database(lookup_bench.database_url(args.indicators, args.postgres))
        extra: list[int] = []
    else:
        print("lookup answers do not carry operations yet (the lookup fields are not on this branch): the lookup, "
              "and the lookup with the reads those fields take (the operations and relationship counts of the "
              "indicators it matched)")
        plain, extra = db, _matched_ids(db, answers)
    del answers
    rates: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(3):  # alternated, so a drift of the machine's speed falls on both
        for name, on in (("without", plain), ("with", db)):
            with Timer() as t, on.read() as conn:
                answers = lookup(conn, values, VIEWER, region="TH", now=lookup_bench.NOW)
                if name == "with" and extra:
                    _memberships(conn, extra)
            rates[name].append(len(values) / t.seconds)
            del answers
    best = {name: max(r) for name, r in rates.items()}
    ratio = best["with"] / best["without"]
    print(f"lookups of {len(values):,} values: {best['without']:,.0f} values/s without, {best['with']:,.0f} with "
          f"operations and related counts = {ratio:.1%} (target >= 90 %) {'ok' if ratio >= 0.9 else 'MISSED'}")
    print(f"  runs without: {', '.join(f'{r:,.0f}' for r in rates['without'])}; with: "
          f"{', '.join(f'{r:,.0f}' for r in rates['with'])} values/s")
    if plain is not db:
        plain.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--relationships", type=int, default=200_000)
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="timed graphs around the 500-neighbour value")
    parser.add_argument("--batch", type=int, default=100_000, help="values per lookup batch")
    parser.add_argument("--lookups-only", action="store_true", help="only the lookups without and with operations")
    postgres_option(parser)
    args = parser.parse_args()
    url = database_url(args)
    db = Database(url)
    engine = "SQLite" if db.is_sqlite else "PostgreSQL"
    with db.read() as conn:
        counts = [conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                  for table in ("indicator", "relationship", "operation", "operation_member")]
    print(f"database: {counts[0]:,} indicators, {counts[1]:,} relationships, {counts[2]:,} operations "
          f"({counts[3]:,} members) ({engine}); load average {os.getloadavg()[0]:.2f}")
    if not args.lookups_only:
        value = graph_service(db, args.runs)
        graph_http(url, value, args.runs)
    lookups(db, args)
    print(f"load average {os.getloadavg()[0]:.2f}")
    db.dispose()


if __name__ == "__main__":
    main()
