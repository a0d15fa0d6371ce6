"""What every lookup consults, kept in the database's caches (storage.caches) and checked
with one query.

The allowlist is current while its row count and highest id are; the prefix lengths and the
listed networks while the highest indicator id is (both only grow with new indicators, written
in the same transaction). One query answers all three questions.
"""

from __future__ import annotations

from sqlalchemy import Connection

from registry.domain.allowlist import Allowlist
from registry.domain.keys import PrefixLengths
from registry.domain.networks import NetworkSet
from registry.storage import bulk
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.indicator_reads import prefix_lengths
from registry.storage.networks import network_set

_VERSIONS = (
    "SELECT (SELECT COUNT(*) FROM allowlist_entry), (SELECT MAX(id) FROM allowlist_entry), "
    "(SELECT MAX(id) FROM indicator)"
)


def lookup_state(conn: Connection) -> tuple[Allowlist, PrefixLengths, NetworkSet]:
    (allow_count, allow_top, top), = bulk.driver_rows(conn, _VERSIONS)[0]
    top = top or 0
    caches = caches_of(conn)
    with caches.lock:
        kept = caches.prefix_lengths
    if kept is None or kept[0] != top:
        kept = (top, PrefixLengths.from_rows(prefix_lengths(conn)))
        with caches.lock:
            caches.prefix_lengths = kept
    return load_allowlist(conn, (allow_count, allow_top)), kept[1], network_set(conn, top)
