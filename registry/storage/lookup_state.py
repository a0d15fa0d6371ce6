"""What every lookup consults, kept in the database's caches (storage.caches) and checked
with one query.

The allowlist is current while its row count and highest id are; the prefix lengths, the
prefixes of the listed phone-keyed wallets and accounts, and the listed networks while the
highest indicator id is (all only grow with new indicators, written in the same transaction).
One query answers these questions; a new highest id costs a read of what it may have changed.
"""

from __future__ import annotations

from sqlalchemy import Connection

from registry.domain.allowlist import Allowlist
from registry.domain.keys import PrefixLengths, number_key_prefixes
from registry.domain.networks import NetworkSet
from registry.storage import bulk
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.indicator_reads import number_keyed, prefix_lengths
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
        # Prefixes found present stay present (indicators are never deleted): only the others
        # are asked again (all of them when the tables were made again under this Database).
        numbers = kept[1].numbers if kept is not None and kept[0] < top else frozenset()
        absent = [prefix for prefix in number_key_prefixes() if prefix not in numbers]
        numbers = numbers | number_keyed(conn, absent) if absent else numbers
        kept = (top, PrefixLengths.from_rows(prefix_lengths(conn), numbers))
        with caches.lock:
            caches.prefix_lengths = kept
    return load_allowlist(conn, (allow_count, allow_top)), kept[1], network_set(conn, top)
