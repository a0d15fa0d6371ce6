"""Watches: what each org watches (docs/design.md, "Events and watches")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, func, select

from registry.storage import bulk
from registry.storage import tables as t

_w = t.watch.c


class WatchRow(NamedTuple):
    id: int
    uid: str
    org_id: int
    org: str  # the org's slug
    key: str | None
    kind: str | None
    prefix_len: int | None
    range_start: bytes | None
    label: str | None
    kinds: str
    labels: str
    sources: str
    actor: str | None
    created: datetime


_SELECT = select(_w.id, _w.uid, _w.org_id, t.organization.c.slug, _w.key, _w.kind, _w.prefix_len, _w.range_start,
                 _w.label, _w.kinds, _w.labels, _w.sources, _w.actor, _w.created).select_from(
    t.watch.join(t.organization, t.organization.c.id == _w.org_id))


def version(conn: Connection) -> tuple[int, int]:
    """(count, highest id): watches are added and deleted, so both say whether they changed."""
    count, top = conn.execute(select(func.count(), func.max(_w.id)).select_from(t.watch)).one()
    return count, top or 0


def every(conn: Connection) -> list[WatchRow]:
    return [WatchRow._make(row) for row in conn.execute(_SELECT.order_by(_w.id))]


def of_org(conn: Connection, org_id: int) -> list[WatchRow]:
    return [WatchRow._make(row) for row in conn.execute(_SELECT.where(_w.org_id == org_id).order_by(_w.id))]


def by_keys(conn: Connection, keys: Sequence[str]) -> list[WatchRow]:
    """The watches of any of these canonical values."""
    if not keys:
        return []
    query = _SELECT.where(_w.key.in_(sorted(set(keys)))) if len(keys) < 500 else None
    if query is not None:
        return [WatchRow._make(row) for row in conn.execute(query)]
    out: list[WatchRow] = []
    for part in bulk.chunks(sorted(set(keys)), 500):
        out.extend(WatchRow._make(row) for row in conn.execute(_SELECT.where(_w.key.in_(part))))
    return out


def insert(conn: Connection, **row) -> int:
    return conn.execute(t.watch.insert().values(**row)).inserted_primary_key[0]


def remove(conn: Connection, watch_id: int) -> None:
    conn.execute(delete(t.watch).where(_w.id == watch_id))


def by_uid(conn: Connection, uid: str) -> WatchRow | None:
    row = conn.execute(_SELECT.where(_w.uid == uid)).first()
    return WatchRow._make(row) if row is not None else None


def count_of(conn: Connection, org_id: int) -> int:
    return conn.execute(select(func.count()).select_from(t.watch).where(_w.org_id == org_id)).scalar_one()


def lock_org(conn: Connection, org_id: int) -> None:
    """Hold the org's row until commit, so its watches are counted and compared one adder at a
    time (PostgreSQL; a SQLite write transaction holds the whole database already)."""
    conn.execute(select(t.organization.c.id).where(t.organization.c.id == org_id).with_for_update())


def same(conn: Connection, org_id: int, *, key: str | None, label: str | None, kinds: str, labels: str,
         sources: str) -> WatchRow | None:
    """The org's watch of exactly this value or label and narrowing, if it has one."""
    query = _SELECT.where(_w.org_id == org_id, _w.key.is_(None) if key is None else _w.key == key,
                          _w.label.is_(None) if label is None else _w.label == label,
                          _w.kinds == kinds, _w.labels == labels, _w.sources == sources)
    row = conn.execute(query.order_by(_w.id).limit(1)).first()
    return WatchRow._make(row) if row is not None else None
