"""HTTP benchmark: `registry serve` (gunicorn, 2 workers) on SQLite holding 1,000,000 indicators,
driven from a second process (wrk when installed, else a Python client) for a fixed time.

    .venv/bin/python bench/http_api.py [--seconds 10] [--threads 2] [--connections 4] [--indicators N] [--looker ORG]

Reports requests/s, p50 and p99 of single lookups (GET /api/v1/lookup over a fixed, shuffled set
of listed and unlisted IPs, domains and phone numbers) beside the same server's /-/health under
the same load in the same run, and the time to answer a 10,000-value batch.
Targets: lookups at >= 0.6x the health rate, lookup p99 < 20 ms, the batch < 500 ms.

The database is bench/lookup.py's (built there on first use, cached in bench/out/); this script
runs on a copy, so the API key it creates and the audit rows the run writes never touch the cache.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import lookup as lookup_bench  # bench/lookup.py: its cached database and build()

REGISTRY = Path(sys.executable).parent / "registry"
WORKERS = 2
SINGLES = 1000  # distinct values the single lookups cycle through
BATCH = 10_000
BATCH_RUNS = 5


def database(indicators: int, workdir: Path) -> Path:
    """A private copy of the cached benchmark database (built by bench/lookup.py if missing)."""
    from registry.storage import migrate
    from registry.storage.db import Database

    lookup_bench.OUT.mkdir(exist_ok=True)
    cached = lookup_bench.sqlite_path(indicators)
    if not cached.exists():
        print(f"building {cached} (once; bench/lookup.py reuses it) ...", flush=True)
        lookup_bench.build(cached, indicators, cidr_share=0.1)
    with sqlite3.connect(cached) as conn:  # fold any WAL into the file before copying it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = workdir / "registry.db"
    shutil.copy(cached, copy)
    db = Database(f"sqlite:///{copy}")
    migrate.upgrade(db)  # a no-op unless the cache predates a migration
    db.dispose()
    return copy


def queries(indicators: int) -> tuple[list[str], list[str]]:
    """The fixed single-lookup set and the 10,000-value batch: half values the database lists
    (IPs, domains, phones: no CIDRs), half fresh ones (which may still fall inside a range)."""
    from common import mixed_values

    from registry.domain.normalize import NormalizeError, normalize_one

    def valid(values):  # the generator makes some values submit rejects (bad phone numbers)
        for value in values:
            try:
                normalize_one(value, None, "TH")
            except NormalizeError:
                continue
            yield value

    rng = random.Random(5)
    listed = [v for v in valid(itertools.islice(mixed_values(indicators, seed=7, cidr_share=0.1), 200_000))
              if "/" not in v]
    fresh = list(itertools.islice(valid(mixed_values(10 * BATCH, seed=99, cidr_share=0)), BATCH))
    singles = rng.sample(listed[: SINGLES * 20], SINGLES // 2) + fresh[: SINGLES // 2]
    rng.shuffle(singles)
    batch = rng.sample(listed, BATCH // 2) + fresh[: BATCH // 2]
    rng.shuffle(batch)
    return singles, batch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_path: Path | str, workdir: Path) -> tuple[subprocess.Popen, str]:
    """`registry serve` on ``db_path`` (a SQLite file, or a database URL: bench/graph.py's)."""
    import requests

    port = free_port()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": db_path if isinstance(db_path, str) else f"sqlite:///{db_path}",
        "REGISTRY_INSTANCE_PATH": str(workdir / "instance"),
        "REGISTRY_SECRET_KEY": secrets.token_urlsafe(48),
        "REGISTRY_RATE_LIMIT": "1000000000 per minute",  # measure the API, not the limiter's refusals
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [str(REGISTRY), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited: {(workdir / 'server.log').read_text()}")
            try:
                if requests.get(url + "/-/health", timeout=5).status_code == 200:
                    return process, url
            except requests.RequestException:  # not listening yet, or a worker still starting
                pass
            time.sleep(0.1)
        raise SystemExit("server did not answer /-/health within 60 s")
    except BaseException:
        stop_server(process)  # never leave a server behind
        raise


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_cpu_seconds(arbiter_pid: int) -> float | None:
    """User + system CPU of the gunicorn workers (children of the arbiter), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == arbiter_pid:  # field 4, ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    return total / ticks if found else None


# -- load generators ------------------------------------------------------------------------
_WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 397)
  counter = counter + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "%(auth)s"})
end
"""


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, paths: list[str], key: str | None, *, seconds: int, threads: int, connections: int,
            workdir: Path) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if key:
        script = workdir / "lookups.lua"
        script.write_text(_WRK_SCRIPT % {"paths": ",".join(json.dumps(p) for p in paths), "auth": f"Bearer {key}"})
        command += ["-s", str(script)]
        target = url
    else:
        target = url + paths[0]
    out = subprocess.run([*command, target], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    done = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "requests": int(done.group(1)),
        "errors": int(bad.group(1)) if bad else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def _python_client(args) -> list[float]:
    url, paths, key, seconds, offset = args
    parts = urlsplit(url)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies, errors, i = [], 0, offset
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        latencies.append(time.perf_counter() - started)
        errors += response.status != 200
    return [errors, *latencies]


def run_python(url: str, paths: list[str], key: str | None, *, seconds: int, threads: int, connections: int,
               workdir: Path) -> dict:
    """Without wrk: ``connections`` client processes, each one request at a time."""
    with multiprocessing.get_context("spawn").Pool(connections) as pool:
        started = time.monotonic()
        results = pool.map(_python_client, [(url, paths, key, seconds, n * 397) for n in range(connections)])
        elapsed = time.monotonic() - started
    errors = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1:])
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.50), "p99": pick(0.99), "requests": len(latencies),
            "errors": errors, "socket_errors": ""}


