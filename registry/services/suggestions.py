"""Suggested links for one value (docs/design.md, "Suggested links"; the rules:
``registry.domain.suggestions``): the relationships a person might state, each with why, never
applied by themselves. Accepting one is stating it (``services.relationships.link``).

Everything a suggestion rests on is what the caller may see: the other value's listing (the
caller's own lookup of the value), sightings and submissions under the one TLP rule, so a
suggestion never reveals a hidden value, sighting or submission. A pair already linked by a
relationship the caller sees is not suggested.
"""

from __future__ import annotations

from datetime import datetime

from registry.domain import suggestions as rules
from registry.domain.kinds import SAME_NUMBER, URL
from registry.domain.rows import as_time
from registry.domain.suggestions import End
from registry.domain.times import iso
from registry.services.lookup import lookup
from registry.services.operations import viewer_of
from registry.services.relationships import _one as one_value
from registry.storage import cosubmissions, sightings
from registry.storage import indicators as ind_store
from registry.storage import relationships as relationship_store
from registry.storage.db import Database


def suggest(db: Database, value: str, by, *, region: str | None = None, now: datetime | None = None,
            half_lifes: dict[str, float] | None = None) -> dict:
    """``{"value", "kind", "suggestions": [{"source", "target", "type", "value", "kind", "listed",
    "score", "why": [{"rule", "text", …}]}], "truncated"}`` for ``value`` (read as a lookup reads
    it), strongest first, at most ``MAX_SUGGESTIONS`` (docs/api.md, "Suggested links")."""
    parsed = one_value(value, "value", region)  # as a relationship's end is read
    own = End(parsed.value, parsed.kind)
    viewer = viewer_of(by)
    with db.read() as conn:
        answer = lookup(conn, [own.value], viewer, kind=own.kind, now=now, half_lifes=half_lifes)[0]
        found = list(_from_lookup(own, answer))
        ids = ind_store.indicator_ids(conn, [own.value])
        own_id = ids.get(own.value)
        if own_id is not None:
            found += _same_case(conn, own_id, viewer)
            found += _together(conn, own_id, viewer)
        other_ids = ind_store.indicator_ids(conn, sorted({other.value for other, _ in found}))
        related: set[str] = set()
        if own_id is not None:
            linked = relationship_store.linked_to(conn, own_id, list(other_ids.values()), viewer)
            related = {v for v, i in other_ids.items() if i in linked}
        merged = rules.merged(own, found, related)
        shown = merged[:rules.MAX_SUGGESTIONS]
        answers = lookup(conn, [s.other.value for s in shown], viewer, now=now, half_lifes=half_lifes) if shown else []
    out = []
    for suggestion, other in zip(shown, answers, strict=True):
        item = suggestion.to_dict()
        item["listed"], item["score"] = bool(other.get("listed")), other.get("score", 0)
        out.append(item)
    return {"value": own.value, "kind": own.kind, "suggestions": out, "truncated": len(merged) > len(shown)}


def _from_lookup(own: End, answer: dict):
    """The same-number and url-host rules: the listed matches of the caller's lookup of ``own``."""
    for match in answer.get("matches", ()):
        if not match["assertions"]:  # sighted or ended only: not listed
            continue
        other = End(match["value"], match["kind"])
        if match["match"] == SAME_NUMBER:
            yield other, rules.same_number(own, other)
        elif own.kind == URL and match["match"] in rules.HOST_MATCHES:
            yield other, rules.host(match["match"], other)


def _same_case(conn, own_id: int, viewer) -> list[tuple[End, dict]]:
    rows = sightings.same_case(conn, own_id, viewer, cases=rules.MAX_CASES, per_case=rules.MAX_PER_CASE)
    return [(End(r.value, r.kind), rules.same_case(r.org, r.case_ref if viewer.reads_case_refs_of(r.org) else None,
                                                   iso(as_time(r.last_seen))))
            for r in rows]


def _together(conn, own_id: int, viewer) -> list[tuple[End, dict]]:
    rows = cosubmissions.together_with(conn, own_id, viewer, batches=rules.MAX_BATCHES,
                                       limit=rules.MAX_BATCHES * rules.MAX_TOGETHER)
    return [(End(r.value, r.kind), rules.submitted_together(r.org, iso(as_time(r.last)), r.times)) for r in rows]
