"""Scores 0–100 from visible assertions: decayed confidence, combined across agencies.

Per assertion ``confidence × 0.5^(age / half_life(kind)) × match weight``; per source org the
strongest assertion counts (a feed and a direct report from one agency are one opinion);
across orgs ``100 × (1 − Π(1 − cᵢ/100))``, plus a bounded boost for independent agencies and
sightings. Every step is returned as an explanation a person can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.domain.kinds import CIDR, EXACT, PARENT_DOMAIN, PHONE_PREFIX, URL_HOST

DEFAULT_HALF_LIFES = {"ipv4": 30.0, "ipv6": 30.0, "url": 60.0, "domain": 120.0, "email": 180.0, "phone": 180.0}

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


def match_weight(match: str, kind: str, prefix_len: int | None) -> float:
    """How much a match of this type says about the query itself.

    A listed /24 says more about one of its addresses than a listed /12 does.
    """
    if match in (EXACT,):
        return 1.0
    if match == URL_HOST:
        return 0.9
    if match == PARENT_DOMAIN:
        return 0.8
    if match == CIDR:
        host_bits = (32 if kind == "ipv4" else 128) - (prefix_len or 0)
        if kind == "ipv6":
            host_bits = max(0, host_bits - 64)  # a /64 is one subscriber
        return max(0.3, 1.0 - 0.05 * max(0, host_bits - 8))
    if match == PHONE_PREFIX:
        return 0.7
    return 1.0


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
        return 0, [{"reason": f"allowlisted: {allowlisted}", "points": 0}]
    half_lifes = half_lifes or DEFAULT_HALF_LIFES
    explanation: list[dict] = []
    best_by_source: dict[str, float] = {}
    for ev in evidence:
        age = (now - ev.last_seen).total_seconds() / 86400
        expired = ev.valid_until is not None and ev.valid_until <= now
        factor = 0.0 if expired else 0.5 ** (max(0.0, age) / half_lifes.get(ev.kind, 90.0))
        weight = 1.0 if ev.match == EXACT else match_weight(ev.match, ev.kind, ev.prefix_len)
        points = ev.confidence * factor * weight
        item = {
            "source": ev.source, "feed": ev.feed, "match": ev.match, "confidence": ev.confidence,
            "age_days": round(age, 1), "decay": round(factor, 3), "weight": round(weight, 2),
            "points": round(points, 1),
        }
        if expired:
            item["note"] = "expired (past valid_until)"
        explanation.append(item)
        if points > best_by_source.get(ev.source, -1.0):
            best_by_source[ev.source] = points
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
