"""Scores 0–100 from visible assertions: decayed confidence, combined across agencies.

Per assertion ``confidence × 0.5^(age / half_life(kind)) × match weight``, a graded one's
confidence bounded by its credibility and its points weighed by its reliability
(``domain.grading``); per source org the strongest assertion counts (a feed and a direct report
from one agency are one opinion); across orgs ``100 × (1 − Π(1 − cᵢ/100))``, plus a bounded
boost for independent agencies and sightings. Every step is returned as an explanation a person
can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from registry.domain import grading
from registry.domain.kinds import (
    ACCOUNT_NUMBER,
    BANK_ACCOUNT,
    CIDR,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    EXACT,
    FILE_HASH,
    IPV4,
    IPV6,
    PARENT_DOMAIN,
    PHONE,
    PHONE_PREFIX,
    SAME_NUMBER,
    URL,
    URL_ACCOUNT,
    URL_HOST,
    USER_ACCOUNT,
)

# Days after which a report's weight halves, one entry per kind; REGISTRY_HALF_LIFES's default
# is written from it (registry.config). A kind missing here decays with UNLISTED_HALF_LIFE:
# tests hold every kind to an entry (docs/design.md, "A kind").
# An account, a wallet or a file hash names one thing for long (a mule account is used for
# months, a hash never changes meaning); docs/design.md ("The money and messaging kinds").
DEFAULT_HALF_LIFES = {
    IPV4: 30.0, IPV6: 30.0, URL: 60.0, DOMAIN: 120.0, EMAIL: 180.0, PHONE: 180.0,
    BANK_ACCOUNT: 365.0, CRYPTO_WALLET: 365.0, USER_ACCOUNT: 180.0, FILE_HASH: 730.0,
}
UNLISTED_HALF_LIFE = 90.0

AGENCY_BOOST = 5  # points per agency beyond the first
AGENCY_BOOST_MAX = 15
SIGHTING_BOOST = 2  # points per sighting
SIGHTING_BOOST_MAX = 10


@dataclass(frozen=True, slots=True)
class Evidence:
    """One visible assertion as it bears on a query."""

    source: str
    feed: str | None
    kind: str
    confidence: int
    last_seen: datetime
    valid_until: datetime | None
    match: str
    prefix_len: int | None = None  # of the matched indicator, for cidr / phone-prefix weighting
    reliability: str | None = None  # the Admiralty grading, when the source gave one
    credibility: int | None = None


def match_weight(match: str, kind: str, prefix_len: int | None) -> float:
    """How much a match of this type says about the query itself.

    A listed /24 says more about one of its addresses than a listed /12 does. Why each weight:
    docs/design.md ("Data flow of a lookup").
    """
    if match in (EXACT,):
        return 1.0
    if match in (URL_HOST, URL_ACCOUNT, SAME_NUMBER):
        return 0.9
    if match in (PARENT_DOMAIN, ACCOUNT_NUMBER):
        return 0.8
    if match == CIDR:
        host_bits = (32 if kind == IPV4 else 128) - (prefix_len or 0)
        if kind == IPV6:
            host_bits = max(0, host_bits - 64)  # a /64 is one subscriber
        return max(0.3, 1.0 - 0.05 * max(0, host_bits - 8))
    if match == PHONE_PREFIX:
        return 0.7
    return 1.0


class Term(NamedTuple):
    """One assertion decayed to ``now``: what it is worth before the match weighs it. It depends
    on the assertion alone, so a batch computes it once per matched indicator. (A tuple: a
    frozen dataclass costs several times as much to build, on the lookup path.)"""

    source: str
    feed: str | None
    confidence: int
    age_days: float
    decay: float  # 0.0 when expired
    expired: bool
    reliability: str | None = None  # the assertion's grading (domain.grading), None when ungraded
    credibility: int | None = None


def decayed(source: str, feed: str | None, kind: str, confidence: int, last_seen: datetime,
            valid_until: datetime | None, *, now: datetime, half_lifes: dict[str, float] | None = None,
            reliability: str | None = None, credibility: int | None = None) -> Term:
    age = (now - last_seen).total_seconds() / 86400
    expired = valid_until is not None and valid_until <= now
    factor = 0.0 if expired else 0.5 ** (max(0.0, age) / (half_lifes or DEFAULT_HALF_LIFES).get(kind, UNLISTED_HALF_LIFE))
    return Term(source, feed, confidence, age, factor, expired, reliability, credibility)


def _points(term: Term, weight: float) -> float:
    """What one assertion is worth against the query; an ungraded one exactly as before grading."""
    if term.reliability is None and term.credibility is None:
        return term.confidence * term.decay * weight
    return (grading.bounded_confidence(term.confidence, term.credibility) * term.decay * weight
            * grading.reliability_weight(term.reliability))


def combine(weighed: list[tuple[Term, str, float]], *, sightings: int = 0) -> tuple[int, list[dict]]:
    """The score and its explanation from ``(term, match type, match weight)`` triples."""
    if len(weighed) == 1 and not sightings:  # the common answer: one source, one match
        term, match, weight = weighed[0]
        points = _points(term, weight)
        return int(round(min(100.0, points))), [_item(term, match, weight, points)]
    explanation: list[dict] = []
    best_by_source: dict[str, float] = {}
    for term, match, weight in weighed:
        points = _points(term, weight)
        explanation.append(_item(term, match, weight, points))
        if points > best_by_source.get(term.source, -1.0):
            best_by_source[term.source] = points
    remaining = 1.0
    for points in best_by_source.values():
        remaining *= 1.0 - min(points, 100.0) / 100.0
    base = 100.0 * (1.0 - remaining)
    total = base
    if base > 0:
        agencies = sum(1 for p in best_by_source.values() if p > 0)
        if agencies > 1:
            boost = min(AGENCY_BOOST_MAX, AGENCY_BOOST * (agencies - 1))
            explanation.append({"reason": f"reported by {agencies} sources", "points": boost})
            total += boost
        if sightings:
            boost = min(SIGHTING_BOOST_MAX, SIGHTING_BOOST * sightings)
            explanation.append({"reason": f"sighted {sightings} time(s) in cases", "points": boost})
            total += boost
    return int(round(min(100.0, total))), explanation


def _item(term: Term, match: str, weight: float, points: float) -> dict:
    item = {
        "source": term.source, "feed": term.feed, "match": match, "confidence": term.confidence,
        "age_days": _rounded(term.age_days, 1), "decay": _rounded(term.decay, 3), "weight": _rounded(weight, 2),
        "points": _rounded(points, 1),
    }
    if term.expired:
        item["note"] = "expired (past valid_until)"
    if term.reliability is not None:
        item["reliability"] = term.reliability
        item["reliability_weight"] = grading.reliability_weight(term.reliability)
    if term.credibility is not None:
        item["credibility"] = term.credibility
        item["graded_confidence"] = grading.bounded_confidence(term.confidence, term.credibility)
    return item


_ROUNDED: dict[tuple[float, int], float] = {}


def _rounded(x: float, digits: int) -> float:
    """``round(x, digits)``, remembered: round() on a float is not free on the lookup path, and a
    batch's explanations repeat a handful of values (one age per import run)."""
    key = (x, digits)
    got = _ROUNDED.get(key)
    if got is None:
        if len(_ROUNDED) > 65536:
            _ROUNDED.clear()
        got = _ROUNDED[key] = round(x, digits)
    return got


def allowlisted_score(reason: str) -> tuple[int, list[dict]]:
    return 0, [{"reason": f"allowlisted: {reason}", "points": 0}]


def score(
    evidence: list[Evidence],
    *,
    now: datetime,
    sightings: int = 0,
    half_lifes: dict[str, float] | None = None,
    allowlisted: str | None = None,
) -> tuple[int, list[dict]]:
    """The score and its explanation. ``allowlisted`` is the allowlist's reason, if any."""
    if allowlisted:
        return allowlisted_score(allowlisted)
    return combine(
        [
            (decayed(ev.source, ev.feed, ev.kind, ev.confidence, ev.last_seen, ev.valid_until,
                     now=now, half_lifes=half_lifes, reliability=ev.reliability, credibility=ev.credibility),
             ev.match, match_weight(ev.match, ev.kind, ev.prefix_len))
            for ev in evidence
        ],
        sightings=sightings,
    )
