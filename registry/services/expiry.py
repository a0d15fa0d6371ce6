"""Announcing what ends by itself (docs/design.md, "Events and watches"): an assertion whose own
``valid_until`` passed changes no row, so no writer announces it. The scheduler's expiry job
(every minute) looks for those whose ``valid_until`` passed since its last look and writes their
``indicator.expired`` events, moving its mark (``storage.expiry``) in the same transaction."""

from __future__ import annotations

from datetime import datetime

from registry.domain.times import utcnow
from registry.services import announce
from registry.storage import expiry as store
from registry.storage.db import Database


def announce_expired(db: Database, *, now: datetime | None = None) -> int:
    """Write the events of the assertions whose ``valid_until`` passed since the last look (the
    first look, when the mark is missing, only sets it); how many."""
    now = now or utcnow()
    with db.write() as conn:
        mark = store.take_mark(conn)
        if mark is None:
            store.set_mark(conn, now, new=True)
            return 0
        if mark >= now:  # another scheduler looked since (clocks differ a little)
            return 0
        count = announce.emit_ended(conn, store.passed(conn, mark, now), now)
        store.set_mark(conn, now)
    return count
