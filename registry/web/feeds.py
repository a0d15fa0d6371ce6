"""Feeds over HTTP: ``GET /api/v1/feeds``, ``GET /api/v1/feeds/NAME/runs`` (readers) and
``POST /api/v1/feeds/NAME/run`` (feed-admins). The views validate, call services.feeds, audit
and answer JSON.

A run started here takes the feed's lease and writes its run row in the request (so an
unknown, disabled or busy feed is answered at once), then works on a thread of the worker:
the answer is a 202 with the run (status ``running``) and its ``GET …/runs`` to follow. With
``?wait=true`` the request waits and answers the finished run's figures (for small feeds:
a large one would outlast the server's request timeout)."""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain.opaque import FEED_RUN, Sealer
from registry.domain.roles import FEED_ADMIN, READER
from registry.ingest.catalogue import NAME
from registry.services.errors import Invalid
from registry.services.feeds import feed_runs, get_feed, list_feeds, start_run
from registry.web import fields
from registry.web.api import _plain_parameters, audit
from registry.web.auth import require

bp = Blueprint("feeds", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)


def _db():
    return current_app.extensions["registry.db"]


def _name(name: str) -> str:
    if not NAME.match(name):
        raise Invalid("a feed name is 2-100 lowercase letters, digits, '.', '_' or '-'", field="name")
    return name


def _sealer() -> Sealer:
    return current_app.extensions["registry.sealer"]


def _shown(run: dict | None) -> dict | None:
    """A run as the API shows it: run row ids are numbered across every feed, the ones a caller
    may not see too, so the id shown is a keyed tag of it (stable, and no count of others' runs)."""
    return None if run is None else {**run, "id": _sealer().tag(FEED_RUN, str(run["id"]))}


@bp.get("/feeds")
@require(READER)
def feeds():
    rows = [{**row, "last_run": _shown(row["last_run"]), "last_ok_run": _shown(row["last_ok_run"])}
            for row in list_feeds(_db(), g.principal.viewer)]
    audit("feeds-read", None, len(rows))
    return jsonify({"feeds": rows})


@bp.get("/feeds/<name>/runs")
@require(READER)
def runs(name: str):
    name = _name(name)
    limit = fields.query_whole("limit", 20, 1, 200)
    before = None
    if request.args.get("before"):  # the next of an earlier page: a run id, sealed
        before = _sealer().open(request.args["before"], FEED_RUN)
        if before is None:
            raise Invalid("before must be the next of an earlier page, as given", field="before")
    page = feed_runs(_db(), name, g.principal.viewer, limit=limit, before=before)
    audit("feed-runs-read", {"feed": name}, len(page["runs"]))
    following = page["next"] and _sealer().seal(int(page["next"]), FEED_RUN)
    return jsonify({**page, "runs": [_shown(r) for r in page["runs"]], "next": following})


@bp.post("/feeds/<name>/run")
@require(FEED_ADMIN)
def run(name: str):
    name = _name(name)
    wait = request.args.get("wait", "false")
    if wait not in ("true", "false"):
        raise Invalid("wait must be true or false", field="wait")
    get_feed(_db(), name, g.principal.viewer)  # a 404 for a feed the caller may not see
    started = start_run(_db(), name, trigger="api", settings=current_app.config["REGISTRY"])
    audit("feed-run", {"feed": name, "run": started.run.id, "wait": wait == "true"}, None)
    if wait == "true":
        return jsonify(_shown(started.finish().to_dict()))
    threading.Thread(target=started.finish, name=f"feed-run-{name}", daemon=False).start()
    return jsonify(_shown(started.run.to_dict())), 202, {"Location": f"/api/v1/feeds/{name}/runs"}
