"""The in-memory set of listed IP networks, one per ``Database`` (storage.caches), kept current.

Indicators are never deleted and their ranges never change, so the set only grows: each
lookup asks for the highest indicator id (one index probe) and loads just the rows added since.
Each Database object keeps its own copy; the database stays the source of truth.
"""

from __future__ import annotations

from sqlalchemy import Connection

from registry.domain.networks import NetworkSet
from registry.storage.caches import caches_of


def network_set(conn: Connection, top: int | None) -> NetworkSet:
    """``top``: the highest indicator id, as the caller has just read it (``lookup_state``)."""
    caches = caches_of(conn)
    with caches.lock:
        if caches.networks is None:
            caches.networks = (NetworkSet(), [0])
        networks, last = caches.networks
        top = top or 0
        if top < last[0]:  # the tables were dropped and made again under this Database (tests)
            networks, last = caches.networks = (NetworkSet(), [0])
        if top > last[0]:
            # On SQLite "+range_start" keeps the planner on the rowid range instead of scanning
            # the whole range index; PostgreSQL plans this well unaided (and has no unary + on bytea).
            column = "+range_start" if conn.dialect.name == "sqlite" else "range_start"
            rows = conn.exec_driver_sql(
                "SELECT kind, prefix_len, range_start, value FROM indicator "
                f"WHERE id > {int(last[0])} AND id <= {int(top)} AND {column} IS NOT NULL "
                "AND ((kind = 'ipv4' AND prefix_len < 32) OR (kind = 'ipv6' AND prefix_len < 128))"
            ).fetchall()
            for kind, prefix_len, range_start, value in rows:
                networks.add(kind, prefix_len, bytes(range_start), value)
            last[0] = top
        return networks

