"""Review dates (docs/design.md, "Listed means in force"): every assertion must be confirmed by
its source by its review date (``REGISTRY_REVIEW_DAYS`` by kind, from when it was last seen),
else it ends, as history. Re-reporting it moves the date on (``storage.indicators.upsert``); so
does ``confirm`` (``POST /api/v1/assertions/ID/confirm``, the review page's button).

- ``due``: an org's assertions whose review falls due within some days, or has passed
  (``registry review``, ``GET /api/v1/review``, the review page);
- ``confirm``: one assertion confirmed, by a contributor (or above) of its org or an operator;
- ``daily``: the scheduler's daily job: ``record_review_ends`` (marks the assertions the read
  rule ended by review, with a new change number and an ``indicator.expired`` event each, so
  those following changes learn it) and,
  with ``REGISTRY_RETENTION_DAYS``, ``purge``: history ended longer ago than that is deleted,
  the audit keeping what was.

Assertion ids reach callers sealed (``domain.opaque``, purpose ``ASSERTION``): a row id counts
every org's rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from registry.domain import roles, standing
from registry.domain.opaque import ASSERTION, Sealer
from registry.domain.rows import decode_labels
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services import announce
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.services.keys import Principal
from registry.services.orgs import require_org
from registry.storage import review as store
from registry.storage.db import Database

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30  # how far ahead ``due`` looks
MAX_DAYS = 3650
MAX_LIMIT = 10_000
DUE, ENDED = "due", "ended"
TOKEN = re.compile(r"[A-Za-z0-9_-]{48}")  # a sealed id (domain.opaque): what ``due`` gives, ``confirm`` takes


def due(db: Database, viewer: Viewer, org: str, *, days: int = DEFAULT_DAYS, limit: int = 1000,
        sealer: Sealer | None = None, now: datetime | None = None) -> dict:
    """``org``'s assertions the viewer may see whose review date falls within ``days`` from now
    or has passed (``status`` ``due`` or ``ended``), soonest first, at most ``limit``; each with
    its ``id`` sealed by ``sealer`` (None without one: the operator's command line without the
    server's secret)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise Invalid(f"days must be a whole number from 0 to {MAX_DAYS}, not {days!r}", field="days")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", field="limit")
    now = now or utcnow()
    with db.read() as conn:
        require_org(conn, org)
        rows = store.due(conn, viewer, org, now + timedelta(days=days), limit=limit + 1)
    items = [_item(row, now, sealer) for row in rows[:limit]]
    return {"org": org, "days": days, "count": len(items), "truncated": len(rows) > limit, "assertions": items}


def _item(row: store.ReviewRow, now: datetime, sealer: Sealer | None) -> dict:
    ended = row.review_at <= now
    return {
        "id": sealer.seal(row.id, ASSERTION) if sealer is not None else None,
        "kind": row.kind, "value": row.value, "display": row.display, "source": row.source,
        "feed": row.feed or None, "tlp": row.tlp, "confidence": row.confidence, "labels": decode_labels(row.labels),
        "last_seen": iso(row.last_seen), "valid_until": iso(row.valid_until), "review_at": iso(row.review_at),
        "status": ENDED if ended else DUE,
    }


def confirm(db: Database, principal: Principal, token: str, *, sealer: Sealer,
            review_days: dict[str, float] | None = None, now: datetime | None = None) -> dict:
    """Confirm one assertion (``token``: its sealed id): its review date moves on from now (an end
    by review undone), with a new change number. A contributor or above of the assertion's org
    may, or an operator; an assertion the caller may not see (or no such one) is NotFound, one
    that ended otherwise (expired, a snapshot's end, delisted) a Conflict: re-submitting it lists
    it again. Returns the assertion as ``due`` lists it."""
    now = now or utcnow()
    assertion_id = sealer.open(token, ASSERTION) if isinstance(token, str) else None
    with db.write() as conn:
        row = store.one(conn, assertion_id) if assertion_id is not None else None
        if row is None or not principal.viewer.can_see(row.tlp, row.source):
            raise NotFound("no such assertion (or not one you may see): give the id a review listing gave",
                           field="id")
        if not roles.administers_every_org(principal.role) and (
                principal.org != row.source or not roles.allows(principal.role, roles.CONTRIBUTOR)):
            raise Forbidden(f"only a contributor (or above) of {row.source} confirms its assertions, or an operator",
                            details={"source": row.source, "needed_role": roles.CONTRIBUTOR})
        review_at = standing.review_date(row.kind, now, review_days)
        kept = None if row.end_reason == standing.REVIEW else row.end_reason
        why = standing.ended(row.valid_until, review_at, kept, now)  # what a confirmation cannot undo
        if why is not None:
            raise Conflict(f"this assertion of {row.value} ended ({why}): submit the value again to list it",
                           details={"why": why})
        store.confirm(conn, row.id, review_at, now)
    return _item(row._replace(review_at=review_at, end_reason=None), now, None) | {"id": token}


def daily(db: Database, *, retention_days: int, relist_days: int, record: Callable[[dict, int], None],
          now: datetime | None = None) -> dict:
    """The scheduler's daily job: record review ends, then purge (with a retention period);
    ``record(subject, count)`` audits each purged chunk (see ``purge``)."""
    now = now or utcnow()
    with db.write() as conn:
        ended_ids = store.record_review_ends(conn, now)
        announce.emit_ended(conn, ended_ids, now)  # indicator.expired, why review (docs/design.md, "Events and watches")
    ended = len(ended_ids)
    purged = purge(db, retention_days=retention_days, relist_days=relist_days, record=record,
                   now=now) if retention_days > 0 else 0
    if ended or purged:
        log.info("review: %s assertions ended by their review date, %s purged", ended, purged)
    return {"review_ended": ended, "purged": purged}


def purge(db: Database, *, retention_days: int, relist_days: int, record: Callable[[dict, int], None],
          now: datetime | None = None) -> int:
    """Delete assertions that ended more than ``retention_days`` ago (a delisted one also more than
    ``relist_days`` ago: re-listing protection reads it till then), in chunks, each in its own
    transaction, then ``record(subject, count)``: the caller's audit event (``review-purge``)
    naming how many and which values (``source value`` each). The
    indicators stay (nothing ever deletes them); an indicator left without assertions or
    sightings answers as unknown. How many were deleted."""
    if retention_days <= 0:
        raise Invalid("set REGISTRY_RETENTION_DAYS (days after an assertion ended before it is purged) to purge",
                      field="retention_days")
    now = now or utcnow()
    before = now - timedelta(days=retention_days)
    delisted_before = min(before, now - timedelta(days=relist_days))
    total = 0
    while True:
        with db.write() as conn:
            rows = store.purgeable(conn, before, delisted_before)
            if not rows:
                return total
            store.delete_assertions(conn, [row[0] for row in rows])
        total += len(rows)
        record({"retention_days": retention_days, "ended_before": iso(before), "count": len(rows),
                "values": [f"{source} {value}" for _, value, source in rows]}, len(rows))


def confirm_subject(done: dict) -> dict:
    """The ``assertion-confirm`` audit event's subject for what ``confirm`` answered."""
    return {"value": done["value"], "source": done["source"], "feed": done["feed"], "review_at": done["review_at"]}