# -- the run --------------------------------------------------------------------------------
def main() -> None:
    import requests

    from registry.services.access import ON_SERVER
    from registry.services.keys import create_key
    from registry.storage.db import Database

    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="load time per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--looker", default="bench", metavar="ORG",
                        help="the key's org; another than bench (which lists every value) makes each listed "
                             "lookup a hit on another agency's value, tallied and announced (services.hits)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    process = None
    try:
        db_path = database(args.indicators, workdir)
        db = Database(f"sqlite:///{db_path}")
        with db.read() as conn:
            total = conn.exec_driver_sql("SELECT count(*) FROM indicator").scalar()
        if args.looker != "bench":
            from registry.services.orgs import add_org

            add_org(db, args.looker, "Another agency", "TH")
        key = create_key(db, args.looker, "reader", by=ON_SERVER)["key"]
        db.dispose()
        singles, batch = queries(args.indicators)
        process, url = start_server(db_path, workdir)
        wrk = shutil.which("wrk")
        load = run_wrk if wrk else run_python
        if wrk:
            version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
            client = f"{version}, {args.threads} threads"
        else:
            client = "Python client processes (install wrk for a client that is not the bottleneck)"
        print(f"database: {total:,} indicators (SQLite, a copy of {lookup_bench.sqlite_path(args.indicators)})")
        print(f"server: registry serve, {WORKERS} gunicorn workers, rate limit out of the way, audit on"
              + (f", lookups by {args.looker}: hits on bench's values tallied" if args.looker != "bench" else ""))
        print(f"load: {client}, {args.connections} connections, {args.seconds} s per endpoint, on "
              f"{os.cpu_count()} CPUs shared with the server (load average before: {os.getloadavg()[0]:.2f})")

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        answers = session.post(url + "/api/v1/lookup", json={"values": singles}, timeout=60).json()["results"]
        listed = sum(1 for a in answers if a.get("listed"))
        kinds = sorted({a.get("kind", "?") for a in answers})
        paths = [f"/api/v1/lookup?value={quote(v, safe='')}" for v in singles]
        for path in paths[:50]:  # every view and query path has run once in each worker
            assert session.get(url + path, timeout=30).status_code == 200
        warm = max(2, args.seconds // 5)
        load(url, ["/-/health"], None, seconds=warm, threads=args.threads, connections=args.connections, workdir=workdir)
        load(url, paths, key, seconds=warm, threads=args.threads, connections=args.connections, workdir=workdir)

        cpu = [server_cpu_seconds(process.pid)]
        health = load(url, ["/-/health"], None, seconds=args.seconds, threads=args.threads,
                      connections=args.connections, workdir=workdir)
        cpu.append(server_cpu_seconds(process.pid))
        single = load(url, paths, key, seconds=args.seconds, threads=args.threads, connections=args.connections,
                      workdir=workdir)
        cpu.append(server_cpu_seconds(process.pid))
        if None not in cpu:  # the workers' CPU time per request: what the rates are made of
            health["cpu_ms"] = (cpu[1] - cpu[0]) * 1000 / health["requests"]
            single["cpu_ms"] = (cpu[2] - cpu[1]) * 1000 / single["requests"]

        body = json.dumps({"values": batch}).encode()
        headers = {"Content-Type": "application/json"}
        times, batch_listed = [], 0
        for run in range(BATCH_RUNS + 1):  # the first run warms up
            started = time.perf_counter()
            # Answered = the whole response received (requests reads the body before returning);
            # decoding its 7 MB of JSON is the client's work, so it is done after the clock stops.
            response = session.post(url + "/api/v1/lookup", data=body, headers=headers, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            results = response.json()["results"]
            assert response.status_code == 200 and len(results) == BATCH
            batch_listed = sum(1 for a in results if a.get("listed"))
            if run:
                times.append(elapsed)
        session.close()

        print()
        print(f"{'endpoint':<46}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'non-2xx':>9}"
              f"{'server CPU ms/req':>19}")
        for name, r in (("GET /-/health", health),
                        (f"GET /api/v1/lookup ({SINGLES:,} values, {listed / SINGLES:.0%} listed)", single)):
            cpu_ms = f"{r['cpu_ms']:.2f}" if "cpu_ms" in r else "n/a"
            print(f"{name:<46}{r['rps']:>12,.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['requests']:>10,}{r['errors']:>9}"
                  f"{cpu_ms:>19}" + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""))
        print(f"  (single-lookup values: {', '.join(kinds)})")
        ratio = single["rps"] / health["rps"]
        worst, median = max(times), statistics.median(times)
        print()
        print(f"single lookups: {ratio:.2f}x the health endpoint's rate (target >= 0.6x) "
              f"{'ok' if ratio >= 0.6 else 'MISSED'}")
        print(f"single lookups: p99 {single['p99']:.2f} ms (target < 20 ms) {'ok' if single['p99'] < 20 else 'MISSED'}")
        print(f"batch of {BATCH:,} values ({batch_listed:,} listed, {len(body) / 1e6:.1f} MB request): "
              f"median {median:.0f} ms, worst {worst:.0f} ms of {BATCH_RUNS} "
              f"(target < 500 ms) {'ok' if worst < 500 else 'MISSED'}")
        print(f"  runs: {', '.join(f'{t:.0f}' for t in times)} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
