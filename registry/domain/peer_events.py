"""Another registry's events as this one applies them (a ``registry-stream`` feed: docs/feeds.md,
"Registry streams").

Pure: an event's JSON (docs/api.md, "Events") read into a ``PeerEvent``, tolerant of the optional
fields a peer may leave out; which types are applied; the names under which the copies are kept
apart from this registry's own reports. ``services.stream_apply`` writes what this decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.domain import events as ev
from registry.domain import grading
from registry.domain.kinds import KINDS
from registry.domain.times import parse_time
from registry.domain.tlp import LEVELS

#: What a follower applies; every other type (lookup.hit, feed.*, indicator.disputed,
#: webhook.disabled) is the peer's own business and moves the position on, nothing more.
ASSERTION_TYPES = (ev.REPORTED, ev.UPDATED)
END_TYPES = (ev.EXPIRED, ev.DELISTED)
APPLIED = (*ASSERTION_TYPES, *END_TYPES, ev.SIGHTED)

PREFIX = "stream:"  # of a copy's feed name (and of a copied sighting's case reference)
MAX_NAME = 100  # assertion.feed's length
MAX_CASE = 200  # sighting.case_ref's length


class BadEvent(ValueError):
    """An event that cannot be applied as its type says (no value, an unknown TLP, …)."""


@dataclass(frozen=True, slots=True)
class PeerEvent:
    """One event of the peer, as far as applying it needs. ``source``: the org of the assertion
    or sighting it is about (the assertion's ``source``, else the event's ``org``); ``item``: that
    assertion or sighting as the peer showed it (empty when the event carries none)."""

    seq: int
    type: str
    time: datetime | None
    kind: str | None
    value: str | None
    tlp: str | None
    source: str | None
    item: dict

    @property
    def applied(self) -> bool:
        return self.type in APPLIED

    def text(self, name: str) -> str | None:
        value = self.item.get(name)
        return value.strip() or None if isinstance(value, str) else None

    def when(self, name: str) -> datetime | None:
        """A time field of the item (None when absent or not a time)."""
        raw = self.item.get(name)
        if not isinstance(raw, str) or not raw.strip():
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise BadEvent(f"{name} {raw[:40]!r} is not an ISO 8601 time") from None

    def whole(self, name: str, low: int, high: int) -> int | None:
        raw = self.item.get(name)
        if isinstance(raw, bool) or not isinstance(raw, int):
            return None
        if not low <= raw <= high:
            raise BadEvent(f"{name} {raw} is not from {low} to {high}")
        return raw

    def labels(self) -> tuple[str, ...]:
        raw = self.item.get("labels")
        return tuple(x for x in raw if isinstance(x, str)) if isinstance(raw, list) else ()

    def grading(self) -> tuple[str | None, int | None]:
        try:
            return grading.reliability(self.item.get("reliability")), grading.credibility(self.item.get("credibility"))
        except grading.GradeError as exc:
            raise BadEvent(str(exc)) from None

    @property
    def second_hand(self) -> bool:
        """The peer holds it from a stream of its own: applying it would echo between two registries
        that follow each other (docs/feeds.md, "Registry streams")."""
        feed = self.text("feed") or ""
        case = self.text("case_ref") or ""
        return feed.startswith(PREFIX) or case.startswith(PREFIX)


def read_event(data: dict, seq: int | None = None) -> PeerEvent:
    """An event's JSON as a ``PeerEvent``. ``seq``: the SSE message's ``id:`` when the data carries
    none. BadEvent for an event an applied type cannot use (unknown types are read, not applied)."""
    if not isinstance(data, dict):
        raise BadEvent("an event is a JSON object")
    raw_seq = data.get("seq", seq)
    if isinstance(raw_seq, bool) or not isinstance(raw_seq, int) or raw_seq < 0:
        raise BadEvent(f"seq {raw_seq!r} is not an event's sequence number")
    type_ = data.get("type")
    if not isinstance(type_, str):
        raise BadEvent("an event has a type")
    item = data.get("sighting" if type_ == ev.SIGHTED else "assertion")
    item = item if isinstance(item, dict) else {}
    source = item.get("source") if isinstance(item.get("source"), str) else data.get("org")
    event = PeerEvent(seq=raw_seq, type=type_, time=None, kind=data.get("kind"), value=data.get("value"),
                      tlp=data.get("tlp"), source=source if isinstance(source, str) and source else None, item=item)
    if not event.applied:
        return event
    if not isinstance(event.value, str) or not event.value.strip():
        raise BadEvent(f"a {type_} event names a value")
    if event.kind is not None and event.kind not in KINDS:
        raise BadEvent(f"kind {event.kind!r} is not one this registry keeps")
    tlp = item.get("tlp") if isinstance(item.get("tlp"), str) else event.tlp
    if tlp not in LEVELS:
        raise BadEvent(f"tlp {tlp!r} is not one of {', '.join(LEVELS)}")
    time = data.get("time")
    try:
        when = parse_time(time) if isinstance(time, str) else None
    except ValueError:
        raise BadEvent(f"time {str(time)[:40]!r} is not an ISO 8601 time") from None
    return PeerEvent(seq=raw_seq, type=type_, time=when, kind=event.kind, value=event.value.strip(), tlp=tlp,
                     source=event.source, item=item)


def copy_name(host: str, source: str | None, holder: str, remote: str | None, limit: int = MAX_NAME) -> str:
    """The feed name (``remote``: the peer's feed) or case reference (``remote``: the peer's case
    reference, when shown) a copy is kept under here: ``stream:HOST``, then ``@SOURCE`` when the
    copy is held by another org than its source (the source is no org here), then what names it at
    the peer. One copy per assertion or sighting of the peer, so ending one ends only its copy."""
    parts = [f"{PREFIX}{host}"]
    if source and source != holder:
        parts.append(f"@{source}")
    if remote:
        parts.append(remote)
    return "/".join(parts)[:limit]
