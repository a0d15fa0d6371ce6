"""Local allowlist entries joined with the shipped ones, cached per process and database.

The cache is checked against the table's row count and highest id on every call (one indexed
query), so an entry added by any process is seen by the next lookup everywhere.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, select

from registry.domain.allowlist import Allowlist, Entry
from registry.storage import bulk
from registry.storage import tables as t

_cache: dict[str, tuple[tuple, Allowlist]] = {}
_lock = threading.Lock()


def load_allowlist(conn: Connection, version: tuple | None = None) -> Allowlist:
    """``version``: the table's (count, highest id) when the caller has just read it."""
    key = bulk.engine_key(conn)
    if version is None:
        version = tuple(conn.exec_driver_sql("SELECT COUNT(*), MAX(id) FROM allowlist_entry").one())
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    c = t.allowlist_entry.c
    rows = conn.execute(select(c.kind, c.value, c.reason))
    allowlist = Allowlist(Entry(kind, value, reason) for kind, value, reason in rows)
    with _lock:
        _cache[key] = (version, allowlist)
    return allowlist
