"""Hit alerts (docs/design.md, "Events and watches"): when org B looks up a value that hits an
assertion in force of org A that B may see (any match type), A receives a ``lookup.hit`` event.

- What B's lookup found is read from its answers (``hits_of``: they hold only what B's key or
  user may see, so nothing reaches A about an assertion B could not see); B's own assertions
  are no hits.
- The web layer hands the hits to the app's ``HitLog`` (``services.buffered``): a lookup that hit
  no other org's assertion writes nothing, one that did pays for an append; the flusher thread
  writes them (``tally``) off the request's path.
- Aggregated per (indicator, looking org, owner org) in ``hit_tally``: the first lookup that
  falls an hour or more after the tally's window opened opens a new window and raises an event
  (with the count so far, and the previous window's final count); the others add to the count.
- B's ``share_hits`` (``registry org set B --share-hits``) decides what A learns: ``named`` its
  slug as the event's ``org``, ``anonymous`` (the default) null, ``none`` nothing at all (no
  event, no tally).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from registry.domain import events as ev
from registry.domain.times import iso, utcnow
from registry.domain.tlp import RANK
from registry.services import events
from registry.services.buffered import Buffered
from registry.storage import hits as store
from registry.storage import orgs as org_store
from registry.storage.indicators import indicator_ids


class Hit(NamedTuple):
    """One indicator of another org that a lookup found: its owner's assertion as the looker
    was shown it (the least restricted, when the owner has several) and the match type."""

    kind: str
    value: str
    match: str
    owner: str
    assertion: dict


def hits_of(answers: Iterable[dict], looker: str) -> list[Hit]:
    """The hits of one lookup's answers (``services.lookup``) by ``looker``: per answer, each
    matched indicator with an assertion in force of another org, once per such org."""
    out: list[Hit] = []
    for answer in answers:
        matches = answer.get("matches")
        if not matches:
            continue
        for match in matches:
            found: dict[str, dict] = {}
            for assertion in match["assertions"]:
                owner = assertion["source"]
                if owner != looker:
                    kept = found.get(owner)
                    if kept is None or RANK[assertion["tlp"]] < RANK[kept["tlp"]]:
                        found[owner] = assertion
            out.extend(Hit(match["kind"], match["value"], match["match"], owner, shown)
                       for owner, shown in found.items())
    return out


class HitLog(Buffered):
    """The lookups' hits, buffered and tallied by a flusher thread (one per process)."""

    what = "hits"

    def record(self, looker: str | None, answers: Sequence[dict], *, time: datetime | None = None) -> None:
        """Note what ``looker``'s lookup answered (``time``: when, else now); None (the operator)
        raises none. Never does I/O (unless synchronous) and never raises."""
        if looker is None:
            return
        found = hits_of(answers, looker)
        if found:
            self._add((time or utcnow(), looker, found))

    def _write(self, batch: list) -> None:
        try:
            with self.db.write() as conn:
                tally(conn, batch)
        except IntegrityError:  # another process opened the same tally meanwhile: read it again
            with self.db.write() as conn:
                tally(conn, batch)


@dataclass
class _Window:
    """A tally as this flush leaves it: its window, its count, the event that opened it when this
    flush did, else the stored event's sequence number."""

    window: datetime
    count: int
    event: ev.NewEvent | None = None
    event_seq: int | None = None


def tally(conn: Connection, batch: Sequence[tuple[datetime, str, list[Hit]]]) -> int:
    """Count ``batch`` (``(time, looking org, hits)``, in time order) into the tallies and write
    the events of the windows it opens, in ``conn``'s transaction; how many events."""
    orgs = {org.slug: org for org in org_store.all_orgs(conn)}
    lookups = [(when, orgs[looker], hits) for when, looker, hits in batch
               if looker in orgs and orgs[looker].share_hits != ev.NONE]  # none: not even counted
    values = sorted({hit.value for _, _, hits in lookups for hit in hits})
    if not values:
        return 0
    ids = indicator_ids(conn, values)
    stored = store.tallies(conn, ids.values(), {looker.id for _, looker, _ in lookups})
    state: dict[tuple[int, int, int], _Window] = {
        key: _Window(row.window, row.count, event_seq=row.event_seq) for key, row in stored.items()}
    raised: list[ev.NewEvent] = []
    for when, looker, hits in lookups:
        for hit in hits:
            owner, indicator = orgs.get(hit.owner), ids.get(hit.value)
            if owner is None or indicator is None:
                continue
            key = (indicator, looker.id, owner.id)
            window = state.get(key)
            if window is not None and when < window.window + ev.HIT_WINDOW:
                window.count += 1
                if window.event is not None:  # the count so far: the lookups of its window in this flush
                    window.event.body["count"] = window.count
                continue
            body = {"assertion": hit.assertion, "match": hit.match, "count": 1, "window": iso(when)}
            if window is not None:
                body["previous"] = {"window": iso(window.window), "count": window.count}
            event = ev.NewEvent(type=ev.LOOKUP_HIT, time=when, tlp=hit.assertion["tlp"], source=owner.slug,
                                org=looker.slug if looker.share_hits == ev.NAMED else None, kind=hit.kind,
                                value=hit.value, labels=tuple(hit.assertion["labels"]), body=body,
                                to_org_id=owner.id, actor_id=looker.id)
            raised.append(event)
            state[key] = _Window(when, 1, event)
    seqs = dict(zip(map(id, raised), events.emit(conn, raised), strict=True))
    inserts, updates = [], []
    for key, window in state.items():
        seq = seqs[id(window.event)] if window.event is not None else window.event_seq
        (updates if key in stored else inserts).append(store.Tally(*key, window.window, window.count, seq))
    store.save(conn, inserts, [row for row in updates if _changed(row, stored[row[:3]])])
    return len(raised)


def _changed(row: store.Tally, before: store.Tally) -> bool:
    return row.count != before.count or row.window != before.window
