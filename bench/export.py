"""Export benchmark: 1,000,000 indicators exported as text, cidr, csv and json (the operator's
full export, as `registry export` writes it), each in a process of its own so that its peak RSS
is its own; beside a raw sqlite3 read of the same values written one a line, in the same run.

    .venv/bin/python bench/export.py [--indicators N] [--formats text,cidr,csv,json]

The database is bench/lookup.py's (built once through the real submit path, cached in
bench/out/). Rows/s counts indicators read (for cidr: the IP indicators merged into blocks).
Memory is sampled while each export streams: flat means the resident size does not grow with
the rows written. Target (docs/performance.md): text >= 200,000 rows/s; flat memory for all.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from common import Timer, peak_rss_mb
from lookup import OUT, build, sqlite_path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
FORMATS = ("text", "cidr", "csv", "json")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_BYTES / 2**20


def one(path: Path, fmt: str, out: Path) -> dict:
    """Stream one format to ``out`` through the service (what the CLI and the API call)."""
    from registry.domain.tlp import Viewer
    from registry.services import exports
    from registry.storage.db import Database

    db = Database(f"sqlite:///{path}")
    start_rss = rss_mb()
    samples, size = [], 0
    with db.read() as conn:
        if fmt == "cidr":
            rows = conn.exec_driver_sql("SELECT count(*) FROM indicator WHERE range_start IS NOT NULL "
                                        "AND allowlisted IS NULL").scalar()
        with Timer() as t, out.open("wb") as fh:
            for i, chunk in enumerate(exports.stream(conn, Viewer.operator(), fmt, exports.ExportQuery())):
                fh.write(chunk)
                size += len(chunk)
                if i % 50 == 0:
                    samples.append(rss_mb())
    samples.append(rss_mb())
    with out.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    if fmt != "cidr":
        rows = lines - (1 if fmt == "csv" else 0)  # the csv header
    db.dispose()
    return {"format": fmt, "seconds": t.seconds, "rows": rows, "lines": lines, "bytes": size, "start_rss": start_rss,
            "samples": samples, "peak_rss": peak_rss_mb()}


def raw_baseline(path: Path, out: Path) -> dict:
    """sqlite3 alone: the values of indicators with an assertion, one a line, to a file."""
    conn = sqlite3.connect(path)
    with Timer() as t, out.open("wb") as fh:
        cursor = conn.execute("SELECT i.value FROM indicator i JOIN assertion a ON a.indicator_id = i.id "
                              "WHERE i.allowlisted IS NULL ORDER BY i.id")
        rows = 0
        while True:
            batch = cursor.fetchmany(5000)
            if not batch:
                break
            fh.write("".join(f"{v}\n" for (v,) in batch).encode())
            rows += len(batch)
    conn.close()
    return {"rows": rows, "seconds": t.seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one format in this process (internal)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = sqlite_path(args.indicators)  # the same cache as bench/lookup.py
    if args.one:
        print(json.dumps(one(path, args.one, Path(args.out))))
        return
    if not path.exists():
        build(path, args.indicators, cidr_share=0.1)
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT count(*) FROM assertion").fetchone()[0]
    print(f"database: {count:,} assertions ({path.name})")
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    base = raw_baseline(path, work / "raw.txt")
    raw_per_s = base["rows"] / base["seconds"]
    print(f"raw sqlite3: {base['rows']:,} values read and written in {base['seconds']:.1f} s = {raw_per_s:,.0f} rows/s")
    for fmt in args.formats.split(","):
        out = work / f"export.{fmt}"
        done = subprocess.run([sys.executable, __file__, "--indicators", str(args.indicators), "--one", fmt,
                               "--out", str(out)], check=True, capture_output=True, text=True)
        run = json.loads(done.stdout.strip().splitlines()[-1])
        per_s = run["rows"] / run["seconds"]
        samples = run["samples"]
        marks = [samples[int(len(samples) * f)] for f in (0, 0.25, 0.5, 0.75)] + [samples[-1]]
        written = f", {run['lines']:,} blocks" if fmt == "cidr" else ""
        print(f"{fmt:>5}: {run['rows']:,} indicators in {run['seconds']:.1f} s = {per_s:,.0f} rows/s "
              f"({per_s / raw_per_s:.2f}x raw sqlite3){written}; {run['bytes'] / 2**20:,.0f} MB; "
              f"RSS before {run['start_rss']:.0f} MB, while streaming "
              + "/".join(f"{mb:.0f}" for mb in marks)
              + f" MB, peak {run['peak_rss']:.0f} MB")
        out.unlink()
    (work / "raw.txt").unlink()
    work.rmdir()
    print("target: text >= 200,000 rows/s; flat memory for all")


if __name__ == "__main__":
    main()
