"""Event latency benchmark: from `POST /api/v1/indicators` returning to the event arriving on 50
open event streams, and at a local webhook receiver.

    .venv/bin/python bench/events.py [--posts 200] [--streams 50] [--database-url URL]

A real `registry serve --scheduler` (gunicorn; the scheduler runs the webhook dispatcher) on a
fresh database (SQLite in a temporary folder by default; PostgreSQL with --database-url, whose
schema it empties first), two orgs: ccib-th reports values under bench-events.example one request
at a time, pdrm-my watches that domain with 50 streams open (`GET /api/v1/events/stream`, read with
sseclient-py) and one webhook to a receiver on 127.0.0.1. Prints p50/p99/max of each latency in ms.
Targets (issue 16): streams p50 < 100 ms and p99 < 500 ms; webhook p99 < 1 s; on both engines.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import sseclient

REGISTRY = Path(sys.executable).parent / "registry"
DOMAIN = "bench-events.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms ({len(ordered)} events)")


def prepare(url: str | None, tmp: Path) -> str:
    from sqlalchemy import create_engine, text

    from registry.storage import migrate
    from registry.storage.db import Database, normalise_url

    if url is None:
        url = f"sqlite:///{tmp / 'registry.db'}"
    else:
        engine = create_engine(normalise_url(url))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url


def seed(url: str) -> dict[str, str]:
    from registry.services.access import ON_SERVER
    from registry.services.keys import create_key
    from registry.services.orgs import add_org
    from registry.storage.db import Database

    db = Database(url)
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    keys = {"poster": create_key(db, "ccib-th", "contributor", "amber", by=ON_SERVER)["key"],
            "watcher": create_key(db, "pdrm-my", "contributor", "amber", by=ON_SERVER)["key"]}
    db.dispose()
    return keys


class Receiver(BaseHTTPRequestHandler):
    arrivals: dict[str, float] = {}
    secret = b""
    bad_signatures = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.perf_counter()
        expected = "sha256=" + hmac.new(Receiver.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Registry-Signature", "")):
            Receiver.bad_signatures += 1
        value = json.loads(body).get("value")
        Receiver.arrivals.setdefault(value, now)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between posts")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-events-"))
    url = prepare(args.database_url, tmp)
    keys = seed(url)
    port = free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_INSTANCE_PATH": str(tmp / "instance"),
           "REGISTRY_SECRET_KEY": "bench-" + "x" * 40, "REGISTRY_WEBHOOK_ALLOW_LOOPBACK": "true",
           "REGISTRY_WEB_THREADS": str(args.streams + 16), "REGISTRY_RATE_LIMIT": "100000 per minute"}
    server = subprocess.Popen([str(REGISTRY), "serve", "--scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/-/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        watcher = {"Authorization": f"Bearer {keys['watcher']}"}
        made = requests.post(base + "/api/v1/watches", json={"value": DOMAIN}, headers=watcher, timeout=10)
        made.raise_for_status()

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        hook = requests.post(base + "/api/v1/webhooks", headers=watcher, timeout=10, json={
            "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook", "watches": "all"})
        hook.raise_for_status()
        Receiver.secret = hook.json()["secret"].encode()

        arrivals: list[dict[str, float]] = [{} for _ in range(args.streams)]
        ready = threading.Barrier(args.streams + 1)

        def follow(n: int) -> None:
            response = requests.get(base + "/api/v1/events/stream", headers=watcher, stream=True, timeout=60)
            ready.wait()
            try:
                for message in sseclient.SSEClient(response).events():
                    if message.event == "message":
                        continue
                    arrivals[n].setdefault(json.loads(message.data)["value"], time.perf_counter())
            except requests.RequestException:  # the server stopped at the end of the run
                return

        for n in range(args.streams):
            threading.Thread(target=follow, args=(n,), daemon=True).start()
        ready.wait()
        time.sleep(1.0)

        poster = requests.Session()
        poster.headers["Authorization"] = f"Bearer {keys['poster']}"
        returned: dict[str, float] = {}
        for i in range(args.posts):
            value = f"h{i}.{DOMAIN}"
            answer = poster.post(base + "/api/v1/indicators", json={"indicators": [{"value": value}]}, timeout=30)
            returned[value] = time.perf_counter()
            answer.raise_for_status()
            time.sleep(args.pause)
        time.sleep(3.0)

        stream_lat = [max(0.0, got[v] - t) for got in arrivals for v, t in returned.items() if v in got]
        missing = sum(1 for got in arrivals for v in returned if v not in got)
        hook_lat = [max(0.0, Receiver.arrivals[v] - t) for v, t in returned.items() if v in Receiver.arrivals]
        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"engine {engine}, {args.posts} posts, {args.streams} streams")
        print(f"streams: {percentiles(stream_lat)}; missing {missing}")
        print(f"webhook: {percentiles(hook_lat)}; missing {args.posts - len(hook_lat)}; "
              f"bad signatures {Receiver.bad_signatures}")
        receiver.shutdown()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
