"""Streamed response bodies that finish, or end so that every client sees an error.

A streamed body has no Content-Length: what tells a client it is whole is HTTP/1.1's last chunk
(and, gzip-compressed, gzip's trailer). When a body cannot finish (a database error, a worker
stopped, a client that stopped reading) the connection is closed without them, and requests,
urllib and curl raise instead of handing over a short body. So:

- ``require_chunked`` refuses HTTP/1.0 requests (505): without chunks a body ends where the
  connection closes, and one cut short would look complete.
- ``body`` makes the first chunk in the view, so a failure before the first byte is a JSON error
  with its status. A failure after it propagates to the server, which closes the connection
  without the last chunk (gunicorn, and Flask's own server alike).
- It hands the body to the server in slices of at most 64 KiB, each to be accepted within
  REGISTRY_WEB_TIMEOUT: a client that stops reading is cut off, instead of holding a thread, a
  database connection and its snapshot (which keeps SQLite's WAL from being checkpointed)
  for ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

from flask import current_app, request

from registry.services.errors import RegistryError

SLICE_BYTES = 1 << 16


class HTTPVersionNotSupported(RegistryError):
    status = 505
    code = "http_version_not_supported"


def require_chunked() -> None:
    protocol = request.environ.get("SERVER_PROTOCOL", "")
    if protocol in ("HTTP/1.0", "HTTP/0.9"):
        raise HTTPVersionNotSupported(
            f"this answer is streamed, and over {protocol} a stream cut short would look complete: send "
            "the request over HTTP/1.1 (a proxy in front must speak HTTP/1.1 to the registry too, e.g. "
            "nginx `proxy_http_version 1.1`)",
            details={"protocol": protocol, "supported": ["HTTP/1.1"]},
        )


def body(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` as a response body (see the module's notes); call it in the view."""
    chunks = iter(chunks)
    first = next(chunks, None)
    stall_seconds = current_app.config["REGISTRY"].web_timeout
    return _sliced(first, chunks, request.environ.get("gunicorn.socket"), stall_seconds)


def _sliced(first: bytes | None, rest: Iterator[bytes], sock, stall_seconds: int) -> Iterator[bytes]:
    if first is None:
        return
    if sock is not None:
        sock.settimeout(stall_seconds)  # gunicorn's writes of this response (the next request resets it)
    for chunk in chain((first,), rest):
        for start in range(0, len(chunk), SLICE_BYTES):
            yield chunk[start : start + SLICE_BYTES]
