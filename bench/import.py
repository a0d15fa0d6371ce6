"""Import benchmark: 1,000,000 generated plain-list lines end to end on SQLite or PostgreSQL,
beside raw sqlite3.

    .venv/bin/python bench/import.py [--lines N] [--postgres URL] [--new-kinds SHARE]

End to end = the installed `registry import` command in a child process (parse, refang,
normalise, allowlist, upsert into indicator + assertion in one transaction), so its peak RSS
is the child's own. The baseline inserts the same pre-normalised values with one
``sqlite3.executemany`` into a table with a unique index on the value. With ``--postgres URL``
the registry imports into a fresh schema on that server (dropped after); the baseline stays the
sqlite3 one, so the two engines' ratios compare. ``--new-kinds 0.1``: a tenth of the lines are
bank and e-wallet accounts, crypto wallets, user accounts and file hashes as people write them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from common import (
    Timer,
    children_peak_rss_mb,
    fresh_schema,
    new_kinds_option,
    postgres_option,
    raw_insert,
    write_feed,
)

REGISTRY = Path(sys.executable).parent / "registry"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    postgres_option(parser)
    new_kinds_option(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    feed = work / "feed.txt"
    write_feed(feed, args.lines, args.new_kinds)
    mix = f", {args.new_kinds:.0%} of the new kinds" if args.new_kinds else ""
    print(f"feed: {args.lines:,} lines{mix}, {feed.stat().st_size / 1e6:.1f} MB")

    database = fresh_schema(args.postgres, "import") if args.postgres else nullcontext(f"sqlite:///{work / 'registry.db'}")
    with database as url:
        env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_INSTANCE_PATH": str(work)}
        subprocess.run([REGISTRY, "init"], env=env, check=True, capture_output=True)
        subprocess.run([REGISTRY, "org", "add", "bench", "--name", "Bench", "--country", "TH"], env=env, check=True,
                       capture_output=True)
        with Timer() as t_import:
            done = subprocess.run([REGISTRY, "import", str(feed), "--org", "bench", "--json"], env=env, check=True,
                                  capture_output=True)
    report = json.loads(done.stdout)
    rss = children_peak_rss_mb()
    rate = args.lines / t_import.seconds
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(f"registry import ({engine}): {t_import.seconds:.1f} s, {rate:,.0f} rows/s, peak RSS {rss:.0f} MB "
          f"(new {report['new']:,}, allowlisted {report['allowlisted']:,}, rejected {report['rejected']:,})")

    raw_seconds, raw_rows = raw_insert(args.lines, work / "raw.db", args.new_kinds)
    raw_rate = raw_rows / raw_seconds
    print(f"raw sqlite3 executemany: {raw_seconds:.1f} s, {raw_rate:,.0f} rows/s ({raw_rows:,} rows)")
    print(f"ratio: {rate / raw_rate:.2f} of raw (target >= 0.25); peak RSS target < 250 MB")


if __name__ == "__main__":
    main()
