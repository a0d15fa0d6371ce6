"""Events over HTTP (docs/api.md, "Events"): ``GET /api/v1/events?after=SEQ&limit=N`` for scripts
and SIEMs, ``GET /api/v1/events/stream`` as Server-Sent Events. Any key reads its org's events
(``scope=all``: every event it may see, what a federating peer follows), under the one TLP rule."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain.roles import READER
from registry.services import events
from registry.services.errors import Invalid, NotFound
from registry.storage import orgs as org_store
from registry.web import fields, sse
from registry.web.api import _plain_parameters, audit
from registry.web.auth import presented_key, require

bp = Blueprint("events", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)

SCOPES = ("org", "all")


def _db():
    return current_app.extensions["registry.db"]


def _org_id() -> int:
    with _db().read() as conn:
        org = org_store.get(conn, g.principal.org)
    if org is None:  # the key's org row is gone: nothing to read as it
        raise NotFound(f"org {g.principal.org!r} no longer exists")
    return org.id


def _everything() -> bool:
    scope = request.args.get("scope") or "org"
    if scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}, not {scope[:40]!r}", field="scope")
    return scope == "all"


@bp.get("/events")
@require(READER)
def list_events():
    everything = _everything()
    after = fields.query_whole("after", 0, 0, 10**18)
    limit = fields.query_whole("limit", 100, 1, events.MAX_LIMIT)
    org_id = _org_id()
    with _db().read() as conn:
        shown, next_seq = events.read(conn, g.principal.viewer, org_id, after=after, limit=limit,
                                      everything=everything)
    audit("events-read", {"after": after, "scope": "all" if everything else "org",
                          "seqs": [e["seq"] for e in shown]}, len(shown))
    return jsonify({"events": shown, "next": next_seq})


@bp.get("/events/stream")
@require(READER)
def stream_events():
    everything = _everything()
    after = sse.resume_position()
    org_id = _org_id()
    key = presented_key()
    keys = current_app.extensions["registry.keys"]
    principal = g.principal

    def still_allowed() -> bool:  # a revoked key (or a lowered cap) ends the stream
        now = keys.authenticate(key) if key else None
        return now is not None and now.max_tlp == principal.max_tlp and now.org == principal.org

    audit("events-stream", {"after": after, "scope": "all" if everything else "org"})
    return sse.stream(principal.viewer, org_id, after, everything=everything, still_allowed=still_allowed)
