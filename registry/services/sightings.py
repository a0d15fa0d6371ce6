"""Sightings: an agency saw a value in one of its cases.

``record`` is the one way a sighting is written (the API's, the CLI's and the STIX import's):
the indicator made if it is new, then the sighting added or counted (storage.sightings).
``MAX_COUNT`` is the one bound of a sighting's count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from registry.domain import same_file
from registry.domain.allowlist import Allowlist
from registry.domain.kinds import FILE_HASH, Value
from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.times import iso, utcnow
from registry.domain.tlp import RED, Viewer
from registry.services import announce
from registry.services.errors import Invalid
from registry.services.lowered import Lowered
from registry.services.orgs import require_org
from registry.storage import aliases
from registry.storage import indicators as ind_store
from registry.storage import sightings as store
from registry.storage.allowlist import load_allowlist
from registry.storage.db import Database

MAX_COUNT = 1_000_000  # times one sighting may count


def counted(count) -> int:
    """A count as an import takes it (it does not refuse a bundle for one): a whole number
    held within 1..MAX_COUNT, anything else 1."""
    return min(max(count, 1), MAX_COUNT) if isinstance(count, int) and not isinstance(count, bool) else 1


def record(conn: Connection, owner, value: Value, *, count: int, tlp: str, case_ref: str, description: str | None,
           seen: datetime, now: datetime, allowlist: Allowlist, viewer: Viewer | None,
           stix_id: str | None = None, last_seen: datetime | None = None) -> tuple[store.Sighted, str | None]:
    """Record that ``owner`` (an org row) saw the canonical ``value``: (status, row, the TLP it
    lowered, see storage.sightings.upsert) and the value's allowlist reason, if any."""
    allowlisted = allowlist.reason_for(value)
    pairs = ()
    if value.kind == FILE_HASH:  # the file's indicator, under whichever hash it is listed (domain.same_file)
        targets, pairs = aliases.resolve(conn, [value])
        value = same_file.plain(targets[value.value])
    pending = ind_store.Pending(value=value, confidence=0, tlp=tlp, labels=(), allowlisted=allowlisted)
    ids, _ = ind_store.ensure_indicators(conn, [pending], now)
    if pairs:
        aliases.add(conn, pairs)
    sighted = store.upsert(
        conn, indicator_id=ids[value.value], org_id=owner.id, case_ref=case_ref, count=count, tlp=tlp,
        description=description, seen=seen, now=now, stix_id=stix_id, last_seen=last_seen, viewer=viewer,
        org=owner.slug,
    )
    # Its event, in the same transaction: to the watchers and the other orgs whose assertion in
    # force on the value the writer may see (docs/design.md, "Events and watches").
    announce.emit_with_owners(conn, [announce.sighting(owner.slug, value, sighted.row, count, now)], owner.id,
                              viewer or Viewer(owner.slug, RED), now)
    return sighted, allowlisted


def add_sighting(
    db: Database,
    *,
    org: str,
    value: str,
    case_ref: str | None = None,
    count: int = 1,
    tlp: str = "amber",
    description: str | None = None,
    seen: datetime | None = None,
    region: str | None = None,
    viewer: Viewer | None = None,
) -> dict:
    """Record that ``org`` saw ``value``; the answer the writer may be given.

    ``viewer`` is who writes (a key's or user's; None: the operator). A sighting the writer may
    not see is left as it is and the answer is that of a value never sighted (see
    ``domain.lanes``). An update that lowers the sighting's TLP says so in ``tlp_lowered``
    (``{"from", "to"}``), for the caller to audit.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise Invalid(f"count must be a whole number from 1 to {MAX_COUNT}", field="count")
    now = utcnow()
    with db.write() as conn:
        owner = require_org(conn, org)
        try:
            parsed = normalize_one(value, None, region or owner.country)
        except NormalizeError as exc:
            raise Invalid(str(exc), field="value") from None
        (status, row, lowered), allowlisted = record(
            conn, owner, parsed, count=count, tlp=tlp, case_ref=(case_ref or "").strip(), description=description,
            seen=seen or now, now=now, allowlist=load_allowlist(conn), viewer=viewer,
        )
    answer = {
        "status": status, "kind": parsed.kind, "value": parsed.value, "source": org, "count": row["count"],
        "case_ref": row["case_ref"] or None, "tlp": row["tlp"], "first_seen": iso(row["first_seen"]),
        "last_seen": iso(row["last_seen"]), "allowlisted": allowlisted is not None,
    }
    if lowered:
        answer["tlp_lowered"] = {"from": lowered, "to": tlp}
    return answer


def lowered_of(answer: dict) -> Lowered:
    """What an ``add_sighting`` answer lowered, for the caller's audit (nothing, mostly)."""
    out = Lowered()
    if answer.get("tlp_lowered"):
        out.add("sighting", answer["value"], answer["tlp_lowered"]["from"], answer["tlp_lowered"]["to"])
    return out
