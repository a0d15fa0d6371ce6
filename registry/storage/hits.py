"""The hourly tally of lookup hits (``hit_tally``, docs/design.md, "Events and watches"): per
(indicator, looking org, owner org) the window its last event opened and the lookups counted in
it. Written by the hit log's flusher (``services.hits``), one transaction per flush."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, select

from registry.storage import bulk
from registry.storage import tables as t

_h = t.hit_tally.c


class Tally(NamedTuple):
    indicator_id: int
    looker_id: int
    owner_id: int
    window: datetime
    count: int
    event_seq: int | None


def tallies(conn: Connection, indicator_ids: Collection[int], looker_ids: Collection[int]) -> dict[tuple, Tally]:
    """(indicator, looker, owner) → its tally, for these indicators and lookers (every owner)."""
    out: dict[tuple, Tally] = {}
    lookers = sorted(set(looker_ids))
    for part in bulk.chunks(sorted(set(indicator_ids)), 1000):
        query = select(_h.indicator_id, _h.looker_id, _h.owner_id, _h.window, _h.count, _h.event_seq).where(
            _h.indicator_id.in_(part), _h.looker_id.in_(lookers))
        for row in conn.execute(query):
            tally = Tally._make(row)
            out[tally[:3]] = tally
    return out


_COLUMNS = ("indicator_id", "looker_id", "owner_id", '"window"', "count", "event_seq")  # window: a keyword


def save(conn: Connection, inserts: Sequence[Tally], updates: Sequence[Tally]) -> None:
    """Write new tallies and the new state of existing ones (plain executemany: a batch lookup's
    hits make thousands)."""
    stamp = bulk.time_writer(conn)
    bulk.insert_many(conn, "hit_tally", _COLUMNS, [(*row[:3], stamp(row.window), *row[4:]) for row in inserts])
    if updates:
        mark = "?" if bulk.is_sqlite(conn) else "%s"
        bulk.executemany(conn, f'UPDATE hit_tally SET "window" = {mark}, count = {mark}, event_seq = {mark} '
                               f"WHERE indicator_id = {mark} AND looker_id = {mark} AND owner_id = {mark}",
                         [(stamp(row.window), row.count, row.event_seq, *row[:3]) for row in updates])


def purge(conn: Connection, before: datetime) -> int:
    """Delete the tallies whose window opened before ``before``; how many."""
    return conn.execute(delete(t.hit_tally).where(_h.window < before)).rowcount
