"""Helpers for the feed tests: a feed row from a few fields, and a real HTTP server on
127.0.0.1 (a free port, a thread) whose answers a test scripts path by path."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from registry.domain.times import utcnow
from registry.ingest.catalogue import definition
from registry.services.feeds import _values
from registry.services.orgs import add_org
from registry.storage import feeds as store
from registry.storage import orgs as org_store


def add_feed(db, name: str, url: str, fmt: str = "text", *, provider: str = "partner", **fields) -> None:
    """Store a feed definition as `feeds sync` would (adding the provider org if missing)."""
    with db.read() as conn:
        missing = org_store.get(conn, provider) is None
    if missing:
        add_org(db, provider, provider.title(), "TH")
    feed = definition({"name": name, "provider": provider, "url": url, "format": fmt, "schedule": "every 1h",
                       **fields})
    with db.write() as conn:
        store.save_definition(conn, _values(feed), utcnow())


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    cut: int | None = None  # send only this many bytes of the body (Content-Length stays the full length)


class FeedServer:
    """``server.route("/drop.txt", Answer(...), Answer(...))``: answers in turn (the last one
    repeats); or a callable ``(handler) -> Answer``. ``server.requests`` keeps (path, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, deque | Callable] = {}
        self.requests: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.requests.append((self.path, dict(self.headers)))
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    answer = Answer(404, b"not found")
                elif callable(route):
                    answer = route(self)
                else:
                    answer = route[0] if len(route) == 1 else route.popleft()
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    headers = {"Content-Length": str(len(answer.body)), **answer.headers}
                    if headers["Content-Length"] is None:  # no length: the body ends when the connection does
                        del headers["Content-Length"]
                        headers["Connection"] = "close"
                        self.close_connection = True
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if answer.status != 304:
                        self.wfile.write(answer.body if answer.cut is None else answer.body[: answer.cut])
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if answer.cut is not None:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, path: str, *answers) -> None:
        self.routes[path] = answers[0] if len(answers) == 1 and callable(answers[0]) else deque(answers)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
