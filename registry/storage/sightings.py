"""Sighting rows: one per (indicator, org, case reference); a repeat adds to its count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from registry.storage import tables as t
from registry.storage.db import next_seq


def upsert(conn: Connection, *, indicator_id: int, org_id: int, case_ref: str, count: int, tlp: str,
           description: str | None, seen: datetime, now: datetime) -> tuple[str, dict]:
    """Add a sighting or add to an existing one; returns (``new``|``updated``, the row)."""
    s = t.sighting.c
    row = conn.execute(
        select(t.sighting).where(s.indicator_id == indicator_id, s.org_id == org_id, s.case_ref == case_ref)
    ).first()
    seq = next_seq(conn)
    if row is None:
        values = {
            "indicator_id": indicator_id, "org_id": org_id, "case_ref": case_ref, "count": count, "tlp": tlp,
            "description": description, "first_seen": seen, "last_seen": seen,
            "created": now, "modified": now, "seq": seq,
        }
        conn.execute(t.sighting.insert().values(**values))
        return "new", values
    values = {
        "count": row.count + count, "tlp": tlp, "description": description or row.description,
        "first_seen": min(row.first_seen, seen), "last_seen": max(row.last_seen, seen), "modified": now, "seq": seq,
    }
    conn.execute(t.sighting.update().where(s.id == row.id).values(**values))
    return "updated", {**row._mapping, **values}
