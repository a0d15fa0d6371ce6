"""Disputes and delisting (docs/design.md, "Disputes and delisting"; the rules in
``domain.disputes``): anyone who may see a value listed disputes it; each source org decides
for its own assertions (a registry operator for any); ``delist`` ends them (``domain.standing``:
``valid_until`` now, ``end_reason`` delisted, a new change number), ``uphold`` keeps them; the
dispute closes when no org with an assertion in force is left to decide. A report of a value
delisted less than ``REGISTRY_RELIST_DAYS`` ago is held by the submit path (``services.submit``).

Each function takes ``by``: the caller (a ``Principal``), or ``ON_SERVER`` for the server's
command line, which acts as an operator. The web layer and the CLI audit what these do.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection

from registry.domain import disputes as rules
from registry.domain import events as ev
from registry.domain import roles, standing
from registry.domain.kinds import EXACT, SAME_FILE
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services import announce, events
from registry.services.access import ON_SERVER
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound, given_text
from registry.services.lookup import lookup
from registry.services.orgs import require_org
from registry.storage import disputes as store
from registry.storage import indicator_reads
from registry.storage.db import Database

MAX_TEXT = 4000  # characters of a reason, evidence or note, as stored
MAX_LISTED = 1000  # disputes in one listing, newest first


def _viewer(by) -> Viewer:
    return Viewer.operator() if by is ON_SERVER else by.viewer


def _operator(by) -> bool:
    return by is ON_SERVER or roles.administers_every_org(by.role)


def _text(value, name: str, *, required: bool = False) -> str | None:
    text = given_text(value, name, limit=MAX_TEXT)
    if text is None and required:
        raise Invalid(f"{name} is required: say why", field=name)
    return text


def _in_force(a, now: datetime) -> bool:
    return standing.ended(a.valid_until, a.review_at, a.end_reason, now) is None


# -- disputing -------------------------------------------------------------------------------
def open_dispute(db: Database, value: str, *, reason, evidence=None, by, region: str | None = None,
                 kind: str | None = None, platform: str | None = None, now: datetime | None = None) -> dict:
    """Dispute ``value`` (normalised as a lookup normalises it) as ``by``'s org: ``{"id",
    "value", "kind", "status", "since"}``. A value with no assertion ``by`` may see is unknown
    (NotFound, the same answer either way); one whose visible assertions all ended has nothing
    to dispute, and one already disputed names the open dispute (Conflict)."""
    if by is ON_SERVER:
        raise Invalid("a dispute is filed by an org's user or key (the API or the web page)")
    reason, evidence = _text(reason, "reason", required=True), _text(evidence, "evidence")
    now = now or utcnow()
    viewer = by.viewer
    with db.write() as conn:
        indicator_id, canonical, kind = _disputed_indicator(conn, value, viewer, region, kind, platform)
        visible = [a for a in store.assertions_on(conn, [indicator_id]) if viewer.can_see(a.tlp, a.source)]
        if not visible:  # seen only through sightings, or not at all: as if unknown
            raise NotFound(_not_listed(canonical), field="value")
        if not any(_in_force(a, now) for a in visible):
            raise Conflict(f"{canonical} is not listed now (every report of it you may see has ended): there is "
                           "nothing to dispute", field="value")
        existing = store.open_on(conn, indicator_id)
        if existing is not None:
            raise Conflict(f"{canonical} is already disputed: dispute {existing.uid} is open since "
                           f"{iso(existing.created)}", field="value", details={"id": existing.uid})
        uid = str(uuid.uuid4())
        store.insert(conn, uid=uid, indicator_id=indicator_id, org_id=require_org(conn, by.org).id, actor=by.actor,
                     reason=reason, evidence=evidence, now=now)
        dispute = {"id": uid, "value": canonical, "kind": kind, "status": rules.OPEN, "since": iso(now)}
        # Its events (docs/design.md, "Events and watches"): each source hears who disputed and why.
        in_force = [a for a in indicator_reads.assertions_for(conn, [indicator_id]) if _in_force(a, now)]
        events.emit(conn, announce.disputed(dispute, by.org, kind, canonical, in_force, reason, evidence, now))
    return dispute


def _not_listed(value: str) -> str:
    return f"{value} is not listed (or nothing listed of it is visible to you): there is nothing to dispute"


def _disputed_indicator(conn: Connection, value, viewer: Viewer, region, kind, platform) -> tuple[int, str, str]:
    """(indicator id, canonical value, kind) of what ``value`` names, found as a lookup finds it:
    the value itself, or the file a hash belongs to."""
    answer = lookup(conn, [value], viewer, region=region, kind=kind, platform=platform)[0]
    if "error" in answer:
        raise Invalid(answer["error"], field="value")
    itself = next((m for m in answer["matches"] if m["match"] in (EXACT, SAME_FILE)), None)
    if itself is None:
        wider = [m["value"] for m in answer["matches"]]
        if wider:
            raise NotFound(f"{answer['value']} is not listed itself, only under {', '.join(wider)}: dispute that "
                           "listing", field="value", details={"listed_under": wider})
        # Only ended reports of it (its history: docs/design.md, "Listed means in force"): the
        # caller refuses it as not listed now.
        itself = next((h for h in answer["history"] if h["match"] in (EXACT, SAME_FILE)), None)
        if itself is None:
            raise NotFound(_not_listed(answer["value"]), field="value")
    row = indicator_reads.find_by_values(conn, [itself["value"]])[0]
    return row.id, row.value, row.kind


# -- reading ---------------------------------------------------------------------------------
def list_disputes(db: Database, by, *, status: str | None = None, dispute_days: int = 10,
                  now: datetime | None = None) -> list[dict]:
    """The disputes ``by`` may see (``domain.disputes.sees``), newest first, at most MAX_LISTED."""
    if status is not None and status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}, not {status!r}", field="status")
    with db.read() as conn:
        # Disputes are people's acts, a few: all of a status are read, and those the caller may
        # not see left out before the newest MAX_LISTED are kept.
        shown = _shown(conn, store.listing(conn, status=status), by, dispute_days, now or utcnow())
    return shown[:MAX_LISTED]


def get_dispute(db: Database, uid: str, by, *, dispute_days: int = 10, now: datetime | None = None) -> dict:
    with db.read() as conn:
        return _one(conn, uid, by, dispute_days, now or utcnow())


def _one(conn: Connection, uid: str, by, dispute_days: int, now: datetime) -> dict:
    row = store.by_uid(conn, uid) if isinstance(uid, str) else None
    shown = _shown(conn, [row], by, dispute_days, now) if row is not None else []
    if not shown:
        raise NotFound(f"no dispute {uid!r} (or none you may see)", field="id")
    return shown[0]


def _shown(conn: Connection, rows: list, by, dispute_days: int, now: datetime) -> list[dict]:
    """The disputes of ``rows`` as ``by`` may see them (the others left out)."""
    viewer, operator = _viewer(by), _operator(by)
    assertions: dict[int, list] = {}
    for a in store.assertions_on(conn, [r.indicator_id for r in rows]):
        assertions.setdefault(a.indicator_id, []).append(a)
    decisions: dict[int, list] = {}
    for d in store.decisions_for(conn, [r.id for r in rows]):
        decisions.setdefault(d.dispute_id, []).append(d)
    out = []
    for row in rows:
        on_value = assertions.get(row.indicator_id, [])
        visible = [a for a in on_value if viewer.can_see(a.tlp, a.source)]
        sources = [a.source for a in visible]
        if not (operator or rules.sees(viewer, row.org, sources)):
            continue
        decided = decisions.get(row.id, [])
        seen_decisions = [d for d in decided if operator or d.org == viewer.org
                          or (d.tlp is not None and viewer.can_see(d.tlp, d.org))]
        in_force = [a.source for a in (on_value if operator else visible) if _in_force(a, now)]
        dispute = {
            "id": row.uid, "value": row.value, "kind": row.kind, "status": row.status, "since": iso(row.created),
            "closed": iso(row.closed), "overdue": rules.overdue(row.status, row.created, row.flagged, dispute_days, now),
            "flagged": iso(row.flagged), "outcome": rules.outcome(d.decision for d in seen_decisions),
            "awaiting": rules.awaiting(in_force, (d.org for d in decided)) if row.status == rules.OPEN else [],
            "decisions": [_decision(d, operator or d.org == viewer.org) for d in seen_decisions],
        }
        if operator or rules.is_party(viewer, row.org, sources):
            dispute.update(reason=row.reason, evidence=row.evidence, disputer={"org": row.org, "actor": row.actor})
        out.append(dispute)
    return out


def _decision(d, own: bool) -> dict:
    shown = {"org": d.org, "decision": d.decision, "note": d.note, "decided": iso(d.decided), "feed": d.feed or None}
    if own:  # who in another agency decided is that agency's business
        shown["actor"] = d.actor
    return shown


# -- deciding --------------------------------------------------------------------------------
def decide(db: Database, uid: str, decision, note=None, *, by, org: str | None = None, actor: str | None = None,
           dispute_days: int = 10, now: datetime | None = None) -> dict:
    """``by``'s org decides for its own assertions in force on the disputed value (an operator
    for ``org``'s, or without ``org`` for every org's, closing the dispute). The dispute as it
    now stands, with ``applied``: what this decision did (``decision``, ``orgs``,
    ``assertions``: how many)."""
    if decision not in rules.DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(rules.DECISIONS)}, not {decision!r}", field="decision")
    note = _text(note, "note")
    operator = _operator(by)
    if not operator and not roles.allows(by.role, roles.CONTRIBUTOR):
        raise Forbidden(f"deciding a dispute needs the contributor role; you have {by.role}",
                        details={"needed_role": roles.CONTRIBUTOR, "role": by.role})
    actor = actor or (by.actor if by is not ON_SERVER else None)
    now = now or utcnow()
    viewer = _viewer(by)
    with db.write() as conn:
        row = store.by_uid(conn, uid) if isinstance(uid, str) else None
        on_value = store.assertions_on(conn, [row.indicator_id]) if row is not None else []
        if row is None or not (operator or rules.sees(viewer, row.org, [a.source for a in on_value
                                                                         if viewer.can_see(a.tlp, a.source)])):
            raise NotFound(f"no dispute {uid!r} (or none you may see)", field="id")
        if org is not None and not operator and org != by.org:
            raise Forbidden(f"you decide for your own org ({by.org}) only, not {org}: each org decides for its "
                            "own assertions (the registry's operators for any)", field="org")
        if row.status != rules.OPEN:
            raise Conflict(f"dispute {uid} is closed (since {iso(row.closed)}): open a new one to dispute "
                           f"{row.value} again", field="id")
        decided_orgs = {d.org for d in store.decisions_for(conn, [row.id])}
        in_force = [a for a in on_value if _in_force(a, now)]
        deciding = org if org is not None else (None if operator else by.org)
        if deciding is None:  # an operator, for every org: delisting ends every one, upholding the undecided
            targets = in_force if decision == rules.DELIST else [a for a in in_force if a.source not in decided_orgs]
        else:
            targets = [a for a in in_force if a.source == deciding and (operator or viewer.can_see(a.tlp, a.source))]
            if not targets:
                if deciding in decided_orgs:
                    raise Conflict(f"{deciding} has decided on dispute {uid} already, and has no assertion in force "
                                   f"on {row.value} left to decide for", field="decision")
                raise Forbidden(f"{deciding} has no assertion in force on {row.value}"
                                f"{'' if operator else ' that you may see'}: each org decides for its own "
                                "assertions (the registry's operators for any)", field="org")
            if decision == rules.UPHOLD and deciding in decided_orgs:
                raise Conflict(f"{deciding} has upheld its assertions on {row.value} already (dispute {uid})",
                               field="decision")
        if decision == rules.DELIST:
            store.delist(conn, [a.id for a in targets], now)
            _announce_delisting(conn, row, targets, by, note, now)
        store.add_decisions(conn, [
            {"dispute_id": row.id, "assertion_id": a.id, "org_id": a.org_id, "actor": actor, "decision": decision,
             "note": note, "decided": now} for a in targets])
        decided_orgs |= {a.source for a in targets}
        ended_now = {a.id for a in targets} if decision == rules.DELIST else set()
        still = [a.source for a in in_force if a.id not in ended_now]
        if deciding is None or rules.closes(still, decided_orgs):
            store.close(conn, row.id, now)
        shown = _one(conn, uid, by, dispute_days, now)
    return {**shown, "applied": {"decision": decision, "orgs": sorted({a.source for a in targets}),
                                 "assertions": len(targets)}}


def _announce_delisting(conn: Connection, row, targets: list, by, note: str | None, now: datetime) -> None:
    """``indicator.delisted`` for each assertion a decision delisted (its source and TLP; ``org``
    the deciding org, none for the server's command line), in the decision's transaction: to the
    watchers, the org that disputed, the assertion's own org when another decided for it, and the
    other orgs with an assertion in force on the value that the decider may see, each if it may
    see the delisted assertion (``services.events.route``)."""
    acting = None if by is ON_SERVER else by.org
    actor_id = require_org(conn, acting).id if acting is not None else None
    disputer = (require_org(conn, row.org).id, row.org)
    others = events.owners(conn, [row.value], actor_id, _viewer(by), now).get(row.value, ())
    own = {a.source: (a.org_id, a.source) for a in targets}
    news = announce.ended(conn, [a.id for a in targets], now, type_=ev.DELISTED, org=acting,
                          extra={"dispute": {"id": row.uid, "decision": rules.DELIST, "note": note}})
    for event in news:
        event.actor_id = actor_id
        event.owners = tuple(dict.fromkeys((disputer, own[event.source], *others)))
    events.emit(conn, news)


# -- overdue disputes ------------------------------------------------------------------------
def flag_overdue(db: Database, days: int, *, now: datetime | None = None) -> dict[str, list[dict]]:
    """Flag the disputes open longer than ``days`` that were not flagged yet, each to the orgs
    still to decide (``flagged``: ``{"id", "value", "since", "orgs"}`` each, for the caller to
    audit with ``record_flags``); close those no org is left to decide on (every assertion in
    force at the dispute ended on its own since: ``closed``)."""
    now = now or utcnow()
    flagged, closed = [], []
    with db.write() as conn:
        rows = store.to_flag(conn, now - timedelta(days=days))
        assertions: dict[int, list] = {}
        for a in store.assertions_on(conn, [r.indicator_id for r in rows]):
            assertions.setdefault(a.indicator_id, []).append(a)
        decided: dict[int, set[str]] = {}
        for d in store.decisions_for(conn, [r.id for r in rows]):
            decided.setdefault(d.dispute_id, set()).add(d.org)
        for row in rows:
            in_force = [a.source for a in assertions.get(row.indicator_id, []) if _in_force(a, now)]
            orgs = rules.awaiting(in_force, decided.get(row.id, ()))
            entry = {"id": row.uid, "value": row.value, "since": iso(row.created), "orgs": orgs}
            if orgs:
                flagged.append((row.id, entry))
            else:
                store.close(conn, row.id, now)
                closed.append(entry)
        store.set_flagged(conn, [n for n, _ in flagged], now)
    return {"flagged": [entry for _, entry in flagged], "closed": closed}


def record_flags(log, result: dict[str, list[dict]], *, actor: str) -> None:
    """Audit ``flag_overdue``'s result: one ``dispute-overdue`` event per org still to decide, in
    that org's rows, so its admins find it in their audit listing."""
    for entry in result["flagged"]:
        for org in entry["orgs"]:
            log.record("dispute-overdue", org=org, actor=actor, subject={"id": entry["id"], "value": entry["value"],
                                                                        "since": entry["since"]})
    for entry in result["closed"]:
        log.record("dispute-closed", actor=actor, subject={"id": entry["id"], "value": entry["value"],
                                                           "why": "no report in force is left to decide on"})


def decision_subject(decided: dict, decision: str, note: str | None) -> dict:
    """The ``decision`` audit event's subject for a dispute as ``decide`` answered it (the API,
    the page and the command record the same)."""
    applied = decided["applied"]
    return {"id": decided["id"], "value": decided["value"], "decision": decision, "orgs": applied["orgs"],
            "note": note, "closed": decided["status"] == rules.CLOSED}
