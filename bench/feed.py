"""Feed benchmark: a 2,000,000-line text feed served over HTTP on 127.0.0.1, run end to end,
beside raw sqlite3; then a second run against the unchanged feed (a 304).

    .venv/bin/python bench/feed.py [--lines N]

End to end = the installed `registry feeds run` command in a child process: conditional GET,
spooling, parse, refang, normalise, allowlist, batched upserts (a commit per batch), snapshot
expiry and the run record; its peak RSS is the child's own. The server is a thread of this
process answering with an ETag (and 304 to a matching If-None-Match). The baseline inserts the
same pre-normalised values with one ``sqlite3.executemany`` into a table with a unique index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import Timer, children_peak_rss_mb, raw_insert, write_feed

REGISTRY = Path(sys.executable).parent / "registry"

FEED_TOML = """\
name = "bench"
provider = "bench"
url = "{url}"
format = "text"
schedule = "every 6h"
mode = "snapshot"
confidence = 60
tlp = "clear"
labels = ["bench"]
"""


def serve(path: Path) -> ThreadingHTTPServer:
    etag = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:16] + '"'
    size = path.stat().st_size

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with path.open("rb") as fh:
                shutil.copyfileobj(fh, self.wfile, 1 << 16)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    feed = work / "feed.txt"
    write_feed(feed, args.lines)
    print(f"feed: {args.lines:,} lines, {feed.stat().st_size / 1e6:.1f} MB, served on 127.0.0.1 with an ETag")
    server = serve(feed)
    catalogue = work / "feeds"
    catalogue.mkdir()
    (catalogue / "bench.toml").write_text(FEED_TOML.format(url=f"http://127.0.0.1:{server.server_address[1]}/feed.txt"))

    env = {**os.environ, "REGISTRY_DATABASE_URL": f"sqlite:///{work / 'registry.db'}",
           "REGISTRY_INSTANCE_PATH": str(work / "instance")}
    subprocess.run([REGISTRY, "init"], env=env, check=True, capture_output=True)
    subprocess.run([REGISTRY, "org", "add", "bench", "--name", "Bench", "--country", "TH"], env=env, check=True,
                   capture_output=True)
    subprocess.run([REGISTRY, "feeds", "sync", "--path", str(catalogue)], env=env, check=True, capture_output=True)
    with Timer() as t_run:
        done = subprocess.run([REGISTRY, "feeds", "run", "bench", "--json"], env=env, check=True, capture_output=True)
    run = json.loads(done.stdout)
    rss = children_peak_rss_mb()
    rate = args.lines / t_run.seconds
    print(f"registry feeds run: {t_run.seconds:.1f} s, {rate:,.0f} rows/s, peak RSS {rss:.0f} MB "
          f"({run['status']}, HTTP {run['http_status']}, rows {run['rows']:,}, new {run['new']:,}, "
          f"allowlisted {run['allowlisted']:,}, rejected {run['rejected']:,}; recorded duration {run['duration']:.1f} s)")

    with Timer() as t_again:
        again = json.loads(subprocess.run([REGISTRY, "feeds", "run", "bench", "--json"], env=env, check=True,
                                          capture_output=True).stdout)
    print(f"second run (unchanged feed): {again['status']}, HTTP {again['http_status']}, recorded duration "
          f"{again['duration']:.3f} s; the whole command {t_again.seconds:.2f} s (target < 1 s)")
    server.shutdown()

    raw_seconds, raw_rows = raw_insert(args.lines, work / "raw.db")
    raw_rate = raw_rows / raw_seconds
    print(f"raw sqlite3 executemany: {raw_seconds:.1f} s, {raw_rate:,.0f} rows/s ({raw_rows:,} rows)")
    print(f"ratio: {rate / raw_rate:.2f} of raw (target >= 0.25); peak RSS target < 250 MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
