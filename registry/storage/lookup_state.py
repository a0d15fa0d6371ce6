"""What every lookup consults, cached per process and checked with one query.

The allowlist is current while its row count and highest id are; the prefix lengths and the
listed networks while the highest indicator id is (both only grow with new indicators, written
in the same transaction). One query answers all three questions.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection

from registry.domain.allowlist import Allowlist
from registry.domain.keys import PrefixLengths
from registry.domain.networks import NetworkSet
from registry.storage import bulk
from registry.storage.allowlist import load_allowlist
from registry.storage.indicator_reads import prefix_lengths
from registry.storage.networks import network_set

_VERSIONS = (
    "SELECT (SELECT COUNT(*) FROM allowlist_entry), (SELECT MAX(id) FROM allowlist_entry), "
    "(SELECT MAX(id) FROM indicator)"
)
_lengths: dict[str, tuple[int, PrefixLengths]] = {}
_lock = threading.Lock()


def lookup_state(conn: Connection) -> tuple[Allowlist, PrefixLengths, NetworkSet]:
    (allow_count, allow_top, top), = bulk.driver_rows(conn, _VERSIONS)[0]
    top = top or 0
    key = bulk.engine_key(conn)
    with _lock:
        cached = _lengths.get(key)
    if cached is None or cached[0] != top:
        cached = (top, PrefixLengths.from_rows(prefix_lengths(conn)))
        with _lock:
            _lengths[key] = cached
    return load_allowlist(conn, (allow_count, allow_top)), cached[1], network_set(conn, top)
