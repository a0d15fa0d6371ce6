"""``domain.standing`` as SQL: the condition that an assertion is in force at a time, for the
reads that filter in the database (exports, STIX, search's network listing), so SQL and the
Python rule cannot disagree (docs/design.md, "Listed means in force")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_

from registry.domain.standing import DELISTED
from registry.storage import tables as t

A = t.assertion.c


def in_force(at: datetime, columns=A):
    """True for an assertion still in force at ``at``: not past its ``valid_until``, not past its
    review date, not delisted (``domain.standing.ended`` is None)."""
    return and_(
        or_(columns.valid_until.is_(None), columns.valid_until > at),
        or_(columns.review_at.is_(None), columns.review_at > at),
        or_(columns.end_reason.is_(None), columns.end_reason != DELISTED),
    )
