"""What one database's readers keep between calls: the allowlist, the listed networks, the
prefix lengths lookups probe, the open disputes, and what callers derive from the database's own data (the STIX
id deriver of its key). One ``Caches`` per ``Database`` (``Database.caches``): two databases in
one process never see each other's, and a test's fresh database starts with empty ones.

Each entry carries the version of the data it was built from (a row count, a highest id) and
is rebuilt or extended when the database has moved on (docs/design.md, "State: settings and
caches").
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from registry.domain.allowlist import Allowlist
    from registry.domain.keys import PrefixLengths
    from registry.domain.networks import NetworkSet

OPTION = "registry_caches"  # the engine's execution option that carries them to every connection


class Caches:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.allowlist: tuple[tuple, Allowlist] | None = None  # (count, highest id), the list
        self.prefix_lengths: tuple[int, PrefixLengths] | None = None  # highest indicator id, lengths
        self.networks: tuple[NetworkSet, list[int]] | None = None  # the set, [highest id loaded]
        # (open count, highest dispute id), each indicator's open dispute as answers show it
        self.open_disputes: tuple[tuple[int, int], dict[int, dict]] | None = None
        self.derived: dict[object, object] = {}  # what callers build once from this database's data


def caches_of(conn: Connection) -> Caches:
    """The caches of the ``Database`` whose engine gave ``conn``. A connection from an engine
    made elsewhere gets caches of its own, kept for no longer than the call."""
    caches = conn.get_execution_options().get(OPTION)
    return caches if caches is not None else Caches()
