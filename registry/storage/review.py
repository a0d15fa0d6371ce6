"""Reads and writes of review dates (docs/design.md, "Listed means in force"): an org's
assertions falling due, one assertion to confirm, recording review ends, and purging history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, or_, select, update

from registry.domain.standing import DELISTED, REVIEW
from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.db import next_seq
from registry.storage.visibility import visible

A, IND, ORG = t.assertion.c, t.indicator.c, t.organization.c
PURGE_CHUNK = 10_000  # assertions deleted (and audited) per statement


class ReviewRow(NamedTuple):
    id: int
    kind: str
    value: str
    display: str | None
    source: str
    feed: str
    tlp: str
    confidence: int
    labels: str
    last_seen: datetime
    valid_until: datetime | None
    review_at: datetime
    end_reason: str | None


_COLUMNS = (A.id, IND.kind, IND.value, IND.display, ORG.slug.label("source"), A.feed, A.tlp, A.confidence, A.labels,
            A.last_seen, A.valid_until, A.review_at, A.end_reason)
_JOINED = t.assertion.join(t.indicator, IND.id == A.indicator_id).join(t.organization, ORG.id == A.org_id)


def _reviewable():
    """Ends, if ever, by its review date: not ended otherwise (delisted, a snapshot's end) and not
    expiring before it (its valid_until, if any, after the review date)."""
    return and_(A.review_at.is_not(None), or_(A.end_reason.is_(None), A.end_reason == REVIEW),
                or_(A.valid_until.is_(None), A.valid_until > A.review_at))


def due(conn: Connection, viewer: Viewer, org: str, horizon: datetime, *, limit: int) -> list[ReviewRow]:
    """``org``'s assertions the viewer may see whose review date is at or before ``horizon``
    (passed ones too: ended by review), soonest first."""
    query = (select(*_COLUMNS).select_from(_JOINED)
             .where(ORG.slug == org, A.review_at <= horizon, _reviewable(), visible(viewer, A.tlp, ORG.slug))
             .order_by(A.review_at, IND.value, A.id).limit(limit))
    return [ReviewRow(*row) for row in conn.execute(query)]


def one(conn: Connection, assertion_id: int) -> ReviewRow | None:
    """One assertion by its row id, whoever may see it (the caller applies the rule)."""
    row = conn.execute(select(*_COLUMNS).select_from(_JOINED).where(A.id == assertion_id)).first()
    return None if row is None else ReviewRow(*row)


def confirm(conn: Connection, assertion_id: int, review_at: datetime, now: datetime) -> None:
    """Move the review date on (an end by review undone), with a new change number."""
    conn.execute(update(t.assertion).where(A.id == assertion_id).values(
        review_at=review_at, end_reason=None, modified=now, seq=next_seq(conn)))


def record_review_ends(conn: Connection, now: datetime) -> list[int]:
    """Mark the assertions whose review date passed unconfirmed: ``end_reason`` ``review``, a new
    change number and ``modified`` (the read rule ended them already; this tells those who
    follow changes: exports and TAXII since a position). Their ids (the caller announces them)."""
    ids = list(conn.execute(select(A.id).where(A.review_at <= now, A.end_reason.is_(None), _reviewable())
                            .order_by(A.id)).scalars())
    if ids:
        first, db_now = next_seq(conn, len(ids)), bulk.db_time(conn, now)
        bulk.update_many(conn, "assertion", ("end_reason", "modified", "seq"),
                         [(REVIEW, db_now, first + n, assertion_id) for n, assertion_id in enumerate(ids)])
    return ids


def purgeable(conn: Connection, ended_before: datetime, delisted_before: datetime) -> list[tuple[int, str, str]]:
    """(id, value, source) of assertions that ended before ``ended_before`` (a delisted one:
    before ``delisted_before`` too), at most ``PURGE_CHUNK``."""
    ended = or_(A.valid_until < ended_before, A.review_at < ended_before)
    delisted_long_ago = or_(A.end_reason.is_(None), A.end_reason != DELISTED, A.valid_until < delisted_before)
    query = (select(A.id, IND.value, ORG.slug).select_from(_JOINED).where(ended, delisted_long_ago)
             .order_by(A.id).limit(PURGE_CHUNK))
    return [tuple(row) for row in conn.execute(query)]


def delete_assertions(conn: Connection, ids: Sequence[int]) -> None:
    """Delete these assertions (a dispute's decision keeps its row, no longer naming one)."""
    conn.execute(update(t.dispute_decision).where(t.dispute_decision.c.assertion_id.in_(list(ids)))
                 .values(assertion_id=None))
    conn.execute(delete(t.assertion).where(A.id.in_(list(ids))))
