"""What the expiry events' job reads (docs/design.md, "Events and watches"): the assertions
whose own ``valid_until`` passed since its last look, and that look's mark, kept in the
``counter`` row ``expiry-mark`` (microseconds since the epoch, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from registry.storage import tables as t

MARK = "expiry-mark"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_a, _c = t.assertion.c, t.counter.c


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


def take_mark(conn: Connection) -> datetime | None:
    """The last look's mark, its row locked until the caller's commit (on PostgreSQL; a SQLite
    write transaction holds the database), so schedulers sharing a database announce each
    expiry once; None when the row is missing (see ``set_mark``)."""
    value = conn.execute(select(_c.value).where(_c.name == MARK).with_for_update()).scalar()
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def set_mark(conn: Connection, when: datetime, *, new: bool = False) -> None:
    """Move the mark to ``when`` (``new``: write the row, missing from a database made otherwise
    than by the migrations)."""
    if new:
        conn.execute(t.counter.insert().values(name=MARK, value=_micros(when)))
    else:
        conn.execute(update(t.counter).where(_c.name == MARK).values(value=_micros(when)))


def passed(conn: Connection, after: datetime, until: datetime) -> list[int]:
    """Ids of the assertions whose own ``valid_until`` lies in ``(after, until]`` and came after
    they were last written (one written already ended was announced by its writer: a report, a
    peer's end), not ended by the registry (a snapshot's end, a delisting: announced when made)
    nor by a review date before it (the daily job announces those), by ``valid_until`` (the
    partial index on it)."""
    query = (select(_a.id).where(_a.valid_until > after, _a.valid_until <= until, _a.valid_until > _a.modified,
                                 _a.end_reason.is_(None), or_(_a.review_at.is_(None), _a.review_at >= _a.valid_until))
             .order_by(_a.valid_until, _a.id))
    return list(conn.execute(query).scalars())
