"""Feeds as operators see them: load the catalogue, list feeds with their health, their runs,
and run one (``feed_runs.run_feed``). The CLI, the API, the web page and the scheduler call these.

Visibility: a feed's runs hold raw lines of the feed (the rejected-lines sample), so a feed
and its runs are shown to a viewer who may see the feed's TLP from its provider, the one
visibility rule every read path follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from registry import config
from registry.config import Settings
from registry.domain.schedules import next_due
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.ingest.catalogue import STREAM, CatalogueError, FeedDefinition, load_catalogue
from registry.services.errors import Invalid, NotFound
from registry.services.feed_runs import FeedBusy, FeedDisabled, RunResult, run_feed, start_run
from registry.services.orgs import SLUG
from registry.storage import feeds as store
from registry.storage import orgs as org_store
from registry.storage.db import Database

__all__ = ["FeedBusy", "FeedDisabled", "RunResult", "catalogue_path", "feed_runs", "get_feed", "list_feeds",
           "run_feed", "start_run", "sync_catalogue"]

MAX_RUNS = 200


def catalogue_path(settings: Settings | None = None) -> Path:
    """``REGISTRY_FEEDS_PATH``; when that folder does not exist and the setting is the default,
    the source checkout's ``feeds/`` beside the package (``make run`` from any folder)."""
    setting = config.given_or_loaded(settings).feeds_path
    path = Path(setting or "feeds")
    if not path.is_dir() and setting == "feeds":
        beside = Path(__file__).resolve().parent.parent.parent / "feeds"
        if beside.is_dir():
            return beside
    return path.resolve()


@dataclass
class SyncReport:
    folder: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # gone from the catalogue: disabled, history kept
    orgs_added: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"folder": self.folder, "added": self.added, "changed": self.changed, "unchanged": self.unchanged,
                "disabled": self.disabled, "orgs_added": self.orgs_added}

    def lines(self) -> list[str]:
        out = [f"org {slug}: added (the provider of a feed)" for slug in self.orgs_added]
        out += [f"feed {name}: added" for name in self.added]
        out += [f"feed {name}: changed" for name in self.changed]
        out += [f"feed {name}: no longer in the catalogue: disabled (its history is kept)" for name in self.disabled]
        out.append(f"{self.folder}: {len(self.added)} added, {len(self.changed)} changed, "
                   f"{len(self.unchanged)} unchanged, {len(self.disabled)} disabled")
        return out


def _values(feed: FeedDefinition) -> dict:
    return {
        "name": feed.name, "provider": feed.provider, "url": feed.url, "format": feed.format,
        "schedule": feed.schedule, "mode": feed.mode, "confidence": feed.confidence, "tlp": feed.tlp,
        "labels": json.dumps(list(feed.labels)), "options": json.dumps(feed.options, sort_keys=True),
        "enabled": feed.enabled, "source": feed.source, "definition_hash": feed.definition_hash(),
    }


def sync_catalogue(db: Database, folder: Path | None = None, *, settings: Settings | None = None) -> SyncReport:
    """Load every TOML of the catalogue into the feed table in one transaction (a bad file
    changes nothing and names itself). Missing provider orgs are added (``provider_name``,
    ``provider_country``); feeds whose file is gone from this folder are disabled."""
    folder = (folder or catalogue_path(settings)).resolve()
    try:
        feeds = load_catalogue(folder)
    except CatalogueError as exc:
        raise Invalid(str(exc), field="catalogue") from None
    report = SyncReport(folder=str(folder))
    now = utcnow()
    with db.write() as conn:
        for feed in feeds:
            if org_store.get(conn, feed.provider) is None:
                if not SLUG.match(feed.provider):
                    raise Invalid(f"{feed.source}: provider: {feed.provider!r} is not an org slug", field="provider")
                org_store.insert(conn, feed.provider, feed.options.get("provider_name") or feed.provider,
                                 (feed.options.get("provider_country") or "").upper() or None)
                report.orgs_added.append(feed.provider)
            outcome = store.save_definition(conn, _values(feed), now)
            getattr(report, outcome).append(feed.name)
        names = {f.name for f in feeds}
        for row in store.all_feeds(conn):
            if row.name in names or not row.enabled or not row.source:
                continue
            if Path(row.source).parent == folder and not Path(row.source).exists():
                store.disable(conn, row.id, now)
                report.disabled.append(row.name)
    return report


