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
    """The lookups' hits, buffered and tallied by a flusher thread (one per process). A write
    takes lookups up to ``max_batch`` hits, so a few large batches at once are tallied one by one
    rather than held together."""

    what = "hits"
    weighed = True

    def record(self, looker: str | None, answers: Sequence[dict], *, time: datetime | None = None) -> None:
        """Note what ``looker``'s lookup answered (``time``: when, else now); None (the operator)
        raises none. Never does I/O (unless synchronous) and never raises."""
        if looker is None:
            return
        found = hits_of(answers, looker)
        if found:
            self._add((time or utcnow(), looker, found))

    def _weight(self, item) -> int:
        return len(item[2])

    def _write(self, batch: list) -> None:
        try:
            with self.db.write() as conn:
                tally(conn, batch)
        except IntegrityError:  # another process opened the same tally meanwhile: read it again
            with self.db.write() as conn:
                tally(conn, batch)


@dataclass(slots=True)
class _Window:
    """A tally as this flush leaves it: when its window opened and its count; a window this flush
    opened also has the hit that opened it and the window it followed (its event is raised)."""

    window: datetime
    count: int
    event_seq: int | None = None
    hit: Hit | None = None
    key: tuple[int, int, int] | None = None
    previous: tuple[datetime, int] | None = None


def tally(conn: Connection, batch: Sequence[tuple[datetime, str, list[Hit]]]) -> int:
    """Count ``batch`` (``(time, looking org, hits)``, in time order) into the tallies and write
    the events of the windows it opens, in ``conn``'s transaction; how many events."""
    orgs = {org.slug: org for org in org_store.all_orgs(conn)}
    by_id = {org.id: org for org in orgs.values()}
    lookups = [(when, orgs[looker], hits) for when, looker, hits in batch
               if looker in orgs and orgs[looker].share_hits != ev.NONE]  # none: not even counted
    values = sorted({hit.value for _, _, hits in lookups for hit in hits})
    if not values:
        return 0
    ids = indicator_ids(conn, values)
    stored = store.tallies(conn, ids.values(), {looker.id for _, looker, _ in lookups})
    state: dict[tuple[int, int, int], _Window] = {
        key: _Window(row.window, row.count, row.event_seq) for key, row in stored.items()}
    opened: list[_Window] = []
    for when, looker, hits in lookups:
        for hit in hits:
            owner, indicator = orgs.get(hit.owner), ids.get(hit.value)
            if owner is None or indicator is None:
                continue
            key = (indicator, looker.id, owner.id)
            window = state.get(key)
            if window is not None and when < window.window + ev.HIT_WINDOW:
                window.count += 1  # an event this flush raises counts it too: the count so far
                continue
            previous = (window.window, window.count) if window is not None else None
            state[key] = new = _Window(when, 1, hit=hit, key=key, previous=previous)
            opened.append(new)
    news = _events(opened, by_id)
    for window, seq in zip(opened, events.emit(conn, news), strict=True):
        window.event_seq = seq
    inserts, updates = [], []
    for key, window in state.items():
        before = stored.get(key)
        row = store.Tally(*key, window.window, window.count, window.event_seq)
        if before is None:
            inserts.append(row)
        elif (before.window, before.count) != (window.window, window.count):
            updates.append(row)
    store.save(conn, inserts, updates)
    return len(news)


def _events(opened: list[_Window], orgs: dict) -> list[ev.NewEvent]:
    """The ``lookup.hit`` of each window a flush opened; those that say the same share one body
    (a batch lookup's hits on one feed's values mostly do)."""
    bodies: dict[tuple, dict] = {}
    out = []
    for window in opened:
        hit, (_, looker_id, owner_id) = window.hit, window.key
        looker, owner = orgs[looker_id], orgs[owner_id]
        shape = (id(hit.assertion), hit.match, window.count, window.window, window.previous)
        body = bodies.get(shape)
        if body is None:
            body = bodies[shape] = {"assertion": hit.assertion, "match": hit.match, "count": window.count,
                                    "window": iso(window.window)}
            if window.previous is not None:
                body["previous"] = {"window": iso(window.previous[0]), "count": window.previous[1]}
        out.append(ev.NewEvent(type=ev.LOOKUP_HIT, time=window.window, tlp=hit.assertion["tlp"], source=owner.slug,
                               org=looker.slug if looker.share_hits == ev.NAMED else None, kind=hit.kind,
                               value=hit.value, labels=tuple(hit.assertion["labels"]), body=body,
                               to_org_id=owner.id, actor_id=looker.id))
    return out
