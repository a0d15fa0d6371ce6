"""Sighting rows: one per (indicator, org, case reference); a repeat adds to its count.

A new row gets its STIX id here (a random UUIDv4, as STIX 2.1 recommends for SDOs: sightings are written
one by one, so storing it costs nothing, and unlike an id derived from the case reference it
reveals nothing about the case), or keeps the id of the STIX Sighting it was imported from.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, select

from registry.storage import tables as t
from registry.storage.db import next_seq


def upsert(conn: Connection, *, indicator_id: int, org_id: int, case_ref: str, count: int, tlp: str,
           description: str | None, seen: datetime, now: datetime, stix_id: str | None = None,
           last_seen: datetime | None = None) -> tuple[str, dict]:
    """Add a sighting or add to an existing one; returns (``new``|``updated``, the row)."""
    s = t.sighting.c
    row = conn.execute(
        select(t.sighting).where(s.indicator_id == indicator_id, s.org_id == org_id, s.case_ref == case_ref)
    ).first()
    seq = next_seq(conn)
    if row is None:
        values = {
            "indicator_id": indicator_id, "org_id": org_id, "case_ref": case_ref, "count": count, "tlp": tlp,
            "description": description, "first_seen": seen, "last_seen": max(seen, last_seen or seen),
            "created": now, "modified": now, "seq": seq, "stix_id": stix_id or f"sighting--{uuid.uuid4()}",
        }
        conn.execute(t.sighting.insert().values(**values))
        return "new", values
    values = {
        "count": row.count + count, "tlp": tlp, "description": description or row.description,
        "first_seen": min(row.first_seen, seen), "last_seen": max(row.last_seen, seen, last_seen or seen),
        "modified": now, "seq": seq,
    }
    if row.stix_id is None:
        values["stix_id"] = stix_id or f"sighting--{uuid.uuid4()}"
    conn.execute(t.sighting.update().where(s.id == row.id).values(**values))
    return "updated", {**row._mapping, **values}
