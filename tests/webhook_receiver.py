"""A real webhook receiver for the tests: an http.server on 127.0.0.1 in a thread that checks each
POST's X-Registry-Signature with the webhook's secret (answering 401 when it does not hold, as a
receiver should), keeps what it received, and answers as a test scripts it: a status per
request, a hold (the request kept in hand until released), or down altogether (connection
refused) and up again on the same port."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int  # what the receiver answered

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["X-Registry-Delivery"]

    @property
    def seq(self) -> int:
        return self.event["seq"]


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the HMAC-SHA256 of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected, header)


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.received: list[Received] = []
        # (request) -> (status, body, headers); default: 200
        self.answer: Callable[[Received], tuple[int, bytes, dict]] = lambda _r: (200, b"thanks", {})
        self.hold = threading.Event()  # set: requests wait in hand until released
        self.release = threading.Event()
        self.holding = threading.Event()  # a request is in hand
        self.held: list[Received] = []  # the requests that were held
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    # -- life ----------------------------------------------------------------------------------
    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                got = Received(self.path, dict(self.headers), body,
                               verify(outer.secret or "", body, self.headers.get("X-Registry-Signature")), 0)
                if outer.hold.is_set():
                    outer.held.append(got)
                    outer.holding.set()
                    outer.release.wait(60)
                status, answer, headers = outer.answer(got) if got.verified else (401, b"bad signature", {})
                got.status = status
                with outer._lock:
                    outer.received.append(got)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the sender is gone (killed)
                    self.close_connection = True

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused until ``up``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.release.set()
        self.down()

    # -- what it got ---------------------------------------------------------------------------
    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def acknowledged(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """The acknowledged requests once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.acknowledged()
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise AssertionError(f"the receiver acknowledged {len(self.acknowledged())} of {count} deliveries "
                             f"({len(self.received)} requests) within {timeout} s")
