"""Lookups: one value or a batch, through the same code path.

Every query value becomes probe keys (``domain.keys``); one chunked ``value IN (…)`` query
finds every candidate; assertions and sightings the viewer may not see are dropped before
anything is scored, so an indicator seen only through hidden assertions is answered exactly
like an unknown value. Each answer lists the visible operations of what it matched and counts
its visible relationships (docs/design.md, "Operations and relationships").
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_

from registry.domain import same_file, standing
from registry.domain.allowlist import Allowlist, emergency_reason
from registry.domain.grading import with_grades
from registry.domain.keys import probe_keys
from registry.domain.kinds import FILE_HASH, KINDS, PHONE, USER_ACCOUNT, Value
from registry.domain.normalize import NormalizeError, normalize_one, phone_display
from registry.domain.normalize.account_rules import PLATFORMS, platform_name
from registry.domain.normalize.errors import Invalid as NotAPlatform
from registry.domain.rows import ASSERTION_FIELDS, LookupMatch, as_time, decode_labels
from registry.domain.scoring import allowlisted_score, combine, decayed, match_weight
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services import collector
from registry.services.errors import Invalid
from registry.storage import aliases
from registry.storage import indicator_reads as store
from registry.storage import relationships as relationship_store
from registry.storage import tables as t
from registry.storage.lookup_state import Picture, lookup_state
from registry.storage.standing import in_force
from registry.storage.visibility import visible

_KEY_OF_PROBE = operator.itemgetter(0)


def lookup(
    conn: Connection,
    queries: Sequence[str],
    viewer: Viewer,
    *,
    region: str | None = None,
    kind: str | None = None,
    platform: str | None = None,
    now: datetime | None = None,
    half_lifes: dict[str, float] | None = None,
) -> list[dict]:
    """One answer per query, in input order (docs/design.md, "Data flow of a lookup"), answered
    in this process however large the batch. Its reads are several statements: on a
    ``Database.read()`` connection they see one snapshot. Answers of one batch share their
    nested parts (an indicator's assertions, equal explanations): they are read-only.

    ``kind`` and ``platform`` read every query as that kind (a user-account of that platform),
    as an import's do; an unknown one raises ``Invalid`` naming it.
    """
    kind, platform = _options(kind, platform)
    with collector.paused(len(queries) >= 1000):
        return _lookup(conn, queries, viewer, region=region, kind=kind, platform=platform, now=now or utcnow(),
                       half_lifes=half_lifes)


def _options(kind, platform) -> tuple[str | None, str | None]:
    """The kind and platform of a lookup, checked before any value is read."""
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise Invalid(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", field="kind",
                      details={"allowed": list(KINDS)})
    if platform is None:
        return kind, None
    if not isinstance(platform, str):
        raise Invalid(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}", field="platform")
    try:
        platform = platform_name(platform)
    except NotAPlatform as exc:
        raise Invalid(exc.reason, field="platform", details={"allowed": list(PLATFORMS)}) from None
    if kind not in (None, USER_ACCOUNT):
        raise Invalid(f"a platform ({platform}) is given only with kind {USER_ACCOUNT}, not {kind}", field="platform")
    return USER_ACCOUNT, platform


def _lookup(conn, queries, viewer, *, region, kind, platform, now, half_lifes) -> list[dict]:
    allowlist, lengths, networks, disputes, picture = lookup_state(conn)

    parsed: list[Value | dict] = []
    probes: list[list[tuple[str, str]]] = []
    keys: set[str] = set()
    files: list[int] = []  # positions of the file-hash queries
    add_parsed, add_probes, add_keys = parsed.append, probes.append, keys.update  # per value: bound once
    for query in queries:
        if not isinstance(query, str):
            add_parsed({"query": query, "error": "a value must be a string"})
            add_probes(())
            continue
        try:
            value = normalize_one(query, kind, region, platform)
        except NormalizeError as exc:
            add_parsed(_unparsed(query, exc, kind))
            add_probes(())
            continue
        if value.kind == FILE_HASH:
            files.append(len(parsed))
        add_parsed(value)
        value_probes = probe_keys(value, lengths, networks)
        add_probes(value_probes)
        add_keys(map(_KEY_OF_PROBE, value_probes))
    if files:
        _same_file_probes(conn, files, parsed, probes, keys)

    rows = store.lookup_matches(conn, sorted(keys)) if keys else []
    found = _visible_fragments(conn, rows, viewer, now, half_lifes)
    if files:
        _file_hashes(conn, found)
    # Nothing is read for operations and relationships until one exists (lookup_state says).
    known = _Known(conn, rows, found, viewer, picture) if rows and (picture.members or picture.relationships) else None

    answers = []
    combined_scores: dict[tuple, tuple] = {}  # answers with several matches: equal parts, one score
    for query, value, value_probes in zip(queries, parsed, probes, strict=True):
        if isinstance(value, dict):
            answers.append(value)
            continue
        answers.append(_answer(query, value, value_probes, found, allowlist, combined_scores, disputes, known))
    return answers


class _Known:
    """The visible operations and relationship counts of a batch's candidate indicators (every
    indicator a probe key found, with or without assertions): one chunked read each, made only
    when any member or relationship exists, kept on the matched indicators (``_Found.picture``).
    An answer lists those of each indicator it matched and of its own value's indicator (``add``)."""

    __slots__ = ("unseen",)

    def __init__(self, conn: Connection, rows: list[LookupMatch], found: dict[str, _Found], viewer: Viewer,
                 picture: Picture) -> None:
        # Here, not at the top: a lookup (and `registry lookup`'s start-up) loads the operations'
        # writing side only once an operation exists.
        from registry.services.operations import memberships

        ids = {row.id: row.value for row in rows}
        operations = memberships(conn, list(ids), viewer) if picture.members else {}
        related = relationship_store.counts(conn, list(ids), viewer) if picture.relationships else {}
        # Per indicator: (its operations or None, its relationship count), on its _Found when
        # answers match it, else by value (a value's own indicator that nothing in force or
        # sighted, that the viewer may see, lists: a member no one reported yet, one whose
        # reports ended).
        self.unseen: dict[str, tuple] = {}
        for indicator_id in operations.keys() | related.keys():
            value = ids[indicator_id]
            got = (operations.get(indicator_id), related.get(indicator_id, 0))
            hit = found.get(value)
            if hit is not None and (hit.assertions or hit.sightings):
                hit.picture = got
            else:
                self.unseen[value] = got

    def add(self, answer: dict, value: Value, hits: list) -> None:
        own = self.unseen.get(value.value) if self.unseen else None
        if not hits or (len(hits) == 1 and own is None):  # most answers: one indicator, or none
            got = own if not hits else hits[0][0].picture
            if got is None:
                return
            operations, related = got  # its list is shared (read-only, as the answers' other parts)
        else:
            gots = [got for got in (own, *(hit.picture for hit, _ in hits)) if got is not None]
            shown: dict[str, dict] = {}
            for got in gots:
                for operation in got[0] or ():
                    shown.setdefault(operation["id"], operation)
            operations, related = list(shown.values()), sum(got[1] for got in gots)
        if operations:
            answer["operations"] = operations
        if related:
            answer["related"] = related


