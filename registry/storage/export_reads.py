"""Reads behind the per-indicator exports (csv, text, cidr, rpz, json, misp): the visible
assertions matching an export's filters, joined to their indicator and source org, streamed in
keyset pages and ordered so that one indicator's assertions arrive together.

Two orders: by indicator id (every format but cidr), and by address range
(``range_start, range_end, id``, on the range index: the CIDR export merges neighbours as
they stream past). A page is cut at an indicator boundary, so a consumer grouping
consecutive rows never sees one indicator split in two.

Rows come back as ``domain.rows.ExportRow`` (or ``ValueRow``: the indicator's fields alone), times
as stored (text on SQLite, aware datetimes on PostgreSQL), as in ``stix_reads``: parsing a million
timestamps through SQLAlchemy costs more than the query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, and_, func, select, tuple_, type_coerce

from registry.domain.rows import ExportRow, ValueRow
from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.standing import in_force
from registry.storage.stix_reads import label_pattern
from registry.storage.visibility import visible

A, IND, ORG = t.assertion.c, t.indicator.c, t.organization.c

PAGE = 5000
BY_ID, BY_RANGE = "id", "range"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which assertions an export holds (all already checked: see services.exports)."""

    kinds: tuple[str, ...] | None = None  # None: every kind
    label: str | None = None
    source: str | None = None
    since_time: datetime | None = None
    since_seq: int | None = None
    current_at: datetime | None = None  # leave out assertions not in force at this time (storage.standing)
    include_allowlisted: bool = False
    ranges_only: bool = False  # IP networks and addresses only (the CIDR export)


def _raw_time(conn: Connection, column, name: str):
    return type_coerce(column, String).label(name) if bulk.is_sqlite(conn) else column.label(name)


def _conditions(viewer: Viewer, sel: Selection) -> list:
    conditions = [visible(viewer, A.tlp, ORG.slug)]
    if sel.kinds is not None:
        conditions.append(IND.kind.in_(sel.kinds))
    if sel.label:
        conditions.append(A.labels.like(label_pattern(sel.label), escape="\\"))
    if sel.source:
        conditions.append(ORG.slug == sel.source)
    if sel.since_time is not None:
        conditions.append(A.modified >= sel.since_time)
    if sel.since_seq is not None:
        conditions.append(A.seq > sel.since_seq)
    if sel.current_at is not None:
        conditions.append(in_force(sel.current_at))
    if not sel.include_allowlisted:
        conditions.append(IND.allowlisted.is_(None))
    if sel.ranges_only:
        conditions.append(IND.range_start.is_not(None))
    return conditions


def _select(conn: Connection, viewer: Viewer, sel: Selection, *, values_only: bool = False):
    columns = (
        IND.id.label("indicator_id"), IND.kind, IND.value, IND.display, IND.allowlisted, IND.range_start,
        IND.range_end, ORG.slug.label("source"), A.org_id, A.feed, A.confidence, A.tlp, A.labels, A.description,
        _raw_time(conn, A.valid_until, "valid_until"), _raw_time(conn, A.first_seen, "first_seen"),
        _raw_time(conn, A.last_seen, "last_seen"), A.times_reported, _raw_time(conn, A.modified, "modified"),
        _raw_time(conn, A.review_at, "review_at"), A.end_reason, A.reliability, A.credibility,
    )
    assert tuple(c.key for c in columns) == ExportRow._fields
    if values_only:  # fewer columns: the text export reads its rows much faster
        columns = columns[:len(ValueRow._fields)]
    joined = t.indicator.join(t.assertion, A.indicator_id == IND.id).join(t.organization, ORG.id == A.org_id)
    return select(*columns).select_from(joined).where(*_conditions(viewer, sel))


