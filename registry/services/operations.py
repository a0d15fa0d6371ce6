"""Operations: create, add and remove members, notes, close and reopen, show and list
(docs/design.md, "Operations and relationships").

``by`` is the acting caller (a ``Principal``) or ``ON_SERVER`` (the CLI's operator, who acts for
``org``, and for an operation's owner org when changing it; ``actor`` names them in the rows).
An operation the caller may not see (its TLP and owner under the one rule) does not exist for
them: every path answers it as unknown. Changing one takes a contributor (or above) of its owner
org who may see it, or an operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from registry.domain import events as ev
from registry.domain import operations as rules
from registry.domain import roles
from registry.domain import tlp as tlp_mod
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services import announce
from registry.services.access import ON_SERVER
from registry.services.errors import Forbidden, Invalid, NotFound, Unparsable
from registry.services.lookup import lookup
from registry.services.orgs import require_org
from registry.services.submit import clean_labels
from registry.storage import indicators as ind_store
from registry.storage import operations as store
from registry.storage import relationships as relationship_store
from registry.storage.db import Database, next_seq

MAX_LIST = 1000
MAX_LABELS = 1000  # characters of an operation's labels together, as stored
# What ``show`` holds at most: its members (oldest first; ``member_count`` says how many there
# are), the relationships touching them, and the newest items of its activity.
SHOWN_MEMBERS = 1000
SHOWN_RELATIONSHIPS = 500
SHOWN_ACTIVITY = 25


def viewer_of(by) -> Viewer:
    return Viewer.operator() if by is ON_SERVER else by.viewer


def _actor(by, actor: str | None) -> str | None:
    """Who acts, as the rows record them: the key or user; the CLI's ``actor`` (``cli:USER``)."""
    return actor if by is ON_SERVER else by.actor


def label_text(labels: Sequence[str]) -> str:
    """Labels as stored: ``,a,b,`` (so one label is found by ``LIKE '%,a,%'``)."""
    return "," + "".join(f"{label}," for label in labels)


def tlp_field(value: str | None) -> str:
    if value is None:
        return tlp_mod.DEFAULT_TLP
    try:
        return tlp_mod.parse_tlp(value)
    except ValueError as exc:
        raise Invalid(str(exc), field="tlp") from None


