"""What each change announces (docs/design.md, "Events and watches"): the events of a batch of
reports, of a sighting, of assertions that ended (a snapshot's expiry, a review date, a
``valid_until``, a delisting), of a dispute filed, of a feed run that failed or was flagged.

Built here, written by ``services.events.emit`` on the change's own connection, so they commit
or roll back with it. Each reveals what its ``source`` and ``tlp`` allow under the one TLP rule:
the assertion or sighting it is about, as lookups show it (``services.lookup``'s dicts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain import events as ev
from registry.domain import standing
from registry.domain.kinds import Value
from registry.domain.rows import label_tuple
from registry.domain.tlp import AMBER, RANK, Viewer
from registry.services import events
from registry.services.lookup import assertion_dict, sighting_dict
from registry.storage import indicator_reads
from registry.storage.indicators import NEW, UPDATED


class Written(NamedTuple):
    """An assertion as a report wrote it, in the fields ``assertion_dict`` reads of a row."""

    source: str
    feed: str
    confidence: int
    tlp: str
    labels: str  # as stored: ,a,b,
    description: str | None
    first_seen: datetime
    last_seen: datetime
    valid_until: datetime | None
    times_reported: int
    reliability: str | None
    credibility: int | None


class Seen(NamedTuple):
    """A sighting as recorded, in the fields ``sighting_dict`` reads of a row."""

    source: str
    count: int
    tlp: str
    first_seen: datetime
    last_seen: datetime
    case_ref: str | None = None


# -- reports ---------------------------------------------------------------------------------
def reports(org: str, feed: str, items: Sequence, statuses: Sequence[str], before: dict[int, tuple],
            now: datetime) -> list[ev.NewEvent]:
    """The events of one upserted batch (``storage.indicators.upsert``'s items, statuses and
    ``before``): a new assertion is ``indicator.reported``, an updated one ``indicator.updated``;
    an unchanged one says nothing. Items that say the same share one body (an import's rows
    mostly do: it is built and serialised once)."""
    out: list[ev.NewEvent] = []
    bodies: dict[tuple, dict] = {}
    for n, status in enumerate(statuses):
        p = items[n]
        if status == NEW:
            kind, first_seen, times, description = ev.REPORTED, p.first_seen or now, 1, p.description
        elif status == UPDATED:
            first_seen, times, kept = before[n]
            kind, times = ev.UPDATED, times + 1
            description = p.description if p.description is not None else kept
        else:
            continue
        key = (p.confidence, p.tlp, p.labels, description, first_seen, p.valid_until, times, p.reliability,
               p.credibility)
        body = bodies.get(key)
        if body is None:
            body = bodies[key] = {"assertion": assertion_dict(Written(
                org, feed, p.confidence, p.tlp, ev.labels_text(p.labels), description, first_seen, now,
                p.valid_until, times, p.reliability, p.credibility))}
        out.append(ev.NewEvent(type=kind, time=now, tlp=p.tlp, source=org, org=org, kind=p.value.kind,
                               value=p.value.value, labels=p.labels, body=body, parsed=p.value))
    return out


def emit_with_owners(conn: Connection, news: list[ev.NewEvent], actor_id: int, actor: Viewer, now: datetime,
                     fresh: frozenset[str] = frozenset()) -> None:
    """Write ``news`` (one org's acts) routed to their watchers and to the other orgs with an
    assertion in force on each value that ``actor`` may see (``services.events.owners``: one read
    for them all). ``fresh``: values whose indicator the same transaction made, which no one
    else can hold."""
    if not news:
        return
    values = [e.value for e in news if e.value not in fresh] if fresh else [e.value for e in news]
    found = events.owners(conn, values, actor_id, actor, now) if values else {}
    for event in news:
        event.actor_id = actor_id
        if found:
            event.owners = found.get(event.value, ())
    events.emit(conn, news)


# -- a sighting ------------------------------------------------------------------------------
def sighting(org: str, value: Value, row: dict, count: int, now: datetime) -> ev.NewEvent:
    """``sighting.recorded``: the sighting ``row`` (as its writer was told it) as its own org's
    lookups show it, and ``count``, the times this report adds. Its case reference is stored, and
    shown to that org alone (``domain.events.shown``), as lookups do."""
    seen = Seen(org, row["count"], row["tlp"], row["first_seen"], row["last_seen"], row["case_ref"] or None)
    shown = sighting_dict(seen, Viewer(org))
    return ev.NewEvent(type=ev.SIGHTED, time=now, tlp=row["tlp"], source=org, org=org, kind=value.kind,
                       value=value.value, body={"sighting": shown, "count": count})


# -- assertions that ended -------------------------------------------------------------------
def ended(conn: Connection, assertion_ids: Iterable[int], now: datetime, *, type_: str = ev.EXPIRED,
          org: str | None = None, extra: dict | None = None) -> list[ev.NewEvent]:
    """One event per assertion of ``assertion_ids`` (just ended, in ``conn``'s transaction):
    ``why`` it ended (``domain.standing``) and the assertion as history shows it. ``org`` is who
    acted (a delisting's deciding org); None: the assertion's own org, whose data (its feed, its
    ``valid_until``, its review date) ended it."""
    ids = sorted(set(assertion_ids))
    out = []
    for a in indicator_reads.assertions_by_id(conn, ids) if ids else ():
        shown = assertion_dict(a, now)
        why = shown.get("why") or standing.ended(a.valid_until, a.review_at, a.end_reason, now)
        out.append(ev.NewEvent(type=type_, time=now, tlp=a.tlp, source=a.source,
                               org=a.source if org is None else org, kind=a.kind, value=a.value,
                               labels=label_tuple(a.labels), body={"why": why, "assertion": shown, **(extra or {})}))
    return out


def emit_ended(conn: Connection, assertion_ids: Sequence[int], now: datetime) -> int:
    """Write the ``indicator.expired`` events of assertions just ended (to their watchers, and to
    whoever follows every event it may see); how many."""
    news = ended(conn, assertion_ids, now)
    events.emit(conn, news)
    return len(news)


def least_restricted(assertions: Iterable):
    """Of rows with a ``tlp``, the one the most viewers may see (an event names one level)."""
    return min(assertions, key=lambda a: RANK[a.tlp])


# -- a dispute filed -------------------------------------------------------------------------
def disputed(dispute: dict, disputer: str, kind: str, value: str, in_force: Sequence, reason: str,
             evidence: str | None, now: datetime) -> list[ev.NewEvent]:
    """``indicator.disputed``, in two shapes (docs/design.md, "Events and watches"): to each
    other org with an assertion in force on the value (it must decide) one addressed to it alone,
    naming the disputer with the reason and evidence (the disputes rules show a source who
    disputed) and revealing its own assertion (its least restricted); and one to the watchers,
    naming no one, with no reason, revealing the least restricted assertion in force (whoever may
    see one may see the value is disputed). ``in_force``: rows of ``assertions_for`` with
    ``org_id``. The sources do not receive the watchers' one."""
    by_org: dict[int, list] = {}
    for a in in_force:
        by_org.setdefault(a.org_id, []).append(a)
    plain = {"id": dispute["id"], "status": dispute["status"], "since": dispute["since"]}
    out = []
    for org_id, rows in by_org.items():
        if rows[0].source == disputer:
            continue
        own = least_restricted(rows)
        out.append(ev.NewEvent(type=ev.DISPUTED, time=now, tlp=own.tlp, source=own.source, org=disputer,
                               kind=kind, value=value, labels=label_tuple(own.labels), to_org_id=org_id,
                               body={"dispute": {**plain, "reason": reason, "evidence": evidence},
                                     "assertion": assertion_dict(own)}))
    if in_force:
        shown = least_restricted(in_force)
        out.append(ev.NewEvent(type=ev.DISPUTED, time=now, tlp=shown.tlp, source=shown.source, kind=kind,
                               value=value, labels=label_tuple(shown.labels), body={"dispute": plain},
                               skip=frozenset(e.to_org_id for e in out)))
    return out


# -- feed runs -------------------------------------------------------------------------------
# A run's figures an event shows (the run row's own id and its sample rejects stay with the feed's
# runs listing).
_RUN_FIGURES = ("status", "trigger", "started", "finished", "http_status", "bytes", "rows", "new", "updated",
                "unchanged", "expired", "allowlisted", "rejected", "held", "duration")


def feed_run(type_: str, provider_id: int, provider: str, run: dict, now: datetime) -> ev.NewEvent:
    """``feed.failed`` or ``feed.flagged``, addressed to the feed's provider org (TLP:AMBER):
    the feed's name, the run's figures, its error or anomaly."""
    body = {"feed": run["feed"], "run": {name: run[name] for name in _RUN_FIGURES},
            "error": run["error"], "anomaly": run["anomaly"]}
    return ev.NewEvent(type=type_, time=now, tlp=AMBER, source=provider, org=provider, to_org_id=provider_id,
                       body=body)

