"""What every per-indicator export format writes from: a ``Listed`` indicator with the visible
assertions (``Claim``) the export selected, grouped from the reader's rows as they stream.

No SQL here: the rows are ``domain.rows.ExportRow`` (``ValueRow`` for the formats that list
values), read by name, times as stored (SQLite text or aware datetimes; ``domain.rows.as_time``
reads either). Nothing is converted until a writer asks for it, so the text export of a million
indicators reads a value and moves on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat

from registry.domain import standing
from registry.domain.grading import with_grades
from registry.domain.kinds import EXACT
from registry.domain.rows import ExportRow, ValueRow, as_time
from registry.domain.rows import label_tuple as labels_of
from registry.domain.scoring import Evidence, score
from registry.domain.times import iso
from registry.domain.tlp import RANK


def iso_text(value) -> str | None:
    """A stored time as ``2026-11-22T06:00:00Z`` (whole seconds, UTC), as the API writes times."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: "2026-11-22 06:00:00.123456", already UTC
        return f"{value[:10]}T{value[11:19]}Z"
    return iso(value)


@dataclass(frozen=True, slots=True)
class Claim:
    """One visible assertion: who said it, how sure, under which TLP."""

    source: str
    org_id: int
    feed: str | None
    confidence: int
    tlp: str
    labels: tuple[str, ...]
    description: str | None
    valid_until: object
    first_seen: object
    last_seen: object
    times_reported: int
    modified: object
    reliability: str | None = None
    credibility: int | None = None
    ended: tuple[str, str] | None = None  # (when, why) of an ended one (only with include_expired)

    def to_dict(self) -> dict:
        """The shape of an assertion in lookup answers (services.lookup.assertion_dict): the
        grading only when graded; an ended one with its ``ended`` time and ``why``, as lookup
        history shows it."""
        out = with_grades({
            "source": self.source, "feed": self.feed, "confidence": self.confidence, "tlp": self.tlp,
            "labels": list(self.labels), "description": self.description,
            "first_seen": iso_text(self.first_seen), "last_seen": iso_text(self.last_seen),
            "valid_until": iso_text(self.valid_until), "times_reported": self.times_reported,
        }, self.reliability, self.credibility)
        if self.ended is not None:
            out["ended"], out["why"] = self.ended
        return out


class Listed:
    """One exported indicator: its value and the assertions the export selected (``ValueRow``s,
    for the formats that list values, carry no claims); ``hashes``, a file's other hashes, when
    the export asked for them."""

    __slots__ = ("rows", "id", "kind", "value", "score", "hashes", "ended")

    def __init__(self, rows: list[ExportRow] | list[ValueRow]) -> None:
        first = rows[0]
        self.rows = rows
        self.id, self.kind, self.value = first.indicator_id, first.kind, first.value
        self.score: int | None = None
        self.hashes: list[str] = []
        # Per row, (when, why) of one that ended, else None (``scored`` judges it; an export
        # holds ended rows only when asked for: include_expired).
        self.ended: list | None = None

    @property
    def display(self) -> str | None:
        return self.rows[0].display

    @property
    def allowlisted(self) -> str | None:
        return self.rows[0].allowlisted

    @property
    def range(self) -> tuple[bytes, bytes]:
        """16-byte bounds (IPv4 mapped into IPv6), for IP indicators."""
        first = self.rows[0]
        return first.range_start, first.range_end

    def claims(self) -> list[Claim]:
        """By source, then feed, then (an org's rows in several write lanes) level and times: the
        same data gives the same order on either engine."""
        ended = self.ended or repeat(None)
        out = [Claim(r.source, r.org_id, r.feed or None, r.confidence, r.tlp, labels_of(r.labels), r.description,
                     r.valid_until, r.first_seen, r.last_seen, r.times_reported, r.modified, r.reliability,
                     r.credibility, gone)
               for r, gone in zip(self.rows, ended, strict=False)]
        if len(out) > 1:
            out.sort(key=lambda c: (c.source, c.feed or "", RANK[c.tlp], c.first_seen, c.modified))
        return out

    def summary(self) -> dict:
        """The provenance summary the csv and json formats carry (see docs/exports.md).

        Stored times compare as stored: SQLite's text sorts as the times do, PostgreSQL gives
        datetimes; one engine never mixes the two."""
        claims = self.claims()
        if len(claims) == 1:  # most indicators: one source said it once
            (c,) = claims
            sources, confidence, tlp, labels = [c.source], c.confidence, c.tlp, list(c.labels)
            first_seen, last_seen, valid_until, times = c.first_seen, c.last_seen, c.valid_until, c.times_reported
            reliability, credibility = c.reliability, c.credibility
        else:
            sources = sorted({c.source for c in claims})
            confidence = max(c.confidence for c in claims)
            # A row is as restricted as the most restricted assertion in it.
            tlp = max((c.tlp for c in claims), key=RANK.__getitem__)
            labels = sorted({label for c in claims for label in c.labels})
            first_seen = min(c.first_seen for c in claims)
            last_seen = max(c.last_seen for c in claims)
            untils = [c.valid_until for c in claims]
            # The latest end of validity; none when any assertion is open-ended.
            valid_until = None if None in untils else max(untils)
            times = sum(c.times_reported for c in claims)
            reliability, credibility = best_grades(claims)
        return {
            "kind": self.kind, "value": self.value, "display": self.display, "score": self.score,
            "sources": sources, "confidence": confidence, "tlp": tlp, "labels": labels,
            "first_seen": iso_text(first_seen), "last_seen": iso_text(last_seen), "valid_until": iso_text(valid_until),
            "times_reported": times, "allowlisted": self.allowlisted, "reliability": reliability,
            "credibility": credibility, "claims": claims,
        }