def text_field(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise Invalid(f"{field} must not be empty", field=field)
        return None
    value = value.strip()
    if len(value) > limit:
        raise Invalid(f"{field} is at most {limit} characters", field=field)
    return value


def acting_org(by, org: str | None) -> str:
    if by is ON_SERVER:
        if not org:
            raise Invalid("the operator acts for an org: give --org", field="org")
        return org
    if org and org != by.org and not roles.administers_every_org(by.role):
        raise Forbidden(f"you act for {by.org}, not {org}", field="org")
    return org or by.org


def visible_operation(conn: Connection, uid: str, by) -> store.OperationRow:
    """The operation ``uid`` if ``by`` may see it; else NotFound, as for an unknown id."""
    row = store.by_uid(conn, uid) if isinstance(uid, str) and len(uid) <= 36 else None
    if row is None or not viewer_of(by).can_see(row.tlp, row.org):
        raise NotFound(f"no operation {uid!r}", field="id")
    return row


def _may_change(row: store.OperationRow, by) -> None:
    if by is ON_SERVER or roles.administers_every_org(by.role):
        return
    if by.org != row.org or not roles.allows(by.role, roles.CONTRIBUTOR):
        raise Forbidden(f"only {row.org}'s contributors (or above) change its operation", field="id")


def create(db: Database, by, *, name: str, description: str | None = None, tlp: str | None = None,
           labels: Sequence[str] = (), org: str | None = None, now: datetime | None = None,
           stix_id: str | None = None, stix_type: str | None = None, actor: str | None = None) -> dict:
    """Make an operation owned by ``org`` (the caller's by default); answers its ``summary``."""
    now = now or utcnow()
    name = text_field(name, "name", rules.MAX_NAME, required=True)
    description = text_field(description, "description", rules.MAX_TEXT)
    level = tlp_field(tlp)
    labels = clean_labels(labels)
    if len(label_text(labels)) > MAX_LABELS:
        raise Invalid(f"labels must be at most {MAX_LABELS} characters together", field="labels")
    slug = acting_org(by, org)
    if by is not ON_SERVER and not viewer_of(by).can_see(level, slug):
        raise Invalid(f"your key or user may not see TLP:{level.upper()}, so it cannot make an operation at it",
                      field="tlp")
    with db.write() as conn:
        owner = require_org(conn, slug)
        uid = insert(conn, owner.id, _actor(by, actor), name=name, description=description,
                     tlp=level, labels=labels, now=now, stix_id=stix_id, stix_type=stix_type)
        return summary(store.by_uid(conn, uid))


def insert(conn: Connection, owner_id: int, actor: str | None, *, name: str, description: str | None, tlp: str,
           labels: Sequence[str], now: datetime, stix_id: str | None = None, stix_type: str | None = None) -> str:
    """Store a new open operation of checked fields (``create``, the STIX import); its uid."""
    uid = str(uuid.uuid4())
    store.insert(conn, uid=uid, org_id=owner_id, actor=actor, name=name, description=description, tlp=tlp,
                 labels=label_text(labels), status=rules.OPEN, created=now, modified=now, first_activity=now,
                 last_activity=now, stix_id=stix_id, stix_type=stix_type, seq=next_seq(conn))
    return uid


def add_values(db: Database, uid: str, values: Sequence[str], by, *, region: str | None = None,
               kind: str | None = None, now: datetime | None = None, actor: str | None = None) -> dict:
    """Add ``values`` (any kind; each read as a lookup reads it) as members: ``added``, ``already``
    (members before) and ``rejected`` (``{"value", "error"}``, the rest land)."""
    if not values:
        raise Invalid("give at least one value", field="values")
    if len(values) > rules.MAX_MEMBERS_PER_REQUEST:
        raise Invalid(f"at most {rules.MAX_MEMBERS_PER_REQUEST} values at once", field="values")
    now = now or utcnow()
    parsed, rejected = [], []
    for raw in values:
        try:
            parsed.extend(normalize(raw, kind, region))
        except NormalizeError as exc:
            rejected.append({"value": raw, "error": str(exc)})
    with db.write() as conn:
        row = visible_operation(conn, uid, by)
        _may_change(row, by)
        added, already = add_members(conn, row, parsed, row.org_id if by is ON_SERVER else _org_id(conn, by),
                                     _actor(by, actor), now)
    return {"id": uid, "added": added, "already": already, "rejected": rejected}


def add_members(conn: Connection, row: store.OperationRow, parsed, org_id: int, actor: str | None,
                now: datetime) -> tuple[list[str], list[str]]:
    """Add canonical ``Value``s as members added by ``org_id`` (``add_values``, the STIX import):
    (added, already members)."""
    items = [ind_store.Pending(value=value, confidence=0, tlp=row.tlp, labels=()) for value in parsed]
    ids, _ = ind_store.ensure_indicators(conn, items, now)
    by_id = {ids[value.value]: value.value for value in parsed}
    new = store.add_members(conn, row.id, list(by_id), org_id, actor, now)
    if new:
        store.change(conn, row.id, modified=now, last_activity=now, seq=next_seq(conn))
    added = [by_id[i] for i in new]
    if added:  # announced to the values' watchers and owners, at the operation's level
        kinds = {value.value: value.kind for value in parsed}
        labels = tuple(label for label in row.labels.split(",") if label)
        shown = {"id": row.uid, "name": row.name, "org": row.org, "tlp": row.tlp}
        announce.emit_with_owners(conn, [ev.NewEvent(
            type=ev.OPERATION_MEMBER, time=now, tlp=row.tlp, source=row.org, org=row.org, kind=kinds[value],
            value=value, labels=labels, body={"operation": shown}) for value in added],
            row.org_id, Viewer(row.org, tlp_mod.RED), now)
    return added, [v for i, v in by_id.items() if i not in set(new)]


def _org_id(conn: Connection, by) -> int:
    return require_org(conn, by.org).id


def remove_value(db: Database, uid: str, value: str, by, *, region: str | None = None,
                 now: datetime | None = None) -> None:
    now = now or utcnow()
    try:
        canonical = [v.value for v in normalize(value, None, region)]
    except NormalizeError as exc:
        raise Unparsable(str(exc), field="value") from None
    with db.write() as conn:
        row = visible_operation(conn, uid, by)
        _may_change(row, by)
        ids = ind_store.indicator_ids(conn, canonical)
        removed = [store.remove_member(conn, row.id, i) for i in ids.values()]
        if not any(removed):
            raise NotFound(f"{value!r} is not a member of operation {uid}", field="value")
        store.change(conn, row.id, modified=now, last_activity=now, seq=next_seq(conn))


def set_status(db: Database, uid: str, status: str, by, *, now: datetime | None = None) -> dict:
    """Close or reopen; answers the operation's ``summary`` as it now stands."""
    if status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    now = now or utcnow()
    with db.write() as conn:
        row = visible_operation(conn, uid, by)
        _may_change(row, by)
        if row.status != status:
            store.change(conn, row.id, status=status, closed=now if status == rules.CLOSED else None, modified=now,
                         last_activity=now, seq=next_seq(conn))
            row = store.by_uid(conn, uid)
    return summary(row)


def add_note(db: Database, uid: str, text: str, by, *, now: datetime | None = None,
             actor: str | None = None) -> dict:
    """Add a note (as the caller's org; the operator's as the owner's); answers it as ``show`` does."""
    now = now or utcnow()
    text = text_field(text, "text", rules.MAX_TEXT, required=True)
    with db.write() as conn:
        row = visible_operation(conn, uid, by)
        _may_change(row, by)
        org = row.org if by is ON_SERVER else by.org
        store.add_note(conn, row.id, row.org_id if by is ON_SERVER else _org_id(conn, by), _actor(by, actor), text,
                       now)
        store.change(conn, row.id, modified=now, last_activity=now)
    return {"org": org, "actor": _actor(by, actor), "text": text, "created": iso(now)}


def summary(row: store.OperationRow) -> dict:
    """An operation as lists show it."""
    return {"id": row.uid, "name": row.name, "org": row.org, "tlp": row.tlp,
            "labels": [label for label in row.labels.split(",") if label], "status": row.status,
            "description": row.description, "created": iso(row.created), "modified": iso(row.modified),
            "first_activity": iso(row.first_activity) if row.first_activity else None,
            "last_activity": iso(row.last_activity) if row.last_activity else None,
            "closed": iso(row.closed) if row.closed else None}


def listing(db: Database, by, *, text: str | None = None, status: str | None = None, label: str | None = None,
            org: str | None = None, value: str | None = None, region: str | None = None,
            limit: int = 100) -> list[dict]:
    """The operations ``by`` may see, newest first: ``text`` in the name or description, ``value``
    a member (read as a lookup reads it, ``region`` for national numbers)."""
    if status is not None and status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    limit = max(1, min(limit, MAX_LIST))
    with db.read() as conn:
        value_ids = None
        if value is not None:
            try:
                canonical = [v.value for v in normalize(value, None, region)]
            except NormalizeError as exc:
                raise Unparsable(str(exc), field="value") from None
            value_ids = list(ind_store.indicator_ids(conn, canonical).values())
        rows = store.listing(conn, viewer_of(by), text=text, status=status, label=label, org=org,
                             value_ids=value_ids, limit=limit)
    return [summary(row) for row in rows]


def memberships(conn: Connection, indicator_ids: Sequence[int], viewer: Viewer) -> dict[int, list[dict]]:
    """Indicator id → the visible operations holding it (``{"id", "name", "org", "tlp"}``): what a
    lookup answer lists."""
    out: dict[int, list[dict]] = {}
    for indicator_id, uid, name, org, tlp, _ in store.of_indicators(conn, indicator_ids, viewer):
        out.setdefault(indicator_id, []).append({"id": uid, "name": name, "org": org, "tlp": tlp})
    return out


def show(db: Database, uid: str, by, *, half_lifes: dict[str, float] | None = None,
         now: datetime | None = None) -> dict:
    """The operation in full as ``by`` may see it (docs/api.md, "Operations"): its ``summary``,
    ``members`` (each with what the caller's own lookup of it shows: ``listed``, ``score``, the
    ``reported_by`` orgs of the visible assertions in force, ``related`` and the other operations
    it is in, ``also_in``), the visible ``relationships`` touching them, ``notes`` and
    ``activity``. One read snapshot; the members' lookups are one batch with the caller's viewer,
    so a member assertion the caller may not see shows nowhere here."""
    # Here, not at the top: services.relationships imports this module.
    from registry.services.relationships import shown as relationship_shown

    viewer = viewer_of(by)
    with db.read() as conn:
        row = visible_operation(conn, uid, by)
        members = store.members(conn, row.id, limit=SHOWN_MEMBERS)
        count = store.member_count(conn, row.id) if len(members) == SHOWN_MEMBERS else len(members)
        answers = lookup(conn, [m.value for m in members], viewer, now=now, half_lifes=half_lifes) if members else []
        links = relationship_store.touching(conn, [m.indicator_id for m in members], viewer,
                                            limit=SHOWN_RELATIONSHIPS + 1)
        notes = store.notes(conn, row.id)
    shown_members = [_member(m, answer, row.uid, by) for m, answer in zip(members, answers, strict=True)]
    return {
        **summary(row),
        "member_count": count,
        "members": shown_members,
        "relationships": [relationship_shown(r) for r in links[:SHOWN_RELATIONSHIPS]],
        "relationships_truncated": len(links) > SHOWN_RELATIONSHIPS,
        "notes": [{"org": n.org, "actor": _actor_shown(by, n.org, n.actor), "text": n.text, "created": iso(n.created)}
                  for n in notes],
        "activity": _activity(members, answers, links[:SHOWN_RELATIONSHIPS], notes),
    }


def _actor_shown(by, org: str, actor: str | None) -> str | None:
    """Which key or user of ``org`` did it: told to that org and to operators only (as a
    dispute's decisions tell theirs)."""
    if by is ON_SERVER or roles.administers_every_org(by.role) or by.org == org:
        return actor
    return None


def _member(m: store.MemberRow, answer: dict, uid: str, by) -> dict:
    out = {"value": m.value, "kind": m.kind, "added_by": m.org, "actor": _actor_shown(by, m.org, m.actor),
           "added": iso(m.added), "listed": bool(answer.get("listed")), "score": answer.get("score", 0),
           "reported_by": sorted({a["source"] for match in answer.get("matches", ()) for a in match["assertions"]}),
           "related": answer.get("related", 0),
           "also_in": [o for o in answer.get("operations", ()) if o["id"] != uid]}
    if answer.get("display"):
        out["display"] = answer["display"]
    return out


def _activity(members, answers: list[dict], links, notes) -> list[dict]:
    """The newest ``SHOWN_ACTIVITY`` things that happened to the operation and its members, newest
    first, each ``{"time", "type", "org", …}``: ``added`` (a member), ``reported`` (an assertion in
    force on what a member's lookup matched, at its last report), ``sighted``, ``ended`` (an
    assertion of its history), ``linked`` (a relationship, at its last seen) and ``note``. Made of
    what the caller sees here, so it reveals nothing more."""
    items: dict[tuple, dict] = {}

    def put(item: dict) -> None:
        items.setdefault((item["type"], item["time"], item.get("value"), item.get("target"), item["org"]), item)

    for m in members:
        put({"time": iso(m.added), "type": "added", "value": m.value, "org": m.org})
    for answer in answers:
        for match in answer.get("matches", ()):
            for a in match["assertions"]:
                put({"time": a["last_seen"], "type": "reported", "value": match["value"], "org": a["source"],
                     "tlp": a["tlp"]})
            for s in match["sightings"]:
                put({"time": s["last_seen"], "type": "sighted", "value": match["value"], "org": s["source"],
                     "tlp": s["tlp"], "count": s["count"]})
        for h in answer.get("history", ()):
            put({"time": h["ended"], "type": "ended", "value": h["value"], "org": h["source"], "tlp": h["tlp"],
                 "why": h["why"]})
    for r in links:
        put({"time": iso(r.last_seen), "type": "linked", "value": r.source, "target": r.target,
             "relationship": r.type, "org": r.org, "tlp": r.tlp})
    for n in notes:
        put({"time": iso(n.created), "type": "note", "org": n.org})
    return sorted(items.values(), key=lambda item: item["time"], reverse=True)[:SHOWN_ACTIVITY]
