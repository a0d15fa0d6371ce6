"""Audit rows: append to the hash chain, stream it back, list it for the admin API, read its head.

Events handed to ``append`` are dicts with the hashed fields of ``domain.audit_chain``
(``time`` aware or naive-UTC datetime, ``subject`` already JSON text). ``append`` coerces every
value to what the column will hand back (ints, trimmed strings, microsecond UTC time) *before*
hashing, so a row read back hashes to what was written on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from registry.domain.audit_chain import GENESIS, event_hash
from registry.storage import bulk
from registry.storage import tables as t

_A = t.audit_event
_INSERTED = ("time", "org", "actor", "action", "subject", "result_count", "client", "status", "prev_hash", "hash")
_COLUMNS = ("id", "time", "org", "actor", "action", "subject", "result_count", "client", "status", "prev_hash", "hash")
# Column widths: PostgreSQL rejects longer strings, which would fail the whole flush forever.
_WIDTHS = {"org": 64, "actor": 64, "action": 32, "client": 64}
_MAX_ID = 2**31 - 1


def append(conn: Connection, events: list[Mapping]) -> None:
    """Add ``events`` to the end of the chain, in order, inside the caller's write transaction."""
    if not events:
        return
    # Take the counter's row lock first: on PostgreSQL a second appender waits here until this
    # transaction commits, so it then reads the head this one wrote (SQLite's BEGIN IMMEDIATE
    # already serialises writers). The counter also records how many rows ever existed.
    conn.execute(
        update(t.counter)
        .where(t.counter.c.name == "audit")
        .values(value=t.counter.c.value + len(events))
        .returning(t.counter.c.value)
    ).scalar_one()
    prev = conn.execute(select(_A.c.hash).order_by(_A.c.id.desc()).limit(1)).scalar() or GENESIS
    rows = []
    for event in events:
        row = _storable(event)
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(prev, row)
        rows.append(row)
    # Plain tuples through the driver: SQLAlchemy's per-row parameter processing cost a large
    # share of each flush (docs/performance.md).
    bulk.insert_many(conn, "audit_event", _INSERTED,
                     [(bulk.db_time(conn, r["time"]), *(r[c] for c in _INSERTED[1:])) for r in rows])


def iter_rows(conn: Connection, batch: int = 5000) -> Iterator[dict]:
    """Every row ordered by id, ``batch`` at a time (keyset paging: flat memory, no OFFSET)."""
    last = 0
    while True:
        page = conn.execute(select(_A).where(_A.c.id > last).order_by(_A.c.id).limit(batch)).mappings().all()
        for row in page:
            yield dict(row)
        if len(page) < batch:
            return
        last = page[-1]["id"]


def head(conn: Connection) -> tuple[int, str]:
    """The newest row's id and hash: the head a checkpoint signs ((0, GENESIS) for an empty log)."""
    row = conn.execute(select(_A.c.id, _A.c.hash).order_by(_A.c.id.desc()).limit(1)).first()
    return (row.id, row.hash) if row is not None else (0, GENESIS)


def hash_of(conn: Connection, row_id: int) -> str | None:
    """The hash of the row with this id, None when there is none."""
    if not 0 < row_id <= _MAX_ID:
        return None
    return conn.execute(select(_A.c.hash).where(_A.c.id == row_id)).scalar()


def expected_count(conn: Connection) -> int:
    """How many rows the chain should hold (the ``audit`` counter)."""
    return conn.execute(select(t.counter.c.value).where(t.counter.c.name == "audit")).scalar_one()


def query(
    conn: Connection,
    *,
    org: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    after_id: int = 0,
    newest_first: bool = False,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict]:
    """Rows matching the filters (``since`` inclusive, ``until`` exclusive), ``subject`` decoded.

    Paging is by id, never OFFSET. By default oldest first: rows with ``id > after_id``, and the
    next page passes the last id returned as ``after_id``. With ``newest_first`` (implied by
    ``before_id``): rows with ``id < before_id``, and the next page passes the last id returned
    as ``before_id``. Out-of-range cursors and limits (client input) are clamped, not errors.
    """
    stmt = select(_A)
    for column, value in ((_A.c.org, org), (_A.c.action, action), (_A.c.actor, actor)):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(_A.c.time >= since)
    if until is not None:
        stmt = stmt.where(_A.c.time < until)
    if newest_first or before_id is not None:
        if before_id is not None and before_id <= _MAX_ID:  # ids are INTEGER on PostgreSQL
            stmt = stmt.where(_A.c.id < before_id)
        stmt = stmt.order_by(_A.c.id.desc())
    else:
        if after_id >= _MAX_ID:
            return []
        stmt = stmt.where(_A.c.id > max(after_id, 0)).order_by(_A.c.id)
    rows = []
    for row in conn.execute(stmt.limit(max(0, min(limit, _MAX_ID)))).mappings():
        item = dict(row)
        if item["subject"] is not None:
            item["subject"] = json.loads(item["subject"])
        rows.append(item)
    return rows


def _storable(event: Mapping) -> dict:
    """The event as the columns will store and return it (see the module docstring)."""
    when = event["time"]
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    elif when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    row = {"time": when, "subject": _text(event.get("subject"))}
    for name, width in _WIDTHS.items():
        text = _text(event.get(name))
        row[name] = text[:width] if text is not None else None
    if not row["action"]:
        row["action"] = "unknown"
    for name in ("result_count", "status"):
        row[name] = _int(event.get(name))
    return row


def _int(value) -> int | None:
    """An INTEGER column's value; anything else becomes NULL rather than failing the flush."""
    if type(value) is int and -(2**31) <= value < 2**31:
        return value
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(-(2**31), min(number, 2**31 - 1))


def _text(value) -> str | None:
    """A string both engines store unchanged: PostgreSQL refuses NUL, and lone surrogates
    cannot be encoded as UTF-8."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    if text.isascii():  # O(1) in CPython, and ASCII is valid UTF-8: the usual, fast case
        return text.replace("\x00", "") if "\x00" in text else text
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
