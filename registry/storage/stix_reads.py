"""Reads behind the STIX export and import: keyset pages of assertions and sightings in
change-sequence order with the visibility rule in SQL, and the few id look-ups the import needs.

Times come back as stored (text on SQLite, skipping SQLAlchemy's per-row parsing, which at a
million rows costs more than the query; aware datetimes on PostgreSQL): ``stix.times.stamp``
formats either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, String, select, text, type_coerce

from registry.domain.rows import StixAssertion, StixSighting
from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.indicators import chunks
from registry.storage.standing import in_force
from registry.storage.visibility import visible

A, S, IND, ORG = t.assertion.c, t.sighting.c, t.indicator.c, t.organization.c


def label_pattern(label: str) -> str:
    """``LIKE`` pattern for assertions carrying ``label`` (a label, never a pattern of its own)."""
    escaped = label.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%,{escaped},%"


def _raw_time(conn: Connection, column, name: str):
    return type_coerce(column, String).label(name) if bulk.is_sqlite(conn) else column.label(name)


def organizations(conn: Connection) -> list:
    """Every org (id, slug, name, stix_id, created): a small table, read once per export."""
    return list(conn.execute(select(ORG.id, ORG.slug, ORG.name, ORG.stix_id, ORG.created).order_by(ORG.id)))


def org_slugs_by_stix_id(conn: Connection, stix_ids: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(select(ORG.stix_id, ORG.slug).where(ORG.stix_id.in_(list(stix_ids)))) if stix_ids else []
    return {row.stix_id: row.slug for row in rows}




def _assertion_select(conn: Connection, viewer: Viewer):
    columns = (
        A.id, A.seq, A.indicator_id, A.org_id, A.feed, A.confidence, A.tlp, A.labels, A.description,
        _raw_time(conn, A.valid_until, "valid_until"), _raw_time(conn, A.first_seen, "first_seen"),
        _raw_time(conn, A.modified, "modified"), A.stix_id, A.external_ref,
        IND.kind, IND.value, IND.allowlisted, _raw_time(conn, A.review_at, "review_at"), A.end_reason,
        A.reliability, A.credibility,
    )
    assert tuple(c.key for c in columns) == StixAssertion._fields
    joined = t.assertion.join(t.indicator, IND.id == A.indicator_id).join(t.organization, ORG.id == A.org_id)
    return select(*columns).select_from(joined).where(visible(viewer, A.tlp, ORG.slug))


def _filtered(query, *, table, kind, source, since_time, label=None, current_at=None, include_allowlisted=True):
    """``current_at``: leave out assertions not in force then (``storage.standing``: the export's
    default; TAXII serves them, ended with their valid_until, delisted revoked);
    ``include_allowlisted`` False: leave out allowlisted values."""
    if current_at is not None and table is A:
        query = query.where(in_force(current_at))
    if not include_allowlisted:
        query = query.where(IND.allowlisted.is_(None))
    if kind:
        query = query.where(IND.kind == kind)
    if source:
        query = query.where(ORG.slug == source)
    if since_time is not None:
        query = query.where(table.modified >= since_time)
    if label:
        query = query.where(A.labels.like(label_pattern(label), escape="\\"))
    return query


def assertion_page(conn: Connection, viewer: Viewer, *, after_seq: int, limit: int, kind: str | None = None,
                   label: str | None = None, source: str | None = None, since_time: datetime | None = None,
                   current_at: datetime | None = None, include_allowlisted: bool = True) -> list:
    """Visible assertions with ``seq > after_seq``, in seq order (keyset paging on the seq index)."""
    query = _filtered(_assertion_select(conn, viewer).where(A.seq > after_seq), table=A, kind=kind, source=source,
                      since_time=since_time, label=label, current_at=current_at,
                      include_allowlisted=include_allowlisted)
    return bulk.fetch_as(conn, query.order_by(A.seq).limit(limit), StixAssertion)


def assertions_by_stix_id(conn: Connection, viewer: Viewer, stix_id: str) -> list:
    return bulk.fetch_as(conn, _assertion_select(conn, viewer).where(A.stix_id == stix_id).order_by(A.seq), StixAssertion)


def assertions_by_ids(conn: Connection, viewer: Viewer, ids: Sequence[int]) -> list:
    return bulk.fetch_as(conn, _assertion_select(conn, viewer).where(A.id.in_(list(ids))).order_by(A.seq), StixAssertion)


def derived_id_page(conn: Connection, viewer: Viewer, *, after_id: int, limit: int) -> list:
    """(id, value, org_id, feed) of visible assertions without an id of their own, by id: what
    finding an Indicator by its derived id has to hash (see services.stix_export.objects_by_id)."""
    joined = t.assertion.join(t.indicator, IND.id == A.indicator_id).join(t.organization, ORG.id == A.org_id)
    query = (
        select(A.id, IND.value, A.org_id, A.feed).select_from(joined)
        .where(A.id > after_id, A.stix_id.is_(None), visible(viewer, A.tlp, ORG.slug))
        .order_by(A.id).limit(limit)
    )
    return list(conn.execute(query))


def _sighting_select(conn: Connection, viewer: Viewer):
    columns = (
        S.id, S.seq, S.indicator_id, S.org_id, S.case_ref, S.count, S.tlp, S.description,
        _raw_time(conn, S.first_seen, "first_seen"), _raw_time(conn, S.last_seen, "last_seen"),
        _raw_time(conn, S.created, "created"), _raw_time(conn, S.modified, "modified"), S.stix_id,
        IND.kind, IND.value,
    )
    assert tuple(c.key for c in columns) == StixSighting._fields
    joined = t.sighting.join(t.indicator, IND.id == S.indicator_id).join(t.organization, ORG.id == S.org_id)
    return select(*columns).select_from(joined).where(visible(viewer, S.tlp, ORG.slug))


def sighting_page(conn: Connection, viewer: Viewer, *, after_seq: int, limit: int, kind: str | None = None,
                  source: str | None = None, since_time: datetime | None = None, include_allowlisted: bool = True) -> list:
    """Visible sightings with ``seq > after_seq``, in seq order."""
    query = _filtered(_sighting_select(conn, viewer).where(S.seq > after_seq), table=S, kind=kind, source=source,
                      since_time=since_time, include_allowlisted=include_allowlisted)
    return bulk.fetch_as(conn, query.order_by(S.seq).limit(limit), StixSighting)


def sightings_by_stix_id(conn: Connection, viewer: Viewer, stix_id: str) -> list:
    return bulk.fetch_as(conn, _sighting_select(conn, viewer).where(S.stix_id == stix_id), StixSighting)


def visible_assertions_of(conn: Connection, viewer: Viewer, indicator_ids: Sequence[int], *,
                          label: str | None = None, current_at: datetime | None = None) -> list:
    """(indicator_id, id, org_id, feed, stix_id, value) of the visible assertions of these
    indicators, by indicator then id: what a Sighting's ``sighting_of_ref`` may point at."""
    joined = t.assertion.join(t.indicator, IND.id == A.indicator_id).join(t.organization, ORG.id == A.org_id)
    out = []
    for part in chunks(list(indicator_ids)):
        query = (
            select(A.indicator_id, A.id, A.org_id, A.feed, A.stix_id, IND.value).select_from(joined)
            .where(text(bulk.in_values(conn, "assertion.indicator_id")).bindparams(vals=bulk.values_param(conn, part)),
                   visible(viewer, A.tlp, ORG.slug))
        )
        if label:
            query = query.where(A.labels.like(label_pattern(label), escape="\\"))
        if current_at is not None:
            query = query.where(in_force(current_at))
        out.extend(conn.execute(query))
    out.sort(key=lambda r: (r.indicator_id, r.id))
    return out


