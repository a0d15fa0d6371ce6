"""One indicator's whole history, as a viewer may see it: the lookup answer for its value
(score, explanation, every match), its assertions and sightings, a timeline of what happened
when, and its STIX bundle. Everything comes through the lookup service and the STIX exporter,
so the page shows exactly what the API and the CLI would (the same visibility rule)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from registry.domain import standing
from registry.domain.kinds import EXACT, FILE_HASH, SAME_FILE
from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services.errors import Invalid
from registry.services.lookup import assertion_dict, in_force_and_ended, lookup
from registry.services.stix_export import indicator_bundle
from registry.storage import indicator_reads as store


def canonical(value: str, region: str | None) -> str:
    try:
        return normalize_one(value, None, region).value
    except NormalizeError as exc:
        raise Invalid(str(exc), field="value") from None


def indicator_history(conn: Connection, value: str, viewer: Viewer, *, region: str | None = None,
                      half_lifes: dict[str, float] | None = None, now: datetime | None = None) -> dict:
    """``answer`` (the lookup answer), ``assertions`` (in force), ``history`` (ended: ``ended``
    and ``why`` added) and ``sightings`` of the indicator itself (empty when it is only covered by
    a wider listing, or hidden), ``related`` (the other matches), ``file_hashes`` (every hash of a
    file, strongest first) and ``timeline``, oldest first.

    The indicator itself is the exact match, or else the file a file hash is another hash of
    (``same-file``: the same file, listed under its strongest hash)."""
    now = now or utcnow()
    answer = lookup(conn, [value], viewer, region=region, half_lifes=half_lifes, now=now)[0]
    if "error" in answer:
        raise Invalid(answer["error"], field="value")
    itself = _itself(answer["matches"]) or _itself(answer["history"])
    assertions, ended, sightings, indicator_id = [], [], [], None
    if itself is not None:
        row = store.find_by_values(conn, [itself["value"]])[0]
        indicator_id = row.id
        current, gone = in_force_and_ended(store.assertions_for(conn, [row.id]), now)
        for rows, out in ((current, assertions), (gone, ended)):
            for a in rows:
                if viewer.can_see(a.tlp, a.source):
                    out.append({**assertion_dict(a, now), "external_ref": a.external_ref})
        sightings = itself.get("sightings", [])
    return {
        "answer": answer,
        "indicator_id": indicator_id,
        "assertions": assertions,
        "history": ended,
        "sightings": sightings,
        "related": [m for m in answer["matches"] if m["value"] != (itself or {}).get("value")],
        "file_hashes": _file_hashes(answer, itself),
        "timeline": timeline([*assertions, *ended], sightings),
    }


def _itself(entries: list[dict]) -> dict | None:
    """The entry (a match, or a history entry) of the indicator itself: the exact match, or else
    the file a file hash is another hash of."""
    return next((m for m in entries if m["match"] == EXACT), None) or next(
        (m for m in entries if m["match"] == SAME_FILE), None)


def _file_hashes(answer: dict, shown: dict | None) -> list[str]:
    """Every hash of the file the page shows, strongest first, the queried one among them (empty
    for other kinds)."""
    if answer["kind"] != FILE_HASH:
        return []
    if shown is None:
        return [answer["value"]]
    return [shown["value"], *shown.get("hashes", ())]


def timeline(assertions: list[dict], sightings: list[dict]) -> list[dict]:
    """What happened when: first and last reports, expiry, sightings; oldest first."""
    events: list[tuple[str, int, dict]] = []

    def add(when: str | None, order: int, **event) -> None:
        if when:
            events.append((when, order, {"time": when, **event}))

    for a in assertions:
        via = f" via {a['feed']}" if a["feed"] else ""
        add(a["first_seen"], 0, source=a["source"], tlp=a["tlp"], what=f"first reported{via}")
        if a["last_seen"] != a["first_seen"]:
            add(a["last_seen"], 1, source=a["source"], tlp=a["tlp"],
                what=f"last reported{via} ({a['times_reported']} reports in all)")
        if a.get("why"):  # ended (docs/design.md, "Listed means in force")
            add(a["ended"], 2, source=a["source"], tlp=a["tlp"], what=f"report ended: {standing.WHY[a['why']]}")
        else:
            add(a["valid_until"], 2, source=a["source"], tlp=a["tlp"], what="report valid until")
    for s in sightings:
        case = f" in case {s['case_ref']}" if s.get("case_ref") else ""
        add(s["first_seen"], 0, source=s["source"], tlp=s["tlp"], what=f"first sighted{case}")
        if s["last_seen"] != s["first_seen"]:
            add(s["last_seen"], 1, source=s["source"], tlp=s["tlp"], what=f"last sighted{case} ({s['count']} in all)")
    events.sort(key=lambda e: (e[0], e[1]))
    return [event for _, _, event in events]


def stix_bundle(conn: Connection, viewer: Viewer, indicator_id: int) -> dict:
    """The indicator's STIX 2.1 bundle (the exporter's, TLP-filtered)."""
    return indicator_bundle(conn, viewer, indicator_id)
