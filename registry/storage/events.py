"""Events and each org's routed events (docs/design.md, "Events and watches").

Sequence numbers come from the ``event`` counter, taken with ``UPDATE … RETURNING``: the row lock
holds until the writer commits, so events become visible in sequence order, and a reader that
read the counter's value has every event up to it committed. On PostgreSQL the append also sends
``NOTIFY registry_events`` (delivered at commit), which the stream and the dispatcher wait on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, and_, delete, func, or_, select, update

from registry.domain.events import NewEvent, labels_text
from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.visibility import visible

CHANNEL = "registry_events"  # PostgreSQL's LISTEN/NOTIFY channel

_e = t.event.c
_in = t.event_inbox.c


class EventRow(NamedTuple):
    """An event as stored, with the receiver's watches it matched (,a,b,; "" for none)."""

    seq: int
    type: str
    time: object
    kind: str | None
    value: str | None
    org: str | None
    source: str | None
    tlp: str
    labels: str
    body: str
    watches: str


def head(conn: Connection) -> int:
    """The highest event sequence number committed (every event up to it is readable)."""
    return conn.execute(select(t.counter.c.value).where(t.counter.c.name == "event")).scalar_one()


def append(conn: Connection, events: Sequence[NewEvent], routes: Sequence[dict[int, str]]) -> list[int]:
    """Write ``events`` (and ``routes``: per event, org id → the watches it matched, ,a,b,) in
    ``conn``'s transaction; returns their sequence numbers."""
    if not events:
        return []
    last = conn.execute(update(t.counter).where(t.counter.c.name == "event")
                        .values(value=t.counter.c.value + len(events)).returning(t.counter.c.value)).scalar_one()
    first = last - len(events) + 1
    seqs = list(range(first, last + 1))
    # The events of one batch (an import's rows) mostly share their time, labels and body: each
    # is converted once.
    stamp, times, labels, bodies = bulk.time_writer(conn), {}, {}, {}
    rows = []
    for seq, event in zip(seqs, events, strict=True):
        when = times.get(event.time)
        if when is None:
            when = times[event.time] = stamp(event.time)
        tags = labels.get(event.labels)
        if tags is None:
            tags = labels[event.labels] = labels_text(event.labels)
        body = bodies.get(id(event.body))
        if body is None:
            body = bodies[id(event.body)] = orjson.dumps(event.body).decode()
        rows.append((seq, event.type, when, event.kind, event.value, event.org, event.source, event.tlp, tags,
                     event.to_org_id, body))
    bulk.insert_many(conn, "event", ("seq", "type", "time", "kind", "value", "org", "source", "tlp", "labels",
                                     "to_org_id", "body"), rows)
    inbox = [(org_id, seq, watches) for seq, route in zip(seqs, routes, strict=True)
             for org_id, watches in route.items()]
    bulk.insert_many(conn, "event_inbox", ("org_id", "seq", "watches"), inbox)
    if not bulk.is_sqlite(conn):
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")
    return seqs


_COLUMNS = (_e.seq, _e.type, _e.time, _e.kind, _e.value, _e.org, _e.source, _e.tlp, _e.labels, _e.body)


def _routed(org_id: int, viewer: Viewer, after: int, before: int | None):
    """The join and conditions of the org's routed events in (after, before) that ``viewer`` may
    see: a range of the inbox's key (org_id, seq)."""
    where = [_in.org_id == org_id, _in.seq > after, visible(viewer, _e.tlp, _e.source)]
    if before is not None:
        where.append(_in.seq < before)
    return t.event_inbox.join(t.event, _e.seq == _in.seq), where


def for_org(conn: Connection, org_id: int, viewer: Viewer, after: int, limit: int, *, before: int | None = None,
            newest_first: bool = False) -> list[EventRow]:
    """The org's routed events after ``after`` (and before ``before``) that ``viewer`` (a key or
    user of the org) may see, in sequence order (``newest_first``: the newest first), at most ``limit``."""
    joined, where = _routed(org_id, viewer, after, before)
    query = (select(*_COLUMNS, _in.watches).select_from(joined).where(*where)
             .order_by(_in.seq.desc() if newest_first else _in.seq).limit(limit))
    return [EventRow._make(row) for row in conn.execute(query)]


def count_for_org(conn: Connection, org_id: int, viewer: Viewer, after: int, cap: int) -> int:
    """How many of the org's routed events after ``after`` ``viewer`` may see, counted up to
    ``cap`` (one range read of the inbox's key, however many there are)."""
    joined, where = _routed(org_id, viewer, after, None)
    capped = select(_in.seq).select_from(joined).where(*where).limit(cap).subquery()
    return conn.execute(select(func.count()).select_from(capped)).scalar_one()


def everything(conn: Connection, org_id: int | None, viewer: Viewer, after: int, limit: int) -> list[EventRow]:
    """Every event after ``after`` that ``viewer`` may see (those addressed to another org never),
    with the org's watches it matched: what a federating peer follows."""
    join = t.event.outerjoin(t.event_inbox, and_(_in.seq == _e.seq, _in.org_id == (org_id or -1)))
    addressed = _e.to_org_id.is_(None) if org_id is None else or_(_e.to_org_id.is_(None), _e.to_org_id == org_id)
    query = (select(*_COLUMNS, _in.watches).select_from(join)
             .where(_e.seq > after, addressed, visible(viewer, _e.tlp, _e.source))
             .order_by(_e.seq).limit(limit))
    return [EventRow._make((*row[:-1], row[-1] or "")) for row in conn.execute(query)]


def purge(conn: Connection, before) -> int:
    """Delete events older than ``before`` and their routes; returns how many events went."""
    cut = conn.execute(select(_e.seq).where(_e.time < before).order_by(_e.seq.desc()).limit(1)).scalar()
    if cut is None:
        return 0
    conn.execute(delete(t.event_inbox).where(_in.seq <= cut))
    return conn.execute(delete(t.event).where(_e.seq <= cut)).rowcount