def id_key(conn: Connection) -> str:
    """The secret this database derives Indicator ids with (stix.ids.IndicatorIds)."""
    return conn.execute(select(t.stix_id_key.c.key).where(t.stix_id_key.c.id == 1)).scalar_one()


def assertions_by_stix_ids(conn: Connection, stix_ids: Sequence[str]) -> dict[str, object]:
    """The assertion holding each of these ids (at most one each: the index is unique), as
    (stix_id, org_id, feed, lane, indicator_id, kind, value, tlp, source): who holds an incoming
    id, and what a Sighting's ``sighting_of_ref`` names. Not filtered by visibility: the caller
    applies it where it must."""
    rows = bulk.select_in(
        conn, "SELECT a.stix_id, a.org_id, a.feed, a.lane, i.id AS indicator_id, i.kind, i.value, a.tlp, "
              "o.slug AS source "
              "FROM assertion a JOIN indicator i ON i.id = a.indicator_id JOIN organization o ON o.id = a.org_id",
        "a.stix_id", stix_ids)
    return {row.stix_id: row for row in rows}


def sighting_holders(conn: Connection, stix_ids: Sequence[str]) -> dict[str, object]:
    """Which of these Sighting ids are stored already: the sighting holding each, as (stix_id,
    org_id, tlp, source). Not filtered by visibility: the caller applies it."""
    rows = bulk.select_in(conn, "SELECT s.stix_id, s.org_id, s.tlp, o.slug AS source FROM sighting s "
                                "JOIN organization o ON o.id = s.org_id", "s.stix_id", stix_ids)
    return {row.stix_id: row for row in rows}


def own_ids_of(conn: Connection, keys: Sequence[tuple[int, str, str]]) -> dict[tuple[int, str, str], str | None]:
    """For (org_id, feed, canonical value) keys, the ordinary (lane 0) assertion's own id (None
    when it has none, or there is no such assertion)."""
    rows = bulk.select_in(conn, "SELECT a.org_id, a.feed, a.lane, i.value, a.stix_id FROM assertion a "
                                "JOIN indicator i ON i.id = a.indicator_id", "i.value", sorted({k[2] for k in keys}))
    found = {(r.org_id, r.feed, r.value): r.stix_id for r in rows if r.lane == 0}
    return {key: found.get(key) for key in keys}


def assertions_of_indicator(conn: Connection, viewer: Viewer, indicator_id: int) -> list:
    """The visible assertions of one indicator (its page's STIX), by seq."""
    return bulk.fetch_as(conn, _assertion_select(conn, viewer).where(A.indicator_id == indicator_id).order_by(A.seq),
                         StixAssertion)


def sightings_of_indicator(conn: Connection, viewer: Viewer, indicator_id: int) -> list:
    """The visible sightings of one indicator, by seq."""
    return bulk.fetch_as(conn, _sighting_select(conn, viewer).where(S.indicator_id == indicator_id).order_by(S.seq),
                         StixSighting)


def assertions_of_indicators(conn: Connection, viewer: Viewer, indicator_ids: Sequence[int]) -> list:
    """The visible assertions of these indicators (an operation's members), by indicator, then seq."""
    out = []
    for part in chunks(sorted(set(indicator_ids))):
        query = _assertion_select(conn, viewer).where(A.indicator_id.in_(part))
        out.extend(bulk.fetch_as(conn, query, StixAssertion))
    out.sort(key=lambda r: (r.indicator_id, r.seq))
    return out
