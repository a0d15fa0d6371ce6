"""Events: written with the change, routed to the orgs that receive them, read back in order
(docs/design.md, "Events and watches").

``emit`` is called by every path that changes what matters, on the connection of that change,
so an event commits or rolls back with it. Routing happens there: an event goes to each org with
a watch that matches it (through the lookup's probe keys over the watched values, so its cost
grows with the keys of the changed value, not with the number of watches) and to each org whose
own indicator it touches, provided that org may see what the event reveals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from registry.domain import events as ev
from registry.domain import standing
from registry.domain.keys import PrefixLengths, probe_keys
from registry.domain.kinds import IPV4, IPV6, PHONE, Value
from registry.domain.networks import NetworkSet
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.tlp import RED, Viewer
from registry.storage import bulk
from registry.storage import events as store
from registry.storage import hits as hit_store
from registry.storage import watches as watch_store
from registry.storage.caches import caches_of
from registry.storage.db import Database

MAX_LIMIT = 1000
FOLLOW_BATCH = 500  # events read per query while a follower catches up


@dataclass
class WatchIndex:
    """The watches as matching needs them: the watched networks and number blocks' lengths (for
    the probe keys), whether any value is watched, the label-only watches by label."""

    version: tuple[int, int]
    lengths: PrefixLengths = field(default_factory=PrefixLengths)
    networks: NetworkSet = field(default_factory=NetworkSet)
    values: bool = False
    labels: dict[str, list[watch_store.WatchRow]] = field(default_factory=dict)


def watch_index(conn: Connection) -> WatchIndex:
    """The index of the watches, kept in the database's caches while their count and highest id hold."""
    version = watch_store.version(conn)
    caches = caches_of(conn)
    with caches.lock:
        kept = caches.derived.get("watches")
    if kept is not None and kept.version == version:
        return kept
    index = WatchIndex(version)
    lengths: list[tuple[str, int]] = []
    if version[0]:
        for row in watch_store.every(conn):
            if row.key is None:
                if row.label:
                    index.labels.setdefault(row.label, []).append(row)
                continue
            index.values = True
            if row.kind in (IPV4, IPV6) and row.prefix_len is not None and row.range_start is not None:
                index.networks.add(row.kind, row.prefix_len, row.range_start, row.key)
                lengths.append((row.kind, row.prefix_len))
            elif row.kind == PHONE and row.prefix_len is not None:
                lengths.append((PHONE, row.prefix_len))
        index.lengths = PrefixLengths.from_rows(lengths)
    with caches.lock:
        caches.derived["watches"] = index
    return index


def _keys(kind: str | None, value: str | None, index: WatchIndex, parsed: Value | None = None) -> list[str]:
    if value is None or not index.values:
        return []
    if parsed is not None:  # the writer's own (an import's rows): not normalised again
        return [key for key, _ in probe_keys(parsed, index.lengths, index.networks)]
    try:
        parsed = normalize(value, kind)
    except NormalizeError:
        return [value]
    keys: list[str] = []
    for item in parsed:
        keys.extend(key for key, _ in probe_keys(item, index.lengths, index.networks))
    return keys


def _watch_admits(watch: watch_store.WatchRow, event: ev.NewEvent) -> bool:
    kinds, labels, sources = ev.listed(watch.kinds), ev.listed(watch.labels), ev.listed(watch.sources)
    if kinds and event.kind not in kinds:
        return False
    if labels and not set(labels) & set(event.labels):
        return False
    return not (sources and event.source not in sources)


def route(conn: Connection, events: Sequence[ev.NewEvent]) -> list[dict[int, str]]:
    """Per event, org id → the uids of its watches that matched (,a,b,; "" when it comes for a
    hit on the org's own indicator): only orgs that may see what the event reveals."""
    index = watch_index(conn)
    keys = [_keys(event.kind, event.value, index, event.parsed) for event in events]
    by_key: dict[str, list[watch_store.WatchRow]] = {}
    for row in watch_store.by_keys(conn, sorted({key for each in keys for key in each})):
        by_key.setdefault(row.key, []).append(row)
    routes: list[dict[int, str]] = []
    watched = bool(by_key or index.labels)
    for event, event_keys in zip(events, keys, strict=True):
        if not watched and not event.owners:  # most of an import's rows: no one to route to
            routes.append({} if event.to_org_id is None else {event.to_org_id: ""})
            continue
        matched: dict[int, list[str]] = {}
        slugs: dict[int, str] = {}
        candidates = [w for key in dict.fromkeys(event_keys) for w in by_key.get(key, ())]
        candidates += [w for label in event.labels for w in index.labels.get(label, ())]
        for watch in candidates:
            if (event.to_org_id is not None and watch.org_id != event.to_org_id) or watch.org_id in event.skip:
                continue
            if _watch_admits(watch, event) and watch.uid not in matched.get(watch.org_id, ()):
                matched.setdefault(watch.org_id, []).append(watch.uid)
                slugs[watch.org_id] = watch.org
        for org_id, slug in event.owners:
            if org_id != event.actor_id and org_id not in event.skip:
                matched.setdefault(org_id, [])
                slugs[org_id] = slug
        route = {org_id: ("," + ",".join(uids) + ",") if uids else ""
                 for org_id, uids in matched.items() if Viewer(slugs[org_id], RED).can_see(event.tlp, event.source)}
        if event.to_org_id is not None:
            route.setdefault(event.to_org_id, "")
        routes.append(route)
    return routes


