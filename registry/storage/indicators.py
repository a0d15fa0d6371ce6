"""Bulk reads and writes of indicators and assertions through SQLAlchemy Core.

Every statement here takes many rows at once: one ``IN`` query per chunk of values, one
``executemany`` per kind of write. Nothing builds one ORM object per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from registry.domain.kinds import IPV4, IPV6, PHONE, Value
from registry.storage import tables as t
from registry.storage.db import next_seq

CHUNK = 5000  # values per IN (…) list: under SQLite's 32,766 host parameters, kind to PG's planner


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_ignore(conn: Connection, table):
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def encode_labels(labels: Iterable[str]) -> str:
    return "," + ",".join(sorted(set(labels))) + "," if labels else ","


def decode_labels(text: str | None) -> list[str]:
    return [label for label in (text or "").split(",") if label]


@dataclass(slots=True)
class Pending:
    """One canonical value about to be asserted by one source."""

    value: Value
    confidence: int
    tlp: str
    labels: tuple[str, ...]
    description: str | None = None
    valid_until: datetime | None = None
    first_seen: datetime | None = None
    stix_id: str | None = None
    external_ref: str | None = None
    raw: str | None = None
    allowlisted: str | None = None


NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


def indicator_ids(conn: Connection, values: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    col = t.indicator.c
    for part in chunks(values):
        ids.update(conn.execute(select(col.value, col.id).where(col.value.in_(part))).all())
    return ids


def upsert(conn: Connection, org_id: int, feed: str, items: list[Pending], now: datetime) -> list[str]:
    """Upsert one source's assertions; returns ``new``/``updated``/``unchanged`` per item.

    ``items`` must hold distinct canonical values (the caller merges duplicates).
    """
    values = [p.value.value for p in items]
    ids = ensure_indicators(conn, items, now)

    a = t.assertion.c
    current = {}
    for part in chunks([ids[v] for v in values]):
        rows = conn.execute(
            select(a.id, a.indicator_id, a.confidence, a.tlp, a.labels, a.description, a.valid_until).where(
                a.org_id == org_id, a.feed == feed, a.indicator_id.in_(part)
            )
        )
        current.update((row.indicator_id, row) for row in rows)

    statuses: list[str] = []
    inserts: list[dict] = []
    changes: list[dict] = []
    touches: list[int] = []
    for p in items:
        iid = ids[p.value.value]
        labels = encode_labels(p.labels)
        row = current.get(iid)
        if row is None:
            first = p.first_seen or now
            inserts.append(
                {
                    "indicator_id": iid, "org_id": org_id, "feed": feed, "confidence": p.confidence,
                    "tlp": p.tlp, "labels": labels, "description": p.description, "valid_from": first,
                    "valid_until": p.valid_until, "first_seen": first, "last_seen": now,
                    "times_reported": 1, "stix_id": p.stix_id or f"indicator--{uuid.uuid4()}",
                    "external_ref": p.external_ref, "raw": p.raw, "created": now, "modified": now,
                }
            )
            statuses.append(NEW)
            continue
        description = p.description if p.description is not None else row.description
        expired_before = row.valid_until is not None and row.valid_until <= now
        if (
            row.confidence != p.confidence or row.tlp != p.tlp or row.labels != labels
            or row.description != description or row.valid_until != p.valid_until or expired_before
        ):
            changes.append(
                {
                    "b_id": row.id, "b_confidence": p.confidence, "b_tlp": p.tlp, "b_labels": labels,
                    "b_description": description, "b_valid_until": p.valid_until,
                }
            )
            statuses.append(UPDATED)
        else:
            touches.append(row.id)
            statuses.append(UNCHANGED)

    if inserts or changes:
        seq = next_seq(conn, len(inserts) + len(changes))
        for row in inserts:
            row["seq"] = seq
            seq += 1
        for row in changes:
            row["b_seq"] = seq
            seq += 1
    if inserts:
        conn.execute(t.assertion.insert(), inserts)
    if changes:
        conn.execute(
            t.assertion.update()
            .where(a.id == bindparam("b_id"))
            .values(
                confidence=bindparam("b_confidence"), tlp=bindparam("b_tlp"), labels=bindparam("b_labels"),
                description=bindparam("b_description"), valid_until=bindparam("b_valid_until"),
                last_seen=now, modified=now, times_reported=a.times_reported + 1, seq=bindparam("b_seq"),
            ),
            changes,
        )
    for part in chunks(touches):
        conn.execute(
            t.assertion.update().where(a.id.in_(part)).values(last_seen=now, times_reported=a.times_reported + 1)
        )
    return statuses


def ensure_indicators(conn: Connection, items: Sequence[Pending], now: datetime) -> dict[str, int]:
    """Ids of the items' indicators, inserting the missing ones; existing ones are seen now."""
    ids = indicator_ids(conn, [p.value.value for p in items])
    seen_before = list(ids.values())
    missing = [p for p in items if p.value.value not in ids]
    if missing:
        _insert_indicators(conn, missing, now)
        ids.update(indicator_ids(conn, [p.value.value for p in missing]))
    col = t.indicator.c
    for part in chunks(seen_before):
        conn.execute(t.indicator.update().where(col.id.in_(part)).values(last_seen=now))
    return ids


