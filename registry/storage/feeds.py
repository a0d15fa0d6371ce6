"""Feed rows, their runs, their leases, and the snapshot expiry of vanished values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select

from registry.domain.standing import SNAPSHOT
from registry.storage import bulk, leases
from registry.storage import tables as t
from registry.storage.db import next_seq

RUNNING, OK, NOT_MODIFIED, FAILED, INTERRUPTED = "running", "ok", "not-modified", "failed", "interrupted"
RUN_COUNTS = ("bytes", "rows", "new", "updated", "unchanged", "expired", "allowlisted", "rejected", "held")


@dataclass(frozen=True)
class FeedRow:
    id: int
    name: str
    provider: str
    url: str
    format: str
    schedule: str
    mode: str
    confidence: int
    tlp: str
    labels: tuple[str, ...]
    options: dict
    enabled: bool
    source: str | None
    definition_hash: str
    updated: datetime
    etag: str | None
    last_modified: str | None
    cursor: str | None
    lease_owner: str | None
    lease_until: datetime | None


def _feed(row) -> FeedRow:
    return FeedRow(
        id=row.id, name=row.name, provider=row.provider, url=row.url, format=row.format, schedule=row.schedule,
        mode=row.mode, confidence=row.confidence, tlp=row.tlp, labels=tuple(json.loads(row.labels)),
        options=json.loads(row.options), enabled=row.enabled, source=row.source,
        definition_hash=row.definition_hash, updated=row.updated, etag=row.etag, last_modified=row.last_modified,
        cursor=row.cursor, lease_owner=row.lease_owner, lease_until=row.lease_until,
    )


def get(conn: Connection, name: str) -> FeedRow | None:
    row = conn.execute(select(t.feed).where(t.feed.c.name == name)).first()
    return _feed(row) if row else None


def all_feeds(conn: Connection) -> list[FeedRow]:
    return [_feed(r) for r in conn.execute(select(t.feed).order_by(t.feed.c.name))]


def save_definition(conn: Connection, values: dict, now: datetime) -> str:
    """Insert or update a feed's definition (never its fetch state or lease): ``added``,
    ``changed`` or ``unchanged``."""
    current = conn.execute(select(t.feed.c.id, t.feed.c.definition_hash, t.feed.c.source)
                           .where(t.feed.c.name == values["name"])).first()
    if current is None:
        conn.execute(t.feed.insert().values(**values, created=now, updated=now))
        return "added"
    if current.definition_hash == values["definition_hash"] and current.source == values["source"]:
        return "unchanged"
    changed = {k: v for k, v in values.items() if k != "name"}
    conn.execute(t.feed.update().where(t.feed.c.id == current.id).values(**changed, updated=now))
    return "changed" if current.definition_hash != values["definition_hash"] else "unchanged"


def disable(conn: Connection, feed_id: int, now: datetime) -> None:
    conn.execute(t.feed.update().where(t.feed.c.id == feed_id).values(enabled=False, updated=now))


def save_state(conn: Connection, feed_id: int, *, etag=None, last_modified=None, cursor=None) -> None:
    conn.execute(t.feed.update().where(t.feed.c.id == feed_id).values(
        etag=etag, last_modified=last_modified, cursor=cursor))


def save_cursor(conn: Connection, feed_id: int, cursor: str) -> None:
    """The feed's position alone (a registry-stream feed stores it with each event it applies)."""
    conn.execute(t.feed.update().where(t.feed.c.id == feed_id).values(cursor=cursor))


# -- leases (storage.leases on the feed table) --------------------------------------------------
def take_lease(conn: Connection, feed_id: int, owner: str, now: datetime, until: datetime,
               *, replacing: str | None = None) -> bool:
    return leases.take(conn, t.feed, feed_id, owner, now, until, replacing=replacing)


def renew_lease(conn: Connection, feed_id: int, owner: str, until: datetime) -> bool:
    return leases.renew(conn, t.feed, feed_id, owner, until)


def release_lease(conn: Connection, feed_id: int, owner: str) -> None:
    leases.release(conn, t.feed, feed_id, owner)