def _same_file_probes(conn: Connection, files: list[int], parsed: list, probes: list, keys: set[str]) -> None:
    """The file-hash queries' ``same-file`` probes (``domain.same_file.file_probes``): the other
    hashes a query gave, and the indicators its hashes are aliases of (one read, only when a
    query is a file hash)."""
    linked = aliases.aliased(conn, {h for n in files for h in same_file.hashes_of(parsed[n])})
    for n in files:
        more = same_file.file_probes(parsed[n], linked)
        if more:
            probes[n] = [*probes[n], *more]
            keys.update(map(_KEY_OF_PROBE, more))


def _file_hashes(conn: Connection, found: dict[str, _Found]) -> None:
    """The other hashes of each matched file (its aliases), which its match entries show."""
    files = {f.row.id: f for f in found.values() if f.row.kind == FILE_HASH}
    for indicator_id, hashes in aliases.aliases_of(conn, files).items():
        files[indicator_id].hashes = hashes


class _Found:
    """What a viewer may see of one matched indicator, built once per batch however many
    queries match it; the parts of an answer that depend only on the indicator and the match
    type are memoised per match type. ``assertions`` are those in force; ``ended`` those no
    longer (the answer's ``history``: docs/design.md, "Listed means in force")."""

    __slots__ = ("row", "assertions", "sightings", "terms", "sighting_count", "hashes", "ended", "picture",
                 "_by_match", "_history", "_scores")

    def __init__(self, row: LookupMatch, assertions: list, terms: list, sightings: list, scores: dict,
                 ended: list) -> None:
        self.row = row
        self.assertions = assertions
        self.terms = terms
        self.sightings = sightings
        self.sighting_count = sum(s["count"] for s in sightings)
        self.hashes: list[str] | None = None  # a file's other hashes
        self.picture: tuple | None = None  # (operations, relationship count): _Known
        self.ended = ended
        self._by_match: dict[str, tuple] = {}
        self._history: dict[str, list[dict]] = {}
        self._scores = scores  # the batch's: indicators with equal terms share one score and explanation

    def matched(self, match: str) -> tuple[dict, list, tuple[int, list[dict]]]:
        """(match entry, weighed terms, score when this is the query's only match)."""
        parts = self._by_match.get(match)
        if parts is None:
            row = self.row
            kind = row.kind
            entry = {"match": match, "kind": kind, "value": row.value}
            if row.display:
                entry["display"] = row.display
            if self.hashes:
                entry["hashes"] = self.hashes
            entry["assertions"] = self.assertions
            entry["sightings"] = self.sightings
            weight = match_weight(match, kind, row.prefix_len)
            weighed = [(term, match, weight) for term in self.terms]
            key = (*weighed, self.sighting_count)
            scored = self._scores.get(key)
            if scored is None:
                # With the score, a small number standing for ``key``: what answers with several
                # matches remember their combined score by (hashing it again costs more).
                scored = self._scores[key] = (*combine(weighed, sightings=self.sighting_count), len(self._scores))
            parts = self._by_match[match] = (entry, weighed, scored)
        return parts

    def history(self, match: str) -> list[dict]:
        """The ended assertions as the answer's ``history`` lists them, naming the match."""
        entries = self._history.get(match)
        if entries is None:
            head = {"match": match, "value": self.row.value}
            entries = self._history[match] = [{**head, **ended} for ended in self.ended]
        return entries