def rows(conn: Connection, viewer: Viewer, sel: Selection, *, order: str = BY_ID, page: int = PAGE,
         where=None, values_only: bool = False) -> Iterator:
    """Every matching row (``ExportRow``, or ``ValueRow`` when ``values_only``), one indicator's
    rows together, in ``order``; ``where``: one more condition (the MISP event's org and day)."""
    if order == BY_RANGE:
        sel = Selection(**{**_fields(sel), "ranges_only": True})
        key = (IND.range_start, IND.range_end, IND.id)
    else:
        key = (A.indicator_id,)  # the assertion index order: no sort (IND.id makes SQLite sort)
    base = _select(conn, viewer, sel, values_only=values_only)
    if where is not None:
        base = base.where(where)
    base = base.order_by(*key)
    row_type = ValueRow if values_only else ExportRow
    after: tuple | None = None
    while True:
        query = base if after is None else base.where(_after(key, after))
        batch = bulk.fetch_as(conn, query.limit(page), row_type)
        if len(batch) < page:
            yield from batch
            return
        last = batch[-1].indicator_id
        if batch[0].indicator_id == last:
            # One indicator fills the page: take all of its rows at once, then go on after it.
            yield from bulk.fetch_as(conn, base.where(IND.id == last), row_type)
            after = _key_of(batch[-1], order)
            continue
        end = len(batch)
        while batch[end - 1].indicator_id == last:  # the last indicator may go on in the next page
            end -= 1
        yield from batch[:end]
        after = _key_of(batch[end - 1], order)


def _fields(sel: Selection) -> dict:
    return {name: getattr(sel, name) for name in Selection.__slots__}


def _after(key: tuple, after: tuple):
    if len(key) == 1:
        # Both sides of the join bounded: PostgreSQL merge-joins otherwise, reading the indicator
        # index from its start on every page (quadratic over a million rows).
        return and_(key[0] > after[0], IND.id > after[0])
    return tuple_(*key) > tuple_(*after)


def _key_of(row: ValueRow | ExportRow, order: str) -> tuple:
    return (row.range_start, row.range_end, row.indicator_id) if order == BY_RANGE else (row.indicator_id,)


def slices(conn: Connection, viewer: Viewer, sel: Selection) -> list:
    """(org_id, day, tlp, rows, last modified) of the matching assertions grouped by source org,
    the UTC day they were first reported, and TLP: the MISP feed's events (one per org and day)."""
    day = _utc_day(conn, A.first_seen)
    joined = t.indicator.join(t.assertion, A.indicator_id == IND.id).join(t.organization, ORG.id == A.org_id)
    query = (
        select(A.org_id, day.label("day"), A.tlp, func.count().label("rows"),
               _raw_time(conn, func.max(A.modified), "modified"))
        .select_from(joined).where(*_conditions(viewer, sel))
        .group_by(A.org_id, day, A.tlp).order_by(A.org_id, day, A.tlp)
    )
    return conn.execute(query).all()


def slice_rows(conn: Connection, viewer: Viewer, sel: Selection, *, org_id: int, day_start: datetime,
               day_end: datetime) -> Iterator:
    """The rows of one MISP event: one org's matching assertions first reported that day, by
    indicator (no index serves this: it is one scan of the assertion table)."""
    return rows(conn, viewer, sel, where=and_(A.org_id == org_id, A.first_seen >= day_start, A.first_seen < day_end))


def _utc_day(conn: Connection, column):
    """``YYYY-MM-DD`` of a stored time in UTC (SQLite stores UTC text; PostgreSQL timestamptz)."""
    if bulk.is_sqlite(conn):
        return func.substr(type_coerce(column, String), 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def organizations(conn: Connection) -> dict[int, tuple[str, str, str]]:
    """org id → (slug, name, stix_id): a small table, read once per export."""
    return {row.id: (row.slug, row.name, row.stix_id)
            for row in conn.execute(select(ORG.id, ORG.slug, ORG.name, ORG.stix_id))}


def indicator_rows(conn: Connection, viewer: Viewer, sel: Selection, indicator_ids) -> Iterator:
    """The matching rows of these indicators (an operation's members), by indicator."""
    return rows(conn, viewer, sel, where=IND.id.in_(sorted(set(indicator_ids))))
