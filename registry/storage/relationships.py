"""Relationships between indicators (docs/design.md, "Operations and relationships")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, func, or_, select, update
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


_SELECT = select(_r.id, _r.uid, _r.source_id, _src.c.value, _src.c.kind, _r.target_id, _dst.c.value, _dst.c.kind,
                 _r.type, _org.slug, _r.actor, _r.tlp, _r.confidence, _r.description, _r.first_seen, _r.last_seen,
                 _r.modified, _r.stix_id, _r.seq).select_from(
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