class _Times:
    """Driver time values → (datetime, ISO text), once per distinct value in a batch (its
    rows share a handful: one per import run)."""

    def __init__(self) -> None:
        self._seen: dict = {None: (None, None)}

    def __call__(self, raw):
        got = self._seen.get(raw)
        if got is None:
            dt = as_time(raw)
            got = self._seen[raw] = (dt, iso(dt))
        return got


def _visible_fragments(conn: Connection, rows: list[LookupMatch], viewer: Viewer, now,
                       half_lifes) -> dict[str, _Found]:
    """Canonical value → what the viewer may see of that matched indicator (``rows``: from
    ``store.lookup_matches``); indicators the viewer sees nothing of are left out."""
    if not rows:
        return {}
    by_id = {row.id: row for row in rows}
    ids = list(by_id)
    times = _Times()
    see = viewer.can_see
    assertions: dict[int, tuple[list, list]] = {}
    history: dict[int, list] = {}
    # A feed's rows share everything but the indicator: one shown dict, and one Term per
    # indicator kind, serve them all (None: hidden from this viewer). An ended assertion is
    # shown as history and never weighed (its ``why`` is not None).
    made: dict[tuple, tuple[dict, dict, str | None] | None] = {}
    scores: dict[tuple, tuple] = {}
    for row in rows:
        if row.assertion_id is None:  # no assertion
            continue
        said = row[ASSERTION_FIELDS]
        got = made.get(said, _UNMADE)
        if got is _UNMADE:
            got = made[said] = _shown(row, times, now) if see(row.tlp, row.source) else None
        if got is None:
            continue
        shown, terms_by_kind, why = got
        ind = row.id
        if why is not None:
            history.setdefault(ind, []).append(shown)
            continue
        kind = row.kind
        term = terms_by_kind.get(kind)
        if term is None:
            term = terms_by_kind[kind] = decayed(row.source, row.feed or None, kind, row.confidence,
                                                 times(row.last_seen)[0], times(row.valid_until)[0], now=now,
                                                 half_lifes=half_lifes, reliability=row.reliability,
                                                 credibility=row.credibility)
        have = assertions.get(ind)
        if have is None:
            assertions[ind] = ([shown], [term])
        else:
            have[0].append(shown)
            have[1].append(term)
    sightings = defaultdict(list)
    for s in store.sightings_for(conn, ids):
        if see(s.tlp, s.source):
            sightings[s.indicator_id].append(sighting_dict(s, viewer))
    found = {}
    for ind, row in by_id.items():
        shown, terms = assertions.get(ind) or ([], [])
        seen_by = sightings.get(ind)
        ended = history.get(ind)
        if shown or seen_by or ended:  # else hidden from this viewer: as if unknown
            found[row.value] = _Found(row, shown, terms, seen_by or [], scores, ended or [])
    return found


