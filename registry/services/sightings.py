"""Sightings: an agency saw a value in one of its cases."""

from __future__ import annotations

from datetime import datetime

from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services.errors import Invalid
from registry.services.lowered import Lowered
from registry.services.orgs import require_org
from registry.storage import indicators as ind_store
from registry.storage import sightings as store
from registry.storage.allowlist import load_allowlist
from registry.storage.db import Database


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
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
        raise Invalid("count must be a whole number from 1 to 1000000", field="count")
    now = utcnow()
    with db.write() as conn:
        owner = require_org(conn, org)
        try:
            parsed = normalize_one(value, None, region or owner.country)
        except NormalizeError as exc:
            raise Invalid(str(exc), field="value") from None
        allowlisted = load_allowlist(conn).reason_for(parsed)
        pending = ind_store.Pending(value=parsed, confidence=0, tlp=tlp, labels=(), allowlisted=allowlisted)
        ids, _ = ind_store.ensure_indicators(conn, [pending], now)
        status, row, lowered = store.upsert(
            conn, indicator_id=ids[parsed.value], org_id=owner.id, case_ref=(case_ref or "").strip(), count=count,
            tlp=tlp, description=description, seen=seen or now, now=now, viewer=viewer, org=owner.slug,
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
