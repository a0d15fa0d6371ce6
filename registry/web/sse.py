"""Server-Sent Events of a caller's events (docs/api.md, "Events"): each event an SSE message
with ``id:`` its sequence number, ``event:`` its type and ``data:`` its JSON; a heartbeat comment
while none comes; the caller's right to read checked again every few seconds, so a revoked key's
or disabled user's stream ends within seconds. The API's stream and the Alerts page's share it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import orjson
from flask import Response, current_app, request

from registry.domain.tlp import Viewer
from registry.services import events
from registry.services.errors import Invalid
from registry.storage.event_signal import signal_of

RECHECK_SECONDS = 2.0  # how often a stream asks whether its caller may still read
BATCH = 500  # events read per query while catching up


def message(event: dict) -> bytes:
    """One event as an SSE message."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event["seq"], event["type"].encode(), orjson.dumps(event))


def resume_position(default: int | None = None) -> int | None:
    """Where a stream resumes: ``Last-Event-ID`` (what browsers send on reconnecting), else the
    ``after`` parameter, else ``default`` (None: from now)."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after")
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise Invalid(f"Last-Event-ID / after must be an event's sequence number, not {raw[:40]!r}", field="after")
    return int(raw)


def stream(viewer: Viewer, org_id: int | None, after: int | None, *, everything: bool,
           still_allowed: Callable[[], bool]) -> Response:
    """The response streaming ``viewer``'s events after ``after`` (None: from the newest on)."""
    db = current_app.extensions["registry.db"]
    heartbeat = current_app.config["REGISTRY"].stream_heartbeat_seconds
    signal = signal_of(db)
    start = signal.head() if after is None else after

    def generate() -> Iterator[bytes]:
        position = start
        yield b"retry: 1000\n: connected\n\n"
        checked = beat = time.monotonic()
        while True:
            with db.read() as conn:
                shown, position = events.read(conn, viewer, org_id, after=position, limit=BATCH,
                                              everything=everything)
            if shown:
                yield b"".join(message(event) for event in shown)
                beat = time.monotonic()
                if len(shown) == BATCH:
                    continue
            now = time.monotonic()
            if now - checked >= RECHECK_SECONDS:
                if not still_allowed():
                    yield b": access ended\n\n"
                    return
                checked = now
            if now - beat >= heartbeat:
                yield b": heartbeat\n\n"
                beat = now
            signal.wait(position, min(RECHECK_SECONDS, max(0.05, heartbeat - (now - beat))))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(generate(), mimetype="text/event-stream", headers=headers)
