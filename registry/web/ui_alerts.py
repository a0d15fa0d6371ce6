"""The Alerts page (``/alerts``, docs/web.md "Alerts"): the events routed to the signed-in user's
org that the user may see, newest first, a page at a time, in words; opening it marks them seen
(the header's unread count, ``pages.unread_alerts``). ``/alerts/stream`` streams the new ones to
the page's script as Server-Sent Events (``web.sse``, as the API's stream) while the session
holds. Audited as the API's ``events-read`` and ``events-stream``."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

from flask import Blueprint, Response, g, request, url_for

from registry.domain import events as ev
from registry.domain.roles import READER
from registry.services import events, users
from registry.services.errors import Invalid
from registry.storage import watches as watch_store
from registry.web import sse
from registry.web.pages import audit, db, page, session_check, signed_in

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

PAGE = 100  # alerts a page; "Older alerts" pages back

WHAT = {ev.REPORTED: "Reported", ev.UPDATED: "Updated", ev.EXPIRED: "Expired", ev.DELISTED: "Delisted",
        ev.DISPUTED: "Disputed", ev.SIGHTED: "Sighted", ev.LOOKUP_HIT: "Looked up", ev.FEED_FAILED: "Feed failed",
        ev.FEED_FLAGGED: "Feed flagged", ev.WEBHOOK_DISABLED: "Webhook disabled",
        ev.OPERATION_MEMBER: "Added to an operation", ev.RELATIONSHIP: "Linked"}


class WatchNames:
    """The org's watches as an alert names them (its value, or its label), read again when an
    alert names one not read yet (added since). A stream's thread asks after its request ended."""

    def __init__(self, database, org_id: int) -> None:
        self.database, self.org_id = database, org_id
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}

    def name(self, uid: str) -> str:
        with self._lock:
            if uid not in self._names:
                with self.database.read() as conn:
                    self._names.update({row.uid: f"watch {row.key}" if row.key else f"watch of label {row.label}"
                                        for row in watch_store.of_org(conn, self.org_id)})
                self._names.setdefault(uid, "a watch since removed")
            return self._names[uid]


def _times(n) -> str:
    return "once" if n == 1 else f"{n} times"


def _what(event: dict) -> str:
    """What happened, in words: "Looked up 3 times", "Sighted once"…"""
    what = WHAT.get(event["type"], event["type"])
    count = event.get("count")
    if event["type"] == ev.SIGHTED and count is None:
        count = (event.get("sighting") or {}).get("count")
    if event["type"] in (ev.LOOKUP_HIT, ev.SIGHTED) and isinstance(count, int) and count > 0:
        return f"{what} {_times(count)}"
    return what


def _detail(event: dict) -> str | None:
    """The feed or webhook an event about the org's own set-up names, and why (fields of its body)."""
    parts = [str(event[name]) for name in ("feed", "url", "reason") if event.get(name)]
    return ": ".join(parts) or None


def describe(event: dict, names: WatchNames, indicator_path: str) -> dict:
    """An event as a row of the page shows it: the template and the page's script (for the
    streamed ones) place these same strings, so both say the same."""
    value = event.get("value")
    matched = [names.name(uid) for uid in event.get("watches") or ()]
    if not matched:
        matched = ["your indicator" if value else "your organisation"]
    return {
        "seq": event["seq"], "time": event["time"], "when": (event["time"] or "")[:19].replace("T", " "),
        "what": _what(event), "detail": _detail(event), "value": value, "kind": event.get("kind"),
        "href": f"{indicator_path}?{urlencode({'value': value})}" if value else None,
        "by": ev.acted_by(event["type"], event.get("org")) or "—", "tlp": event["tlp"],
        "matched": ", ".join(matched),
    }


def _before() -> int | None:
    raw = (request.args.get("before") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise Invalid(f"before must be an event's sequence number, not {raw[:40]!r}", field="before")
    return int(raw)


@bp.get("")
@signed_in(READER)
def alerts_page():
    user, viewer = g.user, g.principal.viewer
    before = _before()
    with db().read() as conn:
        shown, older, top = events.recent(conn, viewer, user.org_id, before=before, limit=PAGE)
    names = WatchNames(db(), user.org_id)
    rows = [describe(event, names, url_for("ui.indicator")) for event in shown]
    if before is None:  # the newest page: what it shows is seen
        newest = shown[0]["seq"] if shown else 0
        if newest > user.alerts_seen:
            users.see_alerts(db(), user.id, newest)
        g.alerts_seen = newest
    audit("events-read", {"before": before, "scope": "org", "seqs": [e["seq"] for e in shown]}, len(shown))
    stream = url_for("ui.alerts.alerts_stream", after=top) if before is None else None
    return page("alerts.html", rows=rows, older=older, before=before, stream=stream, types=ev.TYPES)


@bp.get("/stream")
def alerts_stream():
    """The page's live feed. Not signed in (or no longer): 401, which ends a browser's
    EventSource for good instead of following the sign-in redirect."""
    if g.get("principal") is None:
        return Response("sign in first\n", 401, mimetype="text/plain")
    after = sse.resume_position()
    user, principal = g.user, g.principal
    names = WatchNames(db(), user.org_id)
    indicator_path = url_for("ui.indicator")
    audit("events-stream", {"after": after, "scope": "org"})
    return sse.stream(principal.viewer, user.org_id, after, everything=False, still_allowed=session_check(),
                      present=lambda event: {**event, "shown": describe(event, names, indicator_path)})
