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
           still_allowed: Callable[[], bool], present: Callable[[dict], dict] | None = None) -> Response:
    """The response streaming ``viewer``'s events after ``after`` (None: from the newest on);
    ``present`` adds to each event what its page shows of it (the Alerts page's words)."""
    db = current_app.extensions["registry.db"]
    heartbeat = current_app.config["REGISTRY"].stream_heartbeat_seconds
    signal = signal_of(db)
    start = signal.head() if after is None else after
    tick = max(0.05, min(RECHECK_SECONDS, heartbeat))  # the longest wait between checks

    def generate() -> Iterator[bytes]:
        yield b"retry: 1000\n: connected\n\n"
        checked = beat = time.monotonic()
        for shown in events.follow(db, viewer, org_id, start, everything=everything, wait=signal.wait, timeout=tick):
            if shown:
                yield b"".join(message(present(event) if present else event) for event in shown)
                beat = time.monotonic()
            now = time.monotonic()
            if now - checked >= RECHECK_SECONDS:
                if not still_allowed():
                    yield b": access ended\n\n"
                    return
                checked = now
            if now - beat >= heartbeat:
                yield b": heartbeat\n\n"
                beat = now

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(generate(), mimetype="text/event-stream", headers=headers)
