"""What every lookup consults, kept in the database's caches (storage.caches) and checked
with one query.

The allowlist is current while its row count and highest id are; the prefix lengths, the
prefixes of the listed phone-keyed wallets and accounts, and the listed networks while the
highest indicator id is (all only grow with new indicators, written in the same transaction);
the open disputes while their count and the highest dispute id are (disputes are never deleted
and only close: a new one raises the id, a closed one lowers the count). The same query says
whether any operation member and any relationship exist (``Picture``): until one does, a lookup
reads neither (docs/design.md, "Operations and relationships"). One query answers these
questions; a new highest id costs a read of what it may have changed.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain.allowlist import Allowlist
from registry.domain.keys import PrefixLengths, number_key_prefixes
from registry.domain.networks import NetworkSet
from registry.domain.times import iso
from registry.storage import bulk
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.disputes import OPEN_STATE, open_by_indicator
from registry.storage.indicator_reads import number_keyed, prefix_lengths
from registry.storage.networks import network_set

_VERSIONS = (
    "SELECT (SELECT COUNT(*) FROM allowlist_entry), (SELECT MAX(id) FROM allowlist_entry), "
    "(SELECT MAX(id) FROM indicator), ({}), ({}), "
    "(SELECT 1 FROM operation_member LIMIT 1), (SELECT 1 FROM relationship LIMIT 1)".format(*OPEN_STATE)
)


class Picture(NamedTuple):
    """Whether any operation member, and any relationship, exists (of any org, at any TLP)."""

    members: bool
    relationships: bool


def lookup_state(conn: Connection) -> tuple[Allowlist, PrefixLengths, NetworkSet, dict[int, dict], Picture]:
    """The allowlist, prefix lengths, listed networks, each indicator's open dispute as answers
    show it (``{"id", "since", "status"}``, by indicator id; shared: read-only), and the ``Picture``."""
    (allow_count, allow_top, top, open_count, dispute_top, any_member, any_link), = bulk.driver_rows(conn, _VERSIONS)[0]
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
    return (load_allowlist(conn, (allow_count, allow_top)), kept[1], network_set(conn, top),
            _open_disputes(conn, caches, (open_count, dispute_top or 0)),
            Picture(any_member is not None, any_link is not None))


def _open_disputes(conn: Connection, caches, version: tuple[int, int]) -> dict[int, dict]:
    if version[0] == 0:
        return {}
    with caches.lock:
        kept = caches.open_disputes
    if kept is None or kept[0] != version:
        shown = {indicator_id: {"id": uid, "since": iso(since), "status": "open"}
                 for indicator_id, (uid, since) in open_by_indicator(conn).items()}
        kept = (version, shown)
        with caches.lock:
            caches.open_disputes = kept
    return kept[1]
