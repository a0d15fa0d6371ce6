"""Applying a peer registry's events here: what a ``registry-stream`` feed does with each event it
reads (docs/feeds.md, "Registry streams").

``Applier.apply(conn, data)`` applies one event on the caller's connection; the caller stores the
feed's position in the same transaction, so an event is applied once or not at all. What it
becomes (``domain.peer_events`` reads the event):

- ``indicator.reported`` / ``indicator.updated``: a submission through ``services.submit``, as the
  TAXII pull makes one: held by the org of the peer's assertion when this registry has an org of
  that slug, else by the feed's provider; under the feed name ``peer_events.copy_name`` gives
  (``stream:HOST``, …), with the assertion's TLP, confidence, labels, description, first seen,
  valid_until and grading (the feed's own where the event gives none);
- ``indicator.expired`` / ``indicator.delisted``: the copy of that assertion ends
  (``storage.standing.end``): ``valid_until`` the peer's end, and for a delisting ``end_reason``
  ``delisted`` (docs/design.md, "Listed means in force"); the end is this registry's event too;
- ``sighting.recorded``: ``services.sightings.record`` under the case reference ``stream:HOST…``,
  adding what the peer's count grew by since the copy's (or the event's ``added``);
- anything else, and what the peer holds from a stream of its own (``PeerEvent.second_hand``):
  read, not applied.

An event that cannot be applied (no value, a bad time or TLP) is a rejected row of the run; it
does not stop the feed.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection

from registry.config import Settings
from registry.domain import events as ev
from registry.domain import peer_events as pe
from registry.domain import same_file
from registry.domain.kinds import FILE_HASH, Value
from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.rows import label_tuple
from registry.domain.standing import DELISTED
from registry.ingest.catalogue import stream_base
from registry.services import events, sightings
from registry.services.errors import Invalid
from registry.services.lookup import assertion_dict
from registry.services.submit import (
    MAX_REJECT_SAMPLES,
    Provenance,
    Reject,
    Submission,
    SubmitReport,
    Submitter,
    clean_labels,
)
from registry.storage import aliases
from registry.storage import feeds as feed_store
from registry.storage import orgs as org_store
from registry.storage import sightings as sighting_store
from registry.storage import standing as standing_store
from registry.storage.allowlist import load_allowlist
from registry.storage.indicator_reads import assertions_for
from registry.storage.indicators import indicator_ids

APPLIED, SKIPPED, REJECTED = "applied", "skipped", "rejected"
_SUBMIT_COUNTS = ("new", "updated", "unchanged", "allowlisted", "rejected", "held")


def peer_host(feed: feed_store.FeedRow) -> str:
    """The peer as copies name it: the host (and port) of the feed's URL."""
    return urlsplit(stream_base(feed.url)).netloc