_UNMADE = object()


def _shown(row: LookupMatch, times: _Times, now: datetime) -> tuple[dict, dict, str | None]:
    """A match's assertion as answers show it, with an empty Term per kind map, and why it ended
    (None while in force: ``domain.standing``); an ended one with its ``ended`` time and ``why``."""
    valid_until = times(row.valid_until)
    shown = {
        "source": row.source, "feed": row.feed or None, "confidence": row.confidence, "tlp": row.tlp,
        "labels": decode_labels(row.labels), "description": row.description,
        "first_seen": times(row.first_seen)[1], "last_seen": times(row.last_seen)[1],
        "valid_until": valid_until[1], "times_reported": row.times_reported,
    }
    if row.reliability is not None or row.credibility is not None:
        with_grades(shown, row.reliability, row.credibility)
    return shown, {}, _with_end(shown, valid_until[0], times(row.review_at)[0], row.end_reason, now)


def _with_end(shown: dict, valid_until, review_at, end_reason, now: datetime) -> str | None:
    """Why the assertion ``shown`` shows ended (``domain.standing``), its ``ended`` time and ``why``
    added to ``shown``; None while it is in force."""
    end = standing.ending(valid_until, review_at, end_reason, now)
    if end is None:
        return None
    why, when = end
    shown["ended"], shown["why"] = iso(when), why
    return why


def _unparsed(query: str, exc: NormalizeError, kind: str | None) -> dict:
    # "191" asked as another kind is that kind's error, not an emergency number
    reason = emergency_reason(query) if kind in (None, PHONE) else None
    if reason:
        value = query.strip()
        return {
            "query": query, "kind": PHONE, "value": value, "listed": False, "score": 0,
            "explanation": [{"reason": f"allowlisted: {reason}", "points": 0}], "allowlisted": True,
            "allowlist_reason": reason, "matches": [], "history": [], "disputed": None, "operations": [],
            "related": 0,
        }
    return {"query": query, "error": str(exc)}


_UNLISTED = (0, [])
_NO_OPERATIONS: list = []  # shared by the answers without any (read-only, as their other parts)


