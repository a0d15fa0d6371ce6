"""Relationships between indicators (docs/design.md, "Operations and relationships")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, func, or_, select, text, update
from sqlalchemy.orm import aliased

from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.visibility import visible

_r = t.relationship.c
_org = t.organization.c
_src = aliased(t.indicator)
_dst = aliased(t.indicator)


class RelationshipRow(NamedTuple):
    id: int
    uid: str
    source_id: int
    source: str
    source_kind: str
    target_id: int
    target: str
    target_kind: str
    type: str
    org: str
    actor: str | None
    tlp: str
    confidence: int
    description: str | None
    first_seen: datetime
    last_seen: datetime
    modified: datetime
    stix_id: str | None
    seq: int
    created: datetime


_SELECT = select(_r.id, _r.uid, _r.source_id, _src.c.value, _src.c.kind, _r.target_id, _dst.c.value, _dst.c.kind,
                 _r.type, _org.slug, _r.actor, _r.tlp, _r.confidence, _r.description, _r.first_seen, _r.last_seen,
                 _r.modified, _r.stix_id, _r.seq, _r.created).select_from(
    t.relationship.join(_src, _src.c.id == _r.source_id).join(_dst, _dst.c.id == _r.target_id)
    .join(t.organization, _org.id == _r.org_id))


def find(conn: Connection, source_id: int, target_id: int, type_: str, org_id: int):
    return conn.execute(select(t.relationship).where(
        _r.source_id == source_id, _r.target_id == target_id, _r.type == type_, _r.org_id == org_id)).first()


def insert(conn: Connection, **row) -> int:
    return conn.execute(t.relationship.insert().values(**row)).inserted_primary_key[0]


def change(conn: Connection, relationship_id: int, **values) -> None:
    conn.execute(update(t.relationship).where(_r.id == relationship_id).values(**values))


def remove(conn: Connection, relationship_id: int) -> None:
    conn.execute(delete(t.relationship).where(_r.id == relationship_id))


def by_uid(conn: Connection, uid: str) -> RelationshipRow | None:
    row = conn.execute(_SELECT.where(_r.uid == uid)).first()
    return RelationshipRow._make(row) if row is not None else None


def touching(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer, *, limit: int | None = None) -> list[RelationshipRow]:
    """The visible relationships with one of these indicators at either end."""
    if not indicator_ids:
        return []
    ids = sorted(set(indicator_ids))
    query = _SELECT.where(and_(or_(_r.source_id.in_(ids), _r.target_id.in_(ids)), visible(viewer, _r.tlp, _org.slug)))
    query = query.order_by(_r.id)
    if limit is not None:
        query = query.limit(limit)
    return [RelationshipRow._make(row) for row in conn.execute(query)]


def counts(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer) -> dict[int, int]:
    """Indicator id → how many visible relationships it has (either end): a lookup batch's read,
    one chunked driver statement holding both ends (``bulk.tuples_in_each``), the one TLP rule
    applied to each row (``Viewer.can_see``, as the lookup's own rows; counting here costs less
    than SQL's GROUP BY)."""
    rows = bulk.tuples_in_each(conn, [(f"SELECT r.{end}, r.tlp, g.slug FROM relationship r "
                                       "JOIN organization g ON g.id = r.org_id", f"r.{end}")
                                      for end in ("source_id", "target_id")], indicator_ids)
    see = viewer.can_see
    out: dict[int, int] = {}
    for indicator_id, tlp, org in rows:
        if see(tlp, org):
            out[indicator_id] = out.get(indicator_id, 0) + 1
    return out


def version(conn: Connection) -> tuple[int, int]:
    count, top = conn.execute(select(func.count(), func.max(_r.id)).select_from(t.relationship)).one()
    return count, top or 0


def linked_to(conn: Connection, indicator_id: int, others: Sequence[int], viewer: Viewer) -> set[int]:
    """Those of ``others`` linked to ``indicator_id`` by a relationship the viewer sees (either way,
    any type): what the suggested links leave out."""
    if not others:
        return set()
    ids = sorted(set(others))
    joined = t.relationship.join(t.organization, _org.id == _r.org_id)
    shown = visible(viewer, _r.tlp, _org.slug)
    out: set[int] = set()
    for part in bulk.chunks(ids):
        for end, other in ((_r.source_id, _r.target_id), (_r.target_id, _r.source_id)):
            query = select(other).select_from(joined).where(end == indicator_id, other.in_(list(part)), shown)
            out.update(conn.execute(query).scalars())
    return out
# -- exchange: STIX and TAXII (docs/stix-taxii.md, "Operations") --------------------------------

def page(conn: Connection, viewer: Viewer, *, after_seq: int, limit: int, kind: str | None = None,
         since_time: datetime | None = None) -> list[RelationshipRow]:
    """The visible relationships changed after ``after_seq`` (and at or after ``since_time``), in
    seq order; ``kind``: one end of that kind (a TAXII collection of one kind)."""
    query = _SELECT.where(visible(viewer, _r.tlp, _org.slug), _r.seq > after_seq)
    if kind is not None:
        query = query.where(or_(_src.c.kind == kind, _dst.c.kind == kind))
    if since_time is not None:
        query = query.where(_r.modified >= since_time)
    return [RelationshipRow._make(row) for row in conn.execute(query.order_by(_r.seq).limit(limit))]


def by_stix_ids(conn: Connection, stix_ids: Sequence[str]) -> list[RelationshipRow]:
    if not stix_ids:
        return []
    return [RelationshipRow._make(row) for row in conn.execute(_SELECT.where(_r.stix_id.in_(list(stix_ids))))]


def by_uids(conn: Connection, uids: Sequence[str]) -> list[RelationshipRow]:
    return [RelationshipRow._make(row) for row in conn.execute(_SELECT.where(_r.uid.in_(list(uids))))] if uids else []


def between(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer) -> list[RelationshipRow]:
    """The visible relationships with both ends among these indicators (an operation's members, the
    pivot graph's outermost ring), read by source in chunks, so any number of members fits a query.
    The target is checked on the rows the source's index finds: asked in SQL too, SQLite probes the
    index for every (source, target) pair, 40,000 for 200 nodes (docs/performance.md, "Graph")."""
    ids = sorted(set(indicator_ids))
    wanted = set(ids)
    out = []
    query = _SELECT.where(text(bulk.in_values(conn, "relationship.source_id")), visible(viewer, _r.tlp, _org.slug))
    for part in bulk.chunks(ids):
        rows = conn.execute(query, {"vals": bulk.values_param(conn, part)})
        out.extend(row for row in map(RelationshipRow._make, rows) if row.target_id in wanted)
    return sorted(out, key=lambda row: row.id)


class Edge(NamedTuple):
    """A relationship as the graph walks it: its ends by indicator id, no values read."""

    id: int
    uid: str
    source_id: int
    target_id: int
    type: str
    org: str
    tlp: str
    confidence: int


_EDGE = select(_r.id, _r.uid, _r.source_id, _r.target_id, _r.type, _org.slug, _r.tlp, _r.confidence).select_from(
    t.relationship.join(t.organization, _org.id == _r.org_id))


def edges_touching(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer, *,
                   limit: int) -> tuple[list[Edge], bool]:
    """The visible relationships with one of these indicators at either end, in one query (the
    graph's step over its frontier: docs/design.md, "The pivot graph"), strongest statement first
    (confidence, then the oldest), at most ``limit``: (edges, whether that was all of them)."""
    if not indicator_ids:
        return [], True
    ends = or_(text(bulk.in_values(conn, "relationship.source_id")), text(bulk.in_values(conn, "relationship.target_id")))
    query = _EDGE.where(ends, visible(viewer, _r.tlp, _org.slug)).order_by(_r.confidence.desc(), _r.id).limit(limit + 1)
    # The ids go as one parameter (a JSON array on SQLite, an array on PostgreSQL), not one each:
    # psycopg parses a statement of 400 placeholders for longer than PostgreSQL runs it.
    rows = [Edge._make(row) for row in conn.execute(query, {"vals": bulk.values_param(conn, sorted(set(indicator_ids)))})]
    return rows[:limit], len(rows) <= limit