class Applier:
    """Applies one feed's events; ``report`` counts them as a run does (``read``: events read;
    ``new``/``updated``/``unchanged``: assertions and sightings written; ``expired``: copies
    ended; ``rejected``: events that could not be applied, with a sample)."""

    def __init__(self, feed: feed_store.FeedRow, settings: Settings) -> None:
        self.feed, self.settings = feed, settings
        self.host = peer_host(feed)
        self.report = SubmitReport()
        self.expired = 0

    def apply(self, conn: Connection, data: dict, now: datetime, *, seq: int | None = None) -> str:
        """Apply one event (its JSON; ``seq``: the SSE message's id) on ``conn``: applied,
        skipped or rejected. Database errors propagate: the caller's transaction rolls back."""
        self.report.read += 1
        try:
            event = pe.read_event(data, seq)
            if not event.applied or event.second_hand:
                return SKIPPED
            if event.type in pe.ASSERTION_TYPES:
                self._assert(conn, event, now)
            elif event.type in pe.END_TYPES:
                self._end(conn, event, now)
            else:
                self._sight(conn, event, now)
        except (pe.BadEvent, NormalizeError, Invalid) as exc:
            at = data.get("seq", seq) if isinstance(data, dict) else seq
            self._reject(at, data, str(exc))
            return REJECTED
        return APPLIED

    # -- what each type does -------------------------------------------------------------------
    def _holder(self, conn: Connection, source: str | None) -> org_store.Org:
        """The org a copy belongs to: the source's, when this registry has an org of that slug;
        else the feed's provider (orgs are never made from a peer's data)."""
        org = org_store.get(conn, source) if source else None
        return org or org_store.get(conn, self.feed.provider)

    def _assert(self, conn: Connection, event: pe.PeerEvent, now: datetime) -> None:
        feed, holder = self.feed, self._holder(conn, event.source)
        reliability, credibility = event.grading()
        options = feed.options
        provenance = Provenance(
            org=holder.slug, feed=pe.copy_name(self.host, event.source, holder.slug, event.text("feed")),
            tlp=event.tlp, confidence=feed.confidence, labels=clean_labels(feed.labels),
            reliability=options.get("reliability"), credibility=options.get("credibility"),
            review_days=self.settings.review_days)
        submission = Submission(
            value=event.value, kind=event.kind, labels=clean_labels(event.labels(), strict=False),
            confidence=event.whole("confidence", 0, 100), tlp=event.tlp, description=event.text("description"),
            valid_until=event.when("valid_until"), first_seen=event.when("first_seen"), reliability=reliability,
            credibility=credibility, line_no=event.seq)
        submitter = Submitter(conn, provenance, now=now, relist_days=self.settings.relist_days)
        with submitter:
            submitter.add(submission)
            done = submitter.finish()
        for name in _SUBMIT_COUNTS:
            setattr(self.report, name, getattr(self.report, name) + getattr(done, name))
        self.report.rejects += done.rejects[: max(0, MAX_REJECT_SAMPLES - len(self.report.rejects))]
        self.report.held_values += done.held_values

    def _end(self, conn: Connection, event: pe.PeerEvent, now: datetime) -> None:
        holder = self._holder(conn, event.source)
        value = self._value(conn, event)
        found = indicator_ids(conn, [value.value]).get(value.value)
        if event.type == ev.DELISTED:
            when, reason = event.time or now, DELISTED
        else:  # the peer's end: its valid_until (or when it says it ended), read as expired here
            when, reason = event.when("ended") or event.when("valid_until") or event.time or now, None
        holders = [holder]
        if holder.slug != self.feed.provider:  # copied before this registry had the source's org
            holders.append(org_store.get(conn, self.feed.provider))
        ended = []
        for org in holders if found is not None else ():
            feed_name = pe.copy_name(self.host, event.source, org.slug, event.text("feed"))
            ended = standing_store.end(conn, found, org.id, feed_name, min(when, now), reason, now)
            if ended:
                break
        if not ended:
            self.report.unchanged += 1  # no copy in force: it ended here already, or never came
            return
        self.expired += 1
        rows = [a for a in assertions_for(conn, [found]) if a.id in ended]
        events.emit(conn, [ev.NewEvent(type=event.type, time=now, tlp=a.tlp, source=a.source, org=a.source,
                                       kind=value.kind, value=value.value, labels=label_tuple(a.labels),
                                       body={"assertion": assertion_dict(a, now)}) for a in rows])

    def _sight(self, conn: Connection, event: pe.PeerEvent, now: datetime) -> None:
        holder = self._holder(conn, event.source)
        value = self._value(conn, event)
        case_ref = pe.copy_name(self.host, event.source, holder.slug, event.text("case_ref"), pe.MAX_CASE)
        added = event.whole("added", 1, sightings.MAX_COUNT)
        if added is None:  # the peer's count as it stands: what it grew by since the copy's
            total = event.whole("count", 1, sightings.MAX_COUNT) or 1
            added = total - sighting_store.count_of(conn, value.value, holder.id, case_ref)
        if added <= 0:
            self.report.unchanged += 1
            return
        last = event.when("last_seen") or event.time or now
        (status, _row, _lowered), _allowlisted = sightings.record(
            conn, holder, value, count=added, tlp=event.tlp, case_ref=case_ref, description=None,
            seen=event.when("first_seen") or last, now=now, allowlist=load_allowlist(conn), viewer=None,
            last_seen=last)
        setattr(self.report, status, getattr(self.report, status) + 1)

    # -- helpers -------------------------------------------------------------------------------
    def _value(self, conn: Connection, event: pe.PeerEvent) -> Value:
        """The event's value, canonical; a file hash as the file's indicator here holds it."""
        value = normalize_one(event.value, event.kind)
        if value.kind == FILE_HASH:
            targets, _pairs = aliases.resolve(conn, [value])
            value = same_file.plain(targets[value.value])
        return value

    def _reject(self, seq, data, reason: str) -> None:
        self.report.rejected += 1
        if len(self.report.rejects) < MAX_REJECT_SAMPLES:
            text = f"{data.get('type')} {data.get('value')}" if isinstance(data, dict) else str(data)
            self.report.rejects.append(Reject(seq if isinstance(seq, int) else None, text[:500], reason))
