"""``domain.standing`` as SQL: the condition that an assertion is in force at a time, for the
reads that filter in the database (exports, STIX, search's network listing), so SQL and the
Python rule cannot disagree (docs/design.md, "Listed means in force"); and ending a source's
assertion of a value when its source says it ended (a registry-stream feed's copies)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from registry.domain.standing import DELISTED
from registry.storage import tables as t
from registry.storage.db import next_seq

A = t.assertion.c


def in_force(at: datetime, columns=A):
    """True for an assertion still in force at ``at``: not past its ``valid_until``, not past its
    review date, not delisted (``domain.standing.ended`` is None)."""
    return and_(
        or_(columns.valid_until.is_(None), columns.valid_until > at),
        or_(columns.review_at.is_(None), columns.review_at > at),
        or_(columns.end_reason.is_(None), columns.end_reason != DELISTED),
    )


def end(conn: Connection, indicator_id: int, org_id: int, feed: str, when: datetime, reason: str | None,
        now: datetime) -> list[int]:
    """End ``org_id``'s ordinary (lane 0) assertion of the indicator under ``feed`` if it is in
    force: ``valid_until`` = ``when``, ``end_reason`` = ``reason`` (None: its source's own end,
    read as ``expired``), a new change number and ``modified``, so exports and TAXII pass the end
    on. The ids ended (none or one)."""
    ids = list(conn.execute(select(A.id).where(A.indicator_id == indicator_id, A.org_id == org_id, A.feed == feed,
                                               A.lane == 0, in_force(now))).scalars())
    if ids:
        seq = next_seq(conn, len(ids))
        for n, assertion_id in enumerate(ids):
            conn.execute(t.assertion.update().where(A.id == assertion_id).values(
                valid_until=when, end_reason=reason, modified=now, seq=seq + n))
    return ids
