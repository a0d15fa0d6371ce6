"""Events: the changes that matter, as receivers see them (docs/design.md, "Events and watches").

Pure: the event types, what an org shares of its lookups, and an event's JSON from its stored
fields. Which events an org receives (its watches, hits on its own indicators) is decided where
they are written (``services.events``); who may see one is the one TLP rule over the ``source``
and ``tlp`` of what it reveals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from registry.domain.kinds import Value
from registry.domain.times import iso

REPORTED = "indicator.reported"
UPDATED = "indicator.updated"
EXPIRED = "indicator.expired"
DELISTED = "indicator.delisted"
DISPUTED = "indicator.disputed"
SIGHTED = "sighting.recorded"
LOOKUP_HIT = "lookup.hit"
FEED_FAILED = "feed.failed"
FEED_FLAGGED = "feed.flagged"
WEBHOOK_DISABLED = "webhook.disabled"
OPERATION_MEMBER = "operation.member-added"  # a value put in an operation (docs/design.md, "Operations and relationships")
RELATIONSHIP = "relationship.recorded"  # a relationship stated (or its statement changed), one event per end

TYPES: tuple[str, ...] = (REPORTED, UPDATED, EXPIRED, DELISTED, DISPUTED, SIGHTED, LOOKUP_HIT, FEED_FAILED,
                          FEED_FLAGGED, WEBHOOK_DISABLED, OPERATION_MEMBER, RELATIONSHIP)

# About the receiver's own feeds and webhooks: no agency acted, so none is named.
OWN: tuple[str, ...] = (FEED_FAILED, FEED_FLAGGED, WEBHOOK_DISABLED)
AN_AGENCY = "an agency"  # who acted, as an org sharing its hits anonymously is shown

# What an org lets others learn of its lookups that hit their indicators (``registry org set ORG
# --share-hits``): its name, only that "an agency" looked, or nothing at all.
NAMED = "named"
ANONYMOUS = "anonymous"
NONE = "none"
SHARE_HITS: tuple[str, ...] = (NAMED, ANONYMOUS, NONE)
DEFAULT_SHARE_HITS = ANONYMOUS
# Lookups by one org that hit another's indicator raise at most one event per window (services.hits);
# a tally whose window opened more than TALLY_KEPT ago is purged by the daily job.
HIT_WINDOW = timedelta(hours=1)
TALLY_KEPT = timedelta(days=1)


@dataclass(slots=True)
class NewEvent:
    """An event to write. ``source``/``tlp``: the org and level of the assertion or sighting it
    reveals (visibility). ``org``: the acting org as receivers are shown it (None: anonymous, or
    no org acted). ``to_org_id``: addressed to that org alone. ``owners``: org ids that receive it
    because it touches their own indicator (the writer checked the actor could see it).
    ``indicator_id``: the indicator it is about, for routing to its owners."""

    type: str
    time: datetime
    tlp: str
    source: str | None = None
    org: str | None = None
    kind: str | None = None
    value: str | None = None
    labels: tuple[str, ...] = ()
    body: dict = field(default_factory=dict)
    to_org_id: int | None = None
    owners: tuple[tuple[int, str], ...] = ()  # (org id, slug)
    actor_id: int | None = None  # the acting org's id: never routed to itself as a hit
    # Orgs not routed to: they receive an event of their own about the same change (a dispute's
    # sources get one naming the disputer; the watchers' one does not).
    skip: frozenset[int] = frozenset()
    parsed: Value | None = None  # the canonical value as its writer holds it: routing need not parse it again


def shown(seq: int, type_: str, time, kind, value, org, tlp, body: str | dict, watches: str | tuple = "", *,
          case_ref: bool = False) -> dict:
    """An event's JSON: ``{"seq", "type", "time", "kind", "value", "org", "tlp", "watches", ...}``,
    the rest (assertion, sighting, count, …) from its stored body. ``case_ref``: the reader may see
    the case reference of the sighting it reveals (its own org's, as lookups show it); else the
    sighting is shown without it."""
    extra = json.loads(body) if isinstance(body, str) else dict(body)
    if isinstance(watches, str):
        watches = [w for w in watches.split(",") if w]
    out = {"seq": seq, "type": type_, "time": time if isinstance(time, str) else iso(time), "kind": kind,
           "value": value, "org": org, "tlp": tlp, "watches": list(watches)}
    for key, item in extra.items():
        out.setdefault(key, item)
    sighting = out.get("sighting")
    if not case_ref and isinstance(sighting, dict) and "case_ref" in sighting:
        out["sighting"] = {key: item for key, item in sighting.items() if key != "case_ref"}
    return out


def acted_by(type_: str, org: str | None) -> str | None:
    """Who acted, as a receiver reads it: the org's slug, "an agency" when it shares anonymously,
    None for an event about the receiver's own feed or webhook."""
    if org:
        return org
    return None if type_ in OWN else AN_AGENCY


def labels_text(labels) -> str:
    """Labels as stored (,a,b,): a label filter is a LIKE."""
    return "," + "".join(f"{label}," for label in labels)


def listed(text: str | None) -> tuple[str, ...]:
    """The members of a stored ,a,b, list."""
    return tuple(part for part in (text or "").split(",") if part)