def _insert_indicators(conn: Connection, items: Sequence[Pending], now: datetime) -> None:
    rows = []
    lengths = set()
    for p in items:
        v = p.value
        first = p.first_seen or now
        rows.append(
            {
                "kind": v.kind, "value": v.value, "display": v.display, "prefix_len": v.prefix_len,
                "range_start": v.range_start, "range_end": v.range_end, "detail": v.detail,
                "allowlisted": p.allowlisted, "first_seen": min(first, now), "last_seen": now,
            }
        )
        if v.kind in (IPV4, IPV6, PHONE) and v.is_range:
            lengths.add((v.kind, v.prefix_len))
    conn.execute(insert_ignore(conn, t.indicator), rows)
    if lengths:
        conn.execute(insert_ignore(conn, t.prefix_length), [{"kind": k, "length": n} for k, n in lengths])


# -- reads ---------------------------------------------------------------------------------

def prefix_lengths(conn: Connection) -> list[tuple[str, int]]:
    return list(conn.execute(select(t.prefix_length.c.kind, t.prefix_length.c.length)).all())


def find_by_values(conn: Connection, values: Sequence[str]) -> list:
    """Indicator rows whose canonical value is one of ``values``."""
    col = t.indicator.c
    out = []
    for part in chunks(values):
        out.extend(
            conn.execute(
                select(col.id, col.kind, col.value, col.display, col.prefix_len, col.allowlisted, col.detail).where(
                    col.value.in_(part)
                )
            )
        )
    return out


def assertions_for(conn: Connection, indicator_ids: Sequence[int]) -> list:
    a, o = t.assertion.c, t.organization.c
    out = []
    for part in chunks(indicator_ids):
        out.extend(
            conn.execute(
                select(
                    a.id, a.indicator_id, o.slug.label("source"), a.feed, a.confidence, a.tlp, a.labels,
                    a.description, a.valid_from, a.valid_until, a.first_seen, a.last_seen, a.times_reported,
                    a.stix_id, a.external_ref, a.seq,
                )
                .join_from(t.assertion, t.organization, a.org_id == o.id)
                .where(a.indicator_id.in_(part))
                .order_by(a.indicator_id, a.id)
            )
        )
    return out


def sightings_for(conn: Connection, indicator_ids: Sequence[int]) -> list:
    s, o = t.sighting.c, t.organization.c
    out = []
    for part in chunks(indicator_ids):
        out.extend(
            conn.execute(
                select(
                    s.id, s.indicator_id, o.slug.label("source"), s.case_ref, s.count, s.tlp, s.description,
                    s.first_seen, s.last_seen, s.stix_id,
                )
                .join_from(t.sighting, t.organization, s.org_id == o.id)
                .where(s.indicator_id.in_(part))
                .order_by(s.indicator_id, s.id)
            )
        )
    return out


def within(conn: Connection, start: bytes, end: bytes, *, limit: int) -> list:
    """Indicators whose IP range lies inside ``[start, end]`` (an index range scan)."""
    col = t.indicator.c
    return list(
        conn.execute(
            select(col.id, col.kind, col.value, col.display, col.prefix_len, col.allowlisted, col.detail)
            .where(col.range_start >= start, col.range_start <= end, col.range_end <= end)
            .order_by(col.range_start, col.id)
            .limit(limit)
        )
    )


def search_page(conn: Connection, *, visible_clause, kind: str | None = None, label: str | None = None,
                source: str | None = None, since=None, since_seq: int | None = None,
                within: tuple[bytes, bytes] | None = None, after_id: int = 0, limit: int = 100) -> list:
    """Indicators with at least one assertion matching the filters (and visible), by id."""
    from sqlalchemy import exists

    a, o, i = t.assertion.c, t.organization.c, t.indicator.c
    conditions = [a.indicator_id == i.id, visible_clause]
    if label:
        conditions.append(a.labels.like(f"%,{label},%"))
    if source:
        conditions.append(o.slug == source)
    if since is not None:
        conditions.append(a.modified >= since)
    if since_seq is not None:
        conditions.append(a.seq > since_seq)
    has_assertion = exists(select(a.id).join_from(t.assertion, t.organization, a.org_id == o.id).where(*conditions))
    query = (
        select(i.id, i.kind, i.value, i.display, i.prefix_len, i.allowlisted, i.detail, i.first_seen, i.last_seen)
        .where(i.id > after_id, has_assertion)
        .order_by(i.id)
        .limit(limit)
    )
    if kind:
        query = query.where(i.kind == kind)
    if within:
        query = query.where(i.range_start >= within[0], i.range_start <= within[1], i.range_end <= within[1])
    return list(conn.execute(query))
