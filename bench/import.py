"""Import benchmark: 1,000,000 generated plain-list lines end to end, beside raw sqlite3.

    .venv/bin/python bench/import.py [--lines N]

End to end = the installed `registry import` command in a child process (parse, refang,
normalise, allowlist, upsert into indicator + assertion in one transaction), so its peak RSS
is the child's own. The baseline inserts the same pre-normalised values with one
``sqlite3.executemany`` into a table with a unique index on the value.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# bench/ holds http.py (named by the issue); keep it from shadowing the standard library's http.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
from common import Timer, children_peak_rss_mb, raw_insert, write_feed  # noqa: E402

REGISTRY = Path(sys.executable).parent / "registry"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    feed = work / "feed.txt"
    write_feed(feed, args.lines)
    print(f"feed: {args.lines:,} lines, {feed.stat().st_size / 1e6:.1f} MB")

    env = {**os.environ, "REGISTRY_DATABASE_URL": f"sqlite:///{work / 'registry.db'}"}
    subprocess.run([REGISTRY, "init"], env=env, check=True, capture_output=True)
    subprocess.run([REGISTRY, "org", "add", "bench", "--name", "Bench", "--country", "TH"], env=env, check=True, capture_output=True)
    with Timer() as t_import:
        done = subprocess.run([REGISTRY, "import", str(feed), "--org", "bench", "--json"], env=env, check=True, capture_output=True)
    report = json.loads(done.stdout)
    rss = children_peak_rss_mb()
    rate = args.lines / t_import.seconds
    print(f"registry import: {t_import.seconds:.1f} s, {rate:,.0f} rows/s, peak RSS {rss:.0f} MB "
          f"(new {report['new']:,}, allowlisted {report['allowlisted']:,}, rejected {report['rejected']:,})")

    raw_seconds, raw_rows = raw_insert(args.lines, work / "raw.db")
    raw_rate = raw_rows / raw_seconds
    print(f"raw sqlite3 executemany: {raw_seconds:.1f} s, {raw_rate:,.0f} rows/s ({raw_rows:,} rows)")
    print(f"ratio: {rate / raw_rate:.2f} of raw (target >= 0.25); peak RSS target < 250 MB")


if __name__ == "__main__":
    main()
