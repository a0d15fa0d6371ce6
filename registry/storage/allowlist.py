"""Local allowlist entries joined with the shipped ones, kept in the database's caches
(storage.caches).

The kept list is checked against the table's row count and highest id on every call (one
indexed query), so an entry added by any process is seen by the next lookup everywhere.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from registry.domain.allowlist import Allowlist, Entry
from registry.storage import tables as t
from registry.storage.caches import caches_of


def load_allowlist(conn: Connection, version: tuple | None = None) -> Allowlist:
    """``version``: the table's (count, highest id) when the caller has just read it."""
    caches = caches_of(conn)
    if version is None:
        version = tuple(conn.exec_driver_sql("SELECT COUNT(*), MAX(id) FROM allowlist_entry").one())
    with caches.lock:
        kept = caches.allowlist
        if kept is not None and kept[0] == version:
            return kept[1]
    c = t.allowlist_entry.c
    rows = conn.execute(select(c.kind, c.value, c.reason))
    allowlist = Allowlist(Entry(kind, value, reason) for kind, value, reason in rows)
    with caches.lock:
        caches.allowlist = (version, allowlist)
    return allowlist
