"""Relationships between indicators: one org's statement that two values are linked
(docs/design.md, "Operations and relationships"). ``by`` as in ``services.operations``.

The same (source, target, type) stated again by the same org updates its statement (TLP,
confidence, description, last seen) instead of adding another; other orgs' statements of the same
link are their own rows, each visible under the one TLP rule by its own level.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from registry.domain import events as ev
from registry.domain import operations as rules
from registry.domain import roles
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.times import iso, utcnow
from registry.domain.tlp import RED, Viewer
from registry.services import announce
from registry.services.access import ON_SERVER
from registry.services.errors import Forbidden, Invalid, NotFound, Unparsable
from registry.services.operations import acting_org, text_field, tlp_field, viewer_of
from registry.services.orgs import require_org
from registry.storage import indicators as ind_store
from registry.storage import orgs as org_store
from registry.storage import relationships as store
from registry.storage.db import Database, next_seq

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


def _one(raw: str, field: str, region: str | None):
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid(f"{field} must be a value", field=field)
    try:
        values = normalize(raw, None, region)
    except NormalizeError as exc:
        raise Unparsable(f"{field}: {exc}", field=field) from None
    if len(values) != 1:
        raise Invalid(f"{field} must be one value, not {len(values)} (a range reads as several networks)", field=field)
    return values[0]


def link(db: Database, by, source: str, target: str, type_: str, *, tlp: str | None = None,
         confidence: int | None = None, description: str | None = None, org: str | None = None,
         region: str | None = None, seen: datetime | None = None, now: datetime | None = None,
         stix_id: str | None = None, actor: str | None = None) -> dict:
    """Record ``org``'s (the caller's) statement that ``source`` ``type`` ``target``; ``status``
    says whether it is ``new`` or ``updated`` that org's earlier statement of the same link."""
    now = now or utcnow()
    try:
        kind = rules.relationship_type(type_ or "")
    except ValueError as exc:
        raise Invalid(str(exc), field="type") from None
    left, right = _one(source, "source", region), _one(target, "target", region)
    if left.value == right.value:
        raise Invalid("a value is not linked to itself", field="target")
    level = tlp_field(tlp)
    confidence = rules.DEFAULT_CONFIDENCE if confidence is None else confidence
    if not isinstance(confidence, int) or isinstance(confidence, bool) or not 0 <= confidence <= 100:
        raise Invalid("confidence must be a whole number from 0 to 100", field="confidence")
    description = text_field(description, "description", rules.MAX_TEXT)
    slug = acting_org(by, org)
    if by is not ON_SERVER:
        if not roles.allows(by.role, roles.CONTRIBUTOR):
            raise Forbidden("linking values needs the contributor role", field="role")
        if not viewer_of(by).can_see(level, slug):
            raise Invalid(f"your key or user may not see TLP:{level.upper()}, so it cannot link at it", field="tlp")
    seen = seen or now
    with db.write() as conn:
        owner = require_org(conn, slug)
        uid, status = record(conn, owner.id, actor if by is ON_SERVER else by.actor, left, right, kind, tlp=level,
                             confidence=confidence, description=description, first_seen=seen, last_seen=seen,
                             now=now, stix_id=stix_id)
    return {"id": uid, "status": status, "source": left.value, "target": right.value, "type": kind, "org": slug,
            "tlp": level, "confidence": confidence}