def _answer(query, value, value_probes, found: dict[str, _Found], allowlist: Allowlist,
            combined_scores: dict[tuple, tuple], disputes: dict[int, dict], known: _Known | None):
    hits = []
    history: list[dict] = []
    for key, match in value_probes:
        hit = found.get(key)
        if hit is not None:
            if hit.ended:
                history += hit.history(match)
            if hit.assertions or hit.sightings:
                hits.append((hit, match))
    reason = allowlist.reason_for(value)
    if len(hits) == 1:
        entry, _, (points, explanation, _) = hits[0][0].matched(hits[0][1])
        matches = [entry]
        listed = bool(hits[0][0].assertions)
    elif hits:
        parts = [hit.matched(match) for hit, match in hits]  # in match order, as probes come
        matches = [entry for entry, _, _ in parts]
        key = tuple(scored[2] for _, _, scored in parts)
        combined = combined_scores.get(key)
        if combined is None:
            combined = combined_scores[key] = combine(
                [w for _, weighed, _ in parts for w in weighed], sightings=sum(hit.sighting_count for hit, _ in hits))
        points, explanation = combined
        listed = any(hit.assertions for hit, _ in hits)
    else:
        matches, (points, explanation), listed = [], _UNLISTED, False
    if reason:
        points, explanation = allowlisted_score(reason)
    # Listed means in force: some assertion the viewer sees has not ended (a match made of
    # sightings alone, or history alone, lists nothing: docs/design.md, "Listed means in force").
    answer = {
        "query": query,
        "kind": value.kind,
        "value": value.value,
        "listed": listed,
        "score": points,
        "explanation": explanation,
        "allowlisted": reason is not None,
        "matches": matches,
        "history": history,
        # The open dispute on what it matched (the first match that has one: its own value
        # first); the score stays as it is until a source decides (docs/design.md, "Disputes").
        "disputed": next((disputes[hit.row.id] for hit, _ in hits if hit.row.id in disputes), None)
        if disputes else None,
        "operations": _NO_OPERATIONS,
        "related": 0,
    }
    if known is not None:
        known.add(answer, value, hits)
    display = value.display or (phone_display(value.value) if value.kind == PHONE and not value.is_range else None)
    if display:
        answer["display"] = display
    if reason:
        answer["allowlist_reason"] = reason
    return answer


def assertion_dict(a, now: datetime | None = None) -> dict:
    """An assertion row (``indicator_reads.assertions_for``) as answers show it: the grading only
    when graded; with ``now``, an ended one (``domain.standing``) with its ``ended`` time and
    ``why``, as history shows it."""
    out = with_grades({
        "source": a.source,
        "feed": a.feed or None,
        "confidence": a.confidence,
        "tlp": a.tlp,
        "labels": decode_labels(a.labels),
        "description": a.description,
        "first_seen": iso(a.first_seen),
        "last_seen": iso(a.last_seen),
        "valid_until": iso(a.valid_until),
        "times_reported": a.times_reported,
    }, a.reliability, a.credibility)
    if now is not None:
        _with_end(out, a.valid_until, a.review_at, a.end_reason, now)
    return out


def in_force_and_ended(rows, now: datetime) -> tuple[list, list]:
    """Assertion rows split into those in force at ``now`` and those that ended."""
    current, ended = [], []
    for a in rows:
        (ended if standing.ended(a.valid_until, a.review_at, a.end_reason, now) else current).append(a)
    return current, ended


def sighting_dict(s, viewer: Viewer) -> dict:
    """A sighting row as answers show it to ``viewer``."""
    out = {
        "source": s.source,
        "count": s.count,
        "tlp": s.tlp,
        "first_seen": iso(s.first_seen),
        "last_seen": iso(s.last_seen),
    }
    if s.case_ref and viewer.reads_case_refs_of(s.source):
        out["case_ref"] = s.case_ref
    return out


def search_within(conn: Connection, cidr: str, viewer: Viewer, *, limit: int = 1000,
                  now: datetime | None = None) -> dict:
    """What is listed inside a network: indicators whose range lies within it with an assertion
    in force (``domain.standing``; their ended ones are not shown)."""
    try:
        network = normalize_one(cidr, None)
    except NormalizeError as exc:
        raise Invalid(str(exc), field="within") from None
    if network.range_start is None:
        raise Invalid(f"{cidr!r} is not an IP network (give a CIDR such as 203.0.113.0/24)", field="within")
    now = now or utcnow()
    clause = and_(visible(viewer, t.assertion.c.tlp, t.organization.c.slug), in_force(now))
    rows = store.within(conn, network.range_start, network.range_end, limit=limit + 1, visible_clause=clause)
    truncated = len(rows) > limit
    rows = rows[:limit]
    shown = defaultdict(list)
    if rows:
        for a in in_force_and_ended(store.assertions_for(conn, [r.id for r in rows]), now)[0]:
            if viewer.can_see(a.tlp, a.source):
                shown[a.indicator_id].append(a)
    results = [
        {"kind": r.kind, "value": r.value, "allowlisted": r.allowlisted is not None,
         "assertions": [assertion_dict(a) for a in shown[r.id]]}
        for r in rows
    ]
    return {"within": network.value, "count": len(results), "truncated": truncated, "results": results}
