"""Sighting rows: one per (indicator, org, case reference, lane); a repeat adds to its count.

A new row gets its STIX id here (a random UUIDv4, as STIX 2.1 recommends for SDOs: sightings are written
one by one, so storing it costs nothing, and unlike an id derived from the case reference it
reveals nothing about the case), or keeps the id of the STIX Sighting it was imported from.

A writer who may not see the org's sighting of that case writes a row of its own in another lane
(``domain.lanes``), so its count, times and level never reach the hidden row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, select

from registry.domain import lanes
from registry.domain.tlp import RANK, Viewer
from registry.storage import tables as t
from registry.storage.db import next_seq
from registry.storage.visibility import visible


class Sighted(NamedTuple):
    status: str  # new or updated, as the writer may be told
    row: dict  # the row as the writer may be told it is
    lowered: str | None  # the level an update lowered, else None


def upsert(conn: Connection, *, indicator_id: int, org_id: int, case_ref: str, count: int, tlp: str,
           description: str | None, seen: datetime, now: datetime, stix_id: str | None = None,
           last_seen: datetime | None = None, viewer: Viewer | None = None, org: str = "") -> Sighted:
    """Add a sighting or add to an existing one. ``viewer`` is who writes (None: the operator)
    and ``org`` the slug of ``org_id``. A row hidden from the writer is never updated; when the
    writer's own blind row takes the repeat, the answer is still that of a new row."""
    s = t.sighting.c
    query = select(t.sighting).where(s.indicator_id == indicator_id, s.org_id == org_id, s.case_ref == case_ref)
    if lanes.sees_every_level(viewer, org):
        query = query.where(s.lane == lanes.ORDINARY)
    choice = lanes.choose(conn.execute(query).all(), viewer, org, tlp)
    seq = next_seq(conn)
    fresh = {
        "indicator_id": indicator_id, "org_id": org_id, "case_ref": case_ref, "lane": choice.lane, "count": count,
        "tlp": tlp, "description": description, "first_seen": seen, "last_seen": max(seen, last_seen or seen),
        "created": now, "modified": now, "seq": seq, "stix_id": stix_id or f"sighting--{uuid.uuid4()}",
    }
    row = choice.row
    if row is None:
        conn.execute(t.sighting.insert().values(**fresh))
        return Sighted("new", fresh, None)
    values = {
        "count": row.count + count, "tlp": tlp, "description": description or row.description,
        "first_seen": min(row.first_seen, seen), "last_seen": max(row.last_seen, seen, last_seen or seen),
        "modified": now, "seq": seq,
    }
    if row.stix_id is None:
        values["stix_id"] = stix_id or f"sighting--{uuid.uuid4()}"
    conn.execute(t.sighting.update().where(s.id == row.id).values(**values))
    if choice.as_new:  # the writer's own blind row: told as new, under the id the row has
        return Sighted("new", {**fresh, "stix_id": values.get("stix_id", row.stix_id)}, None)
    return Sighted("updated", {**row._mapping, **values}, row.tlp if RANK[tlp] < RANK[row.tlp] else None)


class InCase(NamedTuple):
    """Another value one org sighted under a case reference a value was sighted under."""

    indicator_id: int
    value: str
    kind: str
    org: str
    case_ref: str
    last_seen: datetime


def same_case(conn: Connection, indicator_id: int, viewer: Viewer, *, cases: int, per_case: int) -> list[InCase]:
    """The other values sighted under the ``cases`` newest case references (of the same org) of
    the viewer's visible sightings of ``indicator_id``, at most ``per_case`` each, newest first;
    only sightings the viewer may see (index ``ix_sighting_case``). Sightings without a case
    reference (``''``) are no case."""
    s, org = t.sighting.c, t.organization.c
    joined = t.sighting.join(t.organization, org.id == s.org_id)
    own = (select(s.org_id, s.case_ref, func.max(s.last_seen).label("last")).select_from(joined)
           .where(s.indicator_id == indicator_id, s.case_ref != "", visible(viewer, s.tlp, org.slug))
           .group_by(s.org_id, s.case_ref).order_by(func.max(s.last_seen).desc()).limit(cases))
    out: list[InCase] = []
    ind = t.indicator.c
    for org_id, case_ref, _ in conn.execute(own).all():
        query = (select(s.indicator_id, ind.value, ind.kind, org.slug, s.case_ref, func.max(s.last_seen))
                 .select_from(joined.join(t.indicator, ind.id == s.indicator_id))
                 .where(s.org_id == org_id, s.case_ref == case_ref, s.indicator_id != indicator_id,
                        visible(viewer, s.tlp, org.slug))
                 .group_by(s.indicator_id, ind.value, ind.kind, org.slug, s.case_ref)
                 .order_by(func.max(s.last_seen).desc(), ind.value).limit(per_case))
        out.extend(InCase._make(row) for row in conn.execute(query))
    return out
def count_of(conn: Connection, value: str, org_id: int, case_ref: str) -> int:
    """The count of ``org_id``'s ordinary (lane 0) sighting of the indicator ``value`` in
    ``case_ref``; 0 when there is none."""
    s, i = t.sighting.c, t.indicator.c
    found = conn.execute(select(s.count).select_from(t.sighting.join(t.indicator, i.id == s.indicator_id)).where(
        i.value == value, s.org_id == org_id, s.case_ref == case_ref, s.lane == lanes.ORDINARY)).scalar()
    return found or 0