def _visible(feed: store.FeedRow, viewer: Viewer) -> bool:
    return viewer.can_see(feed.tlp, feed.provider)


def health(feed: store.FeedRow, last, now) -> str:
    """One word for an operator: ``ok``, ``failing`` (the last run failed or was cut short),
    ``anomaly`` (the last complete run's row count looked wrong), ``stale`` (no run reached the
    feed for two of its periods: the scheduler is down, or the lease is stuck), ``never run``,
    ``disabled``. A followed registry-stream feed is ``ok`` while its follower's connection is open
    and its lease held, ``stale`` when the follower died holding it."""
    if not feed.enabled:
        return "disabled"
    if last is None:
        return "never run"
    if feed.format == STREAM and last.status == store.RUNNING:  # a connection open for days is healthy
        return "ok" if feed.lease_until is not None and feed.lease_until > now else "stale"
    if last.status in (store.FAILED, store.INTERRUPTED):
        return "failing"
    if last.anomaly:
        return "anomaly"
    once = next_due(feed.schedule, last.started)
    twice = next_due(feed.schedule, once) if once is not None else None
    if twice is not None and twice < now:
        return "stale"
    return "ok"


def _feed_dict(feed: store.FeedRow, last, last_ok, now) -> dict:
    options = feed.options
    due = next_due(feed.schedule, last.started) if last is not None and feed.enabled else None
    if feed.format == STREAM:  # followed, never due
        due = None
    return {
        "name": feed.name, "provider": feed.provider, "url": feed.url, "format": feed.format,
        "schedule": feed.schedule, "mode": feed.mode, "confidence": feed.confidence, "tlp": feed.tlp,
        "labels": list(feed.labels), "enabled": feed.enabled, "description": options.get("description"),
        "reliability": options.get("reliability"), "credibility": options.get("credibility"),
        "running": feed.lease_owner is not None and feed.lease_until is not None and feed.lease_until > now,
        "health": health(feed, last, now),
        "next_due": iso(max(due, now) if due is not None else (now if feed.enabled and feed.format != STREAM else None)),
        "last_run": RunResult.from_row(last, feed.name).to_dict() if last is not None else None,
        # The latest run that read the whole feed: its counts are the feed's size and health.
        "last_ok_run": RunResult.from_row(last_ok, feed.name).to_dict() if last_ok is not None else None,
    }


def list_feeds(db: Database, viewer: Viewer) -> list[dict]:
    """Every feed the viewer may see, by name, with its latest run."""
    with db.read() as conn:
        feeds = store.all_feeds(conn)
        last = store.last_runs(conn)
        last_ok = store.last_runs(conn, status=store.OK)
    now = utcnow()
    return [_feed_dict(f, last.get(f.id), last_ok.get(f.id), now) for f in feeds if _visible(f, viewer)]


def get_feed(db: Database, name: str, viewer: Viewer) -> store.FeedRow:
    """The feed, or NotFound (also when the viewer may not see it: its existence is not told)."""
    with db.read() as conn:
        feed = store.get(conn, name)
    if feed is None or not _visible(feed, viewer):
        raise NotFound(f"no feed {name!r}", field="name")
    return feed


def feed_runs(db: Database, name: str, viewer: Viewer, *, limit: int = 20, before: int | None = None) -> dict:
    """The feed's runs, newest first: ``{"feed", "runs", "next"}`` (``next``: pass as
    ``before`` for older runs)."""
    if not 1 <= limit <= MAX_RUNS:
        raise Invalid(f"limit must be from 1 to {MAX_RUNS}", field="limit")
    feed = get_feed(db, name, viewer)
    with db.read() as conn:
        rows = store.runs(conn, feed.id, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"feed": feed.name, "runs": [RunResult.from_row(r, feed.name).to_dict() for r in rows],
            "next": str(rows[-1].id) if more else None}