def emit(conn: Connection, events: Sequence[ev.NewEvent]) -> list[int]:
    """Route and write ``events`` in ``conn``'s transaction (the change's own); their seqs."""
    if not events:
        return []
    return store.append(conn, events, route(conn, events))


def owners(conn: Connection, values: Iterable[str], actor_id: int | None, actor: Viewer,
           now: datetime) -> dict[str, tuple[tuple[int, str], ...]]:
    """Value → the orgs (id, slug) other than the actor with an assertion in force on it that
    the actor may see: they hear of the actor's report or sighting (nothing reaches an org about
    an assertion the actor could not see)."""
    values = list(dict.fromkeys(values))
    if not values:
        return {}
    rows = bulk.select_in(
        conn, "SELECT indicator.value AS value, assertion.org_id AS org_id, organization.slug AS slug, "
        "assertion.tlp AS tlp, assertion.valid_until AS valid_until, assertion.review_at AS review_at, "
        "assertion.end_reason AS end_reason FROM indicator JOIN assertion ON assertion.indicator_id = indicator.id "
        "JOIN organization ON organization.id = assertion.org_id", "indicator.value", values,
        times=("valid_until", "review_at"))
    out: dict[str, dict[int, str]] = {}
    for row in rows:
        if row.org_id == actor_id or not actor.can_see(row.tlp, row.slug):
            continue
        if standing.ended(row.valid_until, row.review_at, row.end_reason, now) is None:
            out.setdefault(row.value, {})[row.org_id] = row.slug
    return {value: tuple(orgs.items()) for value, orgs in out.items()}


def read(conn: Connection, viewer: Viewer, org_id: int | None, *, after: int = 0, limit: int = 100,
         everything: bool = False) -> tuple[list[dict], int]:
    """(events as JSON, next position) after ``after``: the org's routed events (``everything``:
    every event the viewer may see, as a federating peer follows) in sequence order. ``next`` is
    the position to ask after next time: past what was read, and past the events the viewer may
    not see, so a caller never reads them again."""
    limit = max(1, min(limit, MAX_LIMIT))
    top = store.head(conn)  # read first: every event up to it is committed
    if everything or org_id is None:
        rows = store.everything(conn, org_id, viewer, after, limit)
    else:
        rows = store.for_org(conn, org_id, viewer, after, limit)
    shown = _shown(rows, viewer)
    last = rows[-1].seq if rows else after
    next_seq = last if len(rows) == limit else max(last, top)
    return shown, next_seq


def _shown(rows: Iterable[store.EventRow], viewer: Viewer) -> list[dict]:
    """The rows as ``viewer`` reads them: a sighting's case reference only to its own org (and the
    operator), as lookups show it."""
    return [ev.shown(r.seq, r.type, r.time, r.kind, r.value, r.org, r.tlp, r.body, r.watches,
                     case_ref=viewer.org is None or viewer.org == r.source) for r in rows]


def recent(conn: Connection, viewer: Viewer, org_id: int, *, before: int | None = None,
           limit: int = 100) -> tuple[list[dict], int | None, int]:
    """(the org's events the viewer may see, newest first, before ``before`` (None: the newest);
    the ``before`` of the next older page, None when there is none; the event head read first,
    which every event shown is at or below: a stream from it misses nothing and repeats nothing)."""
    limit = max(1, min(limit, MAX_LIMIT))
    top = store.head(conn)
    rows = store.for_org(conn, org_id, viewer, 0, limit + 1, before=top + 1 if before is None else before,
                         newest_first=True)
    older = rows[limit - 1].seq if len(rows) > limit else None
    return _shown(rows[:limit], viewer), older, top


def unread(conn: Connection, viewer: Viewer, org_id: int, seen: int, cap: int) -> int:
    """How many of the org's events after ``seen`` the viewer may see, counted up to ``cap``."""
    return store.count_for_org(conn, org_id, viewer, seen, cap)


def follow(db: Database, viewer: Viewer, org_id: int | None, after: int, *, everything: bool = False,
           wait: Callable[[int, float], object], timeout: float) -> Iterator[list[dict]]:
    """The events ``read`` gives after ``after``, batch by batch as they commit, for as long as the
    caller keeps asking. ``wait(position, timeout)`` returns once events past ``position`` may
    have committed (``storage.event_signal``) or ``timeout`` passed; a batch may then be empty,
    which gives the caller its turn (a heartbeat, a check of its right to read)."""
    position = after
    while True:
        with db.read() as conn:
            batch, position = read(conn, viewer, org_id, after=position, limit=FOLLOW_BATCH, everything=everything)
        yield batch
        if len(batch) < FOLLOW_BATCH:
            wait(position, timeout)


def purge(db: Database, *, event_days: int, now: datetime) -> dict[str, int]:
    """The daily job's part: the events older than ``event_days`` (0 keeps them) with their
    routes, and the hit tallies whose window opened more than ``domain.events.TALLY_KEPT`` ago
    (the next lookup opens a new one). How many of each."""
    with db.write() as conn:
        purged = store.purge(conn, now - timedelta(days=event_days)) if event_days > 0 else 0
        tallies = hit_store.purge(conn, now - ev.TALLY_KEPT)
    return {"events_purged": purged, "tallies_purged": tallies}