# -- runs ------------------------------------------------------------------------------------
def insert_run(conn: Connection, feed_id: int, trigger: str, started: datetime) -> int:
    return conn.execute(t.feed_run.insert().values(
        feed_id=feed_id, trigger=trigger, started=started, status=RUNNING, rejects="[]",
        **dict.fromkeys(RUN_COUNTS, 0),
    )).inserted_primary_key[0]


def update_run(conn: Connection, run_id: int, **values) -> None:
    if "rejects" in values and not isinstance(values["rejects"], str):
        values["rejects"] = json.dumps(values["rejects"], ensure_ascii=False)
    conn.execute(t.feed_run.update().where(t.feed_run.c.id == run_id).values(**values))


def interrupt_stale_runs(conn: Connection, feed_id: int, now: datetime) -> int:
    """Runs of the feed still marked running when its lease is taken anew: their process died."""
    c = t.feed_run.c
    return conn.execute(t.feed_run.update().where(c.feed_id == feed_id, c.status == RUNNING).values(
        status=INTERRUPTED, finished=now,
        error="the process running it stopped before it finished (killed, or the machine went down); "
              "the batches it committed are kept",
    )).rowcount


def runs(conn: Connection, feed_id: int, *, limit: int = 20, before: int | None = None) -> list:
    c = t.feed_run.c
    query = select(t.feed_run).where(c.feed_id == feed_id)
    if before is not None:
        query = query.where(c.id < before)
    return list(conn.execute(query.order_by(c.id.desc()).limit(limit)))


def last_runs(conn: Connection, *, status: str | None = None) -> dict[int, object]:
    """Each feed's latest run (of that ``status``)."""
    c = t.feed_run.c
    latest = select(c.feed_id, func.max(c.id).label("id")).group_by(c.feed_id)
    if status is not None:
        latest = latest.where(c.status == status)
    latest = latest.subquery()
    rows = conn.execute(select(t.feed_run).join(latest, and_(latest.c.id == c.id)))
    return {r.feed_id: r for r in rows}


def last_started(conn: Connection, feed_id: int) -> datetime | None:
    """When the latest run that fetched (any status but failed) started."""
    c = t.feed_run.c
    return conn.execute(select(func.max(c.started)).where(c.feed_id == feed_id, c.status != FAILED)).scalar()


def recent_row_counts(conn: Connection, feed_id: int, *, limit: int = 5) -> list[int]:
    """Row counts of the latest complete runs that read a body (the anomaly guard's baseline).
    Flagged runs count too: a feed that really shrank is flagged a few times, then not."""
    c = t.feed_run.c
    return list(conn.execute(select(c.rows).where(c.feed_id == feed_id, c.status == OK)
                             .order_by(c.id.desc()).limit(limit)).scalars())


# -- snapshot expiry -------------------------------------------------------------------------
def expire_vanished(conn: Connection, org_id: int, feed: str, now: datetime) -> int:
    """End the assertions of ``(org, feed)`` the run did not see: every value a run reads has
    ``last_seen`` = the run's time, so the rest vanished from the feed. ``valid_until`` is set
    and ``end_reason`` says ``snapshot`` (the assertion stays, as history: docs/design.md,
    "Listed means in force"), and each gets a change number, so exports and TAXII pass the news
    on."""
    a = t.assertion.c
    ids = list(conn.execute(select(a.id).where(
        a.org_id == org_id, a.feed == feed, a.last_seen < now, or_(a.valid_until.is_(None), a.valid_until > now),
        a.end_reason.is_(None),  # ended already (a review date passed): it keeps its reason
    ).order_by(a.id)).scalars())
    if not ids:
        return 0
    seq = next_seq(conn, len(ids))
    db_now = bulk.db_time(conn, now)
    bulk.update_many(conn, "assertion", ("valid_until", "end_reason", "modified", "seq"),
                     [(db_now, SNAPSHOT, db_now, seq + i, assertion_id) for i, assertion_id in enumerate(ids)])
    return len(ids)
