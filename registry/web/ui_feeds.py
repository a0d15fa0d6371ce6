"""The feeds page: each feed's health (last run, counts, anomaly flags), a small chart of rows
per run, a feed's runs with their rejected samples, and "run now" for feed-admins. The same
services and the same audit actions as ``GET/POST /api/v1/feeds…``; a feed (and its runs,
which quote the feed's lines) is shown to whoever may see its TLP from its provider."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Blueprint, current_app, flash, g, redirect, url_for

from registry.domain.roles import FEED_ADMIN, READER
from registry.ingest.catalogue import NAME
from registry.services.errors import NotFound, RegistryError
from registry.services.feeds import feed_runs, get_feed, list_feeds, start_run
from registry.web.pages import audit, db, page, signed_in

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

CHART_RUNS = 30  # runs in a feed's chart (the list's sparkline shows the same runs, smaller)
MIN_SLOTS = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # ok, failed, flagged, other (not-modified, running): the bar's colour
    title: str


def chart(runs: list[dict], *, width: int = 300, height: int = 60) -> list[Bar]:
    """Bars of rows read per run, oldest on the left, scaled to the busiest run. A failed run
    reads nothing: it gets a full-height red bar so it cannot be missed."""
    runs = list(reversed(runs[:CHART_RUNS]))
    if not runs:
        return []
    top = max((r["rows"] for r in runs), default=0) or 1
    step = width / max(len(runs), MIN_SLOTS)  # a feed with few runs gets bars, not one slab
    bars = []
    for i, run in enumerate(runs):
        failed = run["status"] in ("failed", "interrupted")
        share = 1.0 if failed else run["rows"] / top
        h = max(1.0, share * (height - 2))
        kind = "failed" if failed else "flagged" if run.get("anomaly") else "ok" if run["status"] == "ok" else "other"
        when = (run["started"] or "")[:16].replace("T", " ")
        note = f": {run['error']}" if failed and run.get("error") else f", {run['anomaly']}" if run.get("anomaly") else ""
        bars.append(Bar(x=round(i * step + 1, 1), y=round(height - h, 1), width=round(max(step - 2, 1), 1),
                        height=round(h, 1), kind=kind, title=f"{when} {run['status']}: {run['rows']:,} rows{note}"))
    return bars


def _name(name: str) -> str:
    if not NAME.match(name):
        raise NotFound(f"no feed {name!r}")
    return name


@bp.get("")
@signed_in(READER)
def feeds():
    rows = sorted(list_feeds(db(), g.principal.viewer), key=lambda f: not f["enabled"])  # enabled first, by name
    audit("feeds-read", None, len(rows))
    charts = {}
    for feed in rows:
        runs = feed_runs(db(), feed["name"], g.principal.viewer, limit=CHART_RUNS)["runs"] if feed["last_run"] else []
        charts[feed["name"]] = chart(runs, width=120, height=24)
    return page("feeds.html", feeds=rows, charts=charts)


@bp.get("/<name>")
@signed_in(READER)
def feed(name: str):
    name = _name(name)
    row = get_feed(db(), name, g.principal.viewer)
    runs = feed_runs(db(), name, g.principal.viewer, limit=CHART_RUNS)
    audit("feed-runs-read", {"feed": name}, len(runs["runs"]))
    latest_rejects = next((r for r in runs["runs"] if r["rejects"]), None)
    return page("feed.html", feed=row, runs=runs["runs"], bars=chart(runs["runs"]), latest_rejects=latest_rejects)


@bp.post("/<name>/run")
@signed_in(FEED_ADMIN)
def run_now(name: str):
    """Start a run as the API does (an unknown, disabled or busy feed is said at once), work on
    a thread of this worker, and show the feed's page: the run shows as running until it ends
    (a large feed takes longer than any request should)."""
    name = _name(name)
    get_feed(db(), name, g.principal.viewer)  # unknown and invisible alike: 404
    try:
        started = start_run(db(), name, trigger="web", settings=current_app.config["REGISTRY"])
    except RegistryError as exc:  # busy elsewhere, disabled: say so on the feed's page
        flash(f"Not run: {exc.message}")
        return redirect(url_for("ui.feeds.feed", name=name))
    audit("feed-run", {"feed": name, "run": started.run.id, "wait": False}, None)
    threading.Thread(target=started.finish, name=f"feed-run-{name}", daemon=False).start()
    flash(f"Started a run of {name}: reload this page to see it end.")  # no run row id: it counts every feed's runs
    return redirect(url_for("ui.feeds.feed", name=name))