def best_grades(claims: Iterable[Claim]) -> tuple[str | None, int | None]:
    """The best reliability and credibility the claims give (A before F, 1 before 6; None where
    none gives one), as ``max_confidence`` is the highest confidence."""
    reliabilities, credibilities = [], []
    for c in claims:
        if c.reliability is not None:
            reliabilities.append(c.reliability)
        if c.credibility is not None:
            credibilities.append(c.credibility)
    return min(reliabilities, default=None), min(credibilities, default=None)


def group(rows: Iterable[ExportRow] | Iterable[ValueRow]) -> Iterator[Listed]:
    """Consecutive rows of one indicator as one ``Listed`` (the reader keeps them together)."""
    current: list = []
    current_id = None
    for row in rows:
        if row.indicator_id != current_id:
            if current:
                yield Listed(current)
            current, current_id = [row], row.indicator_id
        else:
            current.append(row)
    if current:
        yield Listed(current)


def scored(items: Iterable[Listed], *, now: datetime, half_lifes: dict[str, float] | None,
           min_score: int | None, ended_too: bool = False) -> Iterator[Listed]:
    """Each indicator with its score over the selected assertions in force (as the search API
    scores), leaving out those below ``min_score``. ``ended_too``: the rows may hold ended
    assertions (an export asked for them: include_expired), which weigh nothing and are marked
    (``Listed.ended``); else the reader selected only assertions in force.

    An indicator with one assertion scores by its kind, confidence, last report and end of
    validity alone, and the rows of one import run share those: such scores are remembered
    for the export (a large share of a csv export's time otherwise: docs/performance.md)."""
    single: dict[tuple, int] = {}
    for item in items:
        rows = item.rows
        current = rows
        if ended_too:
            item.ended = [_ended(r, now) for r in rows]
            if any(item.ended):
                current = [r for r, gone in zip(rows, item.ended, strict=True) if gone is None]
            else:
                item.ended = None
        key = None
        if len(current) == 1 and not item.allowlisted:
            r = current[0]
            key = (item.kind, r.confidence, r.last_seen, r.valid_until, r.reliability, r.credibility)
            item.score = single.get(key)
        if item.score is None:
            evidence = [Evidence(r.source, r.feed or None, item.kind, r.confidence, as_time(r.last_seen),
                                 as_time(r.valid_until), EXACT, reliability=r.reliability,
                                 credibility=r.credibility) for r in current]
            item.score, _ = score(evidence, now=now, half_lifes=half_lifes, allowlisted=item.allowlisted)
            if key is not None and len(single) < 65536:
                single[key] = item.score
        if min_score is None or item.score >= min_score:
            yield item


def _ended(row: ExportRow, now: datetime) -> tuple[str, str] | None:
    """(when, why) the row's assertion ended (``domain.standing``), None while in force."""
    end = standing.ending(as_time(row.valid_until), as_time(row.review_at), row.end_reason, now)
    return None if end is None else (iso(end[1]), end[0])
