"""Operations, their members and notes (docs/design.md, "Operations and relationships")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.visibility import visible

_o = t.operation.c
_m = t.operation_member.c
_n = t.operation_note.c
_org = t.organization.c


class OperationRow(NamedTuple):
    id: int
    uid: str
    org_id: int
    org: str  # the owner's slug
    actor: str | None
    name: str
    description: str | None
    tlp: str
    labels: str
    status: str
    created: datetime
    modified: datetime
    first_activity: datetime | None
    last_activity: datetime | None
    closed: datetime | None
    stix_id: str | None
    stix_type: str | None
    seq: int


class MemberRow(NamedTuple):
    indicator_id: int
    value: str
    kind: str
    org: str  # the org that added it
    actor: str | None
    added: datetime


_SELECT = select(_o.id, _o.uid, _o.org_id, _org.slug, _o.actor, _o.name, _o.description, _o.tlp, _o.labels, _o.status,
                 _o.created, _o.modified, _o.first_activity, _o.last_activity, _o.closed, _o.stix_id, _o.stix_type,
                 _o.seq).select_from(t.operation.join(t.organization, _org.id == _o.org_id))


def insert(conn: Connection, **row) -> int:
    return conn.execute(t.operation.insert().values(**row)).inserted_primary_key[0]


def change(conn: Connection, operation_id: int, **values) -> None:
    conn.execute(update(t.operation).where(_o.id == operation_id).values(**values))


def by_uid(conn: Connection, uid: str) -> OperationRow | None:
    row = conn.execute(_SELECT.where(_o.uid == uid)).first()
    return OperationRow._make(row) if row is not None else None


def by_stix_id(conn: Connection, stix_id: str) -> OperationRow | None:
    row = conn.execute(_SELECT.where(_o.stix_id == stix_id)).first()
    return OperationRow._make(row) if row is not None else None


def listing(conn: Connection, viewer: Viewer, *, text: str | None = None, status: str | None = None,
            label: str | None = None, org: str | None = None, value_ids: Sequence[int] | None = None,
            limit: int = 100, before_id: int | None = None) -> list[OperationRow]:
    """The operations ``viewer`` may see, newest first, narrowed by the filters (``text`` in the
    name or description, ``value_ids``: holding one of these indicators)."""
    query = _SELECT.where(visible(viewer, _o.tlp, _org.slug))
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(or_(func.lower(_o.name).like(pattern), func.lower(func.coalesce(_o.description, "")).like(pattern)))
    if status:
        query = query.where(_o.status == status)
    if label:
        query = query.where(_o.labels.like(f"%,{label},%"))
    if org:
        query = query.where(_org.slug == org)
    if value_ids is not None:
        query = query.where(_o.id.in_(select(_m.operation_id).where(_m.indicator_id.in_(list(value_ids)))))
    if before_id is not None:
        query = query.where(_o.id < before_id)
    return [OperationRow._make(row) for row in conn.execute(query.order_by(_o.id.desc()).limit(limit))]


def members(conn: Connection, operation_id: int, *, limit: int | None = None) -> list[MemberRow]:
    """The members, oldest first (the first ``limit``)."""
    query = (select(_m.indicator_id, t.indicator.c.value, t.indicator.c.kind, _org.slug, _m.actor, _m.added)
             .select_from(t.operation_member.join(t.indicator, t.indicator.c.id == _m.indicator_id)
                          .join(t.organization, _org.id == _m.org_id))
             .where(_m.operation_id == operation_id).order_by(_m.added, t.indicator.c.value))
    if limit is not None:
        query = query.limit(limit)
    return [MemberRow._make(row) for row in conn.execute(query)]


def member_count(conn: Connection, operation_id: int) -> int:
    return conn.execute(select(func.count()).select_from(t.operation_member)
                        .where(_m.operation_id == operation_id)).scalar_one()


def add_members(conn: Connection, operation_id: int, indicator_ids: Sequence[int], org_id: int, actor: str | None,
                now: datetime) -> list[int]:
    """Add the indicators not yet members; returns those added."""
    present = set(conn.execute(select(_m.indicator_id).where(
        _m.operation_id == operation_id, _m.indicator_id.in_(list(indicator_ids)))).scalars())
    added = [i for i in dict.fromkeys(indicator_ids) if i not in present]
    if added:
        stamp = bulk.time_writer(conn)
        bulk.insert_many(conn, "operation_member", ("operation_id", "indicator_id", "org_id", "actor", "added"),
                         [(operation_id, i, org_id, actor, stamp(now)) for i in added])
    return added


def remove_member(conn: Connection, operation_id: int, indicator_id: int) -> bool:
    return conn.execute(delete(t.operation_member).where(
        _m.operation_id == operation_id, _m.indicator_id == indicator_id)).rowcount > 0


def notes(conn: Connection, operation_id: int) -> list:
    return list(conn.execute(select(_n.id, _org.slug.label("org"), _n.actor, _n.text, _n.created)
                             .select_from(t.operation_note.join(t.organization, _org.id == _n.org_id))
                             .where(_n.operation_id == operation_id).order_by(_n.id)))


def add_note(conn: Connection, operation_id: int, org_id: int, actor: str | None, text: str, now: datetime) -> None:
    conn.execute(t.operation_note.insert().values(operation_id=operation_id, org_id=org_id, actor=actor, text=text,
                                                  created=now))


def of_indicators(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer) -> list[tuple]:
    """(indicator_id, uid, name, org, tlp, operation_id) of the visible operations holding these
    indicators, by operation id: a lookup batch's read (one chunked driver statement, ``bulk``),
    the one TLP rule applied to each row (``Viewer.can_see``, as the lookup's own rows)."""
    rows = bulk.tuples_in(conn, "SELECT m.indicator_id, o.uid, o.name, g.slug, o.tlp, o.id FROM operation_member m "
                                "JOIN operation o ON o.id = m.operation_id JOIN organization g ON g.id = o.org_id",
                          "m.indicator_id", indicator_ids)
    see = viewer.can_see
    out = [row for row in rows if see(row[4], row[3])]
    out.sort(key=lambda row: row[5])
    return out


def version(conn: Connection) -> tuple[int, int]:
    """(member rows, highest operation id): lookups read memberships only when there are any."""
    count = conn.execute(select(func.count()).select_from(t.operation_member)).scalar_one()
    top = conn.execute(select(func.max(_o.id))).scalar()
    return count, top or 0


# -- exchange: STIX, TAXII and the MISP feed (docs/stix-taxii.md, "Operations") ----------------

def page(conn: Connection, viewer: Viewer, *, after_seq: int, limit: int, since_time: datetime | None = None,
         org: str | None = None) -> list[OperationRow]:
    """The visible operations changed after ``after_seq`` (and at or after ``since_time``), in seq
    order: TAXII pages and the MISP feed's events (``org``: one owner's)."""
    query = _SELECT.where(visible(viewer, _o.tlp, _org.slug), _o.seq > after_seq)
    if since_time is not None:
        query = query.where(_o.modified >= since_time)
    if org:
        query = query.where(_org.slug == org)
    return [OperationRow._make(row) for row in conn.execute(query.order_by(_o.seq).limit(limit))]


def by_uids(conn: Connection, uids: Sequence[str]) -> list[OperationRow]:
    return [OperationRow._make(row) for row in conn.execute(_SELECT.where(_o.uid.in_(list(uids))))] if uids else []


def by_stix_ids(conn: Connection, stix_ids: Sequence[str]) -> list[OperationRow]:
    if not stix_ids:
        return []
    return [OperationRow._make(row) for row in conn.execute(_SELECT.where(_o.stix_id.in_(list(stix_ids))))]


def members_of(conn: Connection, operation_ids: Sequence[int]) -> dict[int, list[MemberRow]]:
    """Operation id → its members (as ``members``), for several operations in one read."""
    out: dict[int, list[MemberRow]] = {i: [] for i in operation_ids}
    if not operation_ids:
        return out
    query = (select(_m.operation_id, _m.indicator_id, t.indicator.c.value, t.indicator.c.kind, _org.slug, _m.actor,
                    _m.added)
             .select_from(t.operation_member.join(t.indicator, t.indicator.c.id == _m.indicator_id)
                          .join(t.organization, _org.id == _m.org_id))
             .where(_m.operation_id.in_(list(operation_ids))).order_by(_m.operation_id, _m.added, t.indicator.c.value))
    for row in conn.execute(query):
        out[row[0]].append(MemberRow._make(row[1:]))
    return out


def newest_changes(conn: Connection, viewer: Viewer, operation_ids: Sequence[int]) -> dict[int, list[datetime]]:
    """Operation id → the newest change among its members' visible assertions and the visible
    relationships between two of its members (what its MISP event shows beside the operation)."""
    out: dict[int, list[datetime]] = {}
    a, r = t.assertion.c, t.relationship.c
    m2 = t.operation_member.alias("m2")
    for part in bulk.chunks(list(operation_ids)):
        reports = (select(_m.operation_id, func.max(a.modified))
                   .select_from(t.operation_member.join(t.assertion, a.indicator_id == _m.indicator_id)
                                .join(t.organization, _org.id == a.org_id))
                   .where(_m.operation_id.in_(part), visible(viewer, a.tlp, _org.slug)).group_by(_m.operation_id))
        links = (select(_m.operation_id, func.max(r.modified))
                 .select_from(t.relationship.join(t.operation_member, _m.indicator_id == r.source_id)
                              .join(m2, and_(m2.c.indicator_id == r.target_id, m2.c.operation_id == _m.operation_id))
                              .join(t.organization, _org.id == r.org_id))
                 .where(_m.operation_id.in_(part), visible(viewer, r.tlp, _org.slug)).group_by(_m.operation_id))
        for query in (reports, links):
            for operation_id, newest in conn.execute(query):
                out.setdefault(operation_id, []).append(newest)
    return out


def exchange_state(conn: Connection, viewer: Viewer) -> tuple:
    """(rows, highest seq) of the operations and of the relationships the viewer may see: with
    ``visibility.visible_state``, what the MISP feed's ETag follows."""
    out: tuple = ()
    for table in (t.operation, t.relationship):
        joined = table.join(t.organization, _org.id == table.c.org_id)
        query = select(func.count(), func.max(table.c.seq)).select_from(joined)
        out += tuple(conn.execute(query.where(visible(viewer, table.c.tlp, _org.slug))).one())
    return out
