"""Local allowlist entries joined with the shipped ones."""

from __future__ import annotations

from sqlalchemy import Connection, select

from registry.domain.allowlist import Allowlist, Entry
from registry.storage import tables as t


def load_allowlist(conn: Connection) -> Allowlist:
    rows = conn.execute(select(t.allowlist_entry.c.kind, t.allowlist_entry.c.value, t.allowlist_entry.c.reason))
    return Allowlist(Entry(kind, value, reason) for kind, value, reason in rows)