def record(conn, owner_id: int, actor: str | None, left, right, kind: str, *, tlp: str, confidence: int,
           description: str | None, first_seen: datetime, last_seen: datetime, now: datetime,
           stix_id: str | None = None) -> tuple[str, str]:
    """Store one org's checked statement that ``left`` (a canonical ``Value``) ``kind`` ``right``
    (``link``, the STIX import): (its uid, NEW, UPDATED or UNCHANGED). A statement stored already
    takes the new TLP, confidence and description (when given), its times widened, and
    ``stix_id`` when it had none; one that changes nothing keeps its change number."""
    items = [ind_store.Pending(value=v, confidence=0, tlp=tlp, labels=()) for v in (left, right)]
    ids, _ = ind_store.ensure_indicators(conn, items, now)
    source_id, target_id = ids[left.value], ids[right.value]
    found = store.find(conn, source_id, target_id, kind, owner_id)
    if found is None:
        uid = str(uuid.uuid4())
        store.insert(conn, uid=uid, source_id=source_id, target_id=target_id, type=kind, org_id=owner_id, actor=actor,
                     tlp=tlp, confidence=confidence, description=description, first_seen=first_seen,
                     last_seen=last_seen, created=now, modified=now, stix_id=stix_id, seq=next_seq(conn))
        _announce(conn, owner_id, uid, left, right, kind, tlp, confidence, now)
        return uid, NEW
    values = dict(tlp=tlp, confidence=confidence,
                  description=description if description is not None else found.description,
                  first_seen=_earlier(first_seen, found.first_seen), last_seen=max(last_seen, found.last_seen),
                  stix_id=found.stix_id or stix_id)
    if all(getattr(found, name) == value for name, value in values.items()):
        return found.uid, UNCHANGED  # stated again as it stands (a bundle imported again)
    store.change(conn, found.id, **values, modified=now, seq=next_seq(conn))
    _announce(conn, owner_id, found.uid, left, right, kind, tlp, confidence, now)
    return found.uid, UPDATED


def _announce(conn, owner_id: int, uid: str, left, right, kind: str, tlp: str, confidence: int, now: datetime) -> None:
    """``relationship.recorded``, one event per end, to each end's watchers and owners, at the
    statement's level (docs/design.md, "Operations and relationships")."""
    org = org_store.slug_of(conn, owner_id)
    shown = {"id": uid, "source": left.value, "target": right.value, "type": kind, "org": org, "tlp": tlp,
             "confidence": confidence}
    announce.emit_with_owners(conn, [ev.NewEvent(
        type=ev.RELATIONSHIP, time=now, tlp=tlp, source=org, org=org, kind=end.kind, value=end.value,
        body={"relationship": shown}) for end in (left, right)], owner_id, Viewer(org, RED), now)


def _earlier(new: datetime, old: datetime) -> datetime:
    """``new`` when it is before ``old``'s millisecond: a statement read back from STIX (times to the
    millisecond) does not move its first sighting by the microseconds STIX drops."""
    return new if new < old.replace(microsecond=old.microsecond // 1000 * 1000) else old


def shown(row: store.RelationshipRow) -> dict:
    return {"id": row.uid, "source": row.source, "source_kind": row.source_kind, "target": row.target,
            "target_kind": row.target_kind, "type": row.type, "org": row.org, "tlp": row.tlp,
            "confidence": row.confidence, "description": row.description, "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen)}


MAX_LISTED = 1000


def of_value(db: Database, value: str, by, *, region: str | None = None, limit: int = 100) -> list[dict]:
    """The visible relationships with ``value`` (read as a lookup reads it) at either end, oldest
    first, at most ``limit``; none for a value the registry does not hold."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("give the value whose relationships to list", field="value")
    try:
        canonical = [v.value for v in normalize(value, None, region)]
    except NormalizeError as exc:
        raise Unparsable(str(exc), field="value") from None
    limit = max(1, min(limit, MAX_LISTED))
    with db.read() as conn:
        ids = ind_store.indicator_ids(conn, canonical)
        rows = store.touching(conn, list(ids.values()), viewer_of(by), limit=limit)
    return [shown(row) for row in rows]


def unlink(db: Database, uid: str, by) -> None:
    """Remove a statement: its org's contributors (or above), or an operator."""
    with db.write() as conn:
        row = store.by_uid(conn, uid) if isinstance(uid, str) and len(uid) <= 36 else None
        if row is None or not viewer_of(by).can_see(row.tlp, row.org):
            raise NotFound(f"no relationship {uid!r}", field="id")
        if by is not ON_SERVER and not roles.administers_every_org(by.role) and (
                by.org != row.org or not roles.allows(by.role, roles.CONTRIBUTOR)):
            raise Forbidden(f"only {row.org}'s contributors (or above) remove its statement", field="id")
        store.remove(conn, row.id)
