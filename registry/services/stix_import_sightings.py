"""The Sightings of an imported STIX bundle, recorded through the one sighting path
(services.sightings.record, whose ``MAX_COUNT`` bounds their counts).

A Sighting names an Indicator of the same bundle, or one imported earlier, found by id among
those the sighting's org may see (with ``viewer``, the caller's; an id it may not see is
answered as an unknown one). It becomes a sighting row of the sighting org with count, first
and last seen, TLP and the Sighting's id; one the same org stored under that id is left alone,
so a bundle imported twice does not add its counts twice (another org's id: a new one,
reported; see stix/claims.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.tlp import RED, Viewer
from registry.services import sightings as sighting_path
from registry.services.submit import Reject
from registry.stix import drafts, mapping
from registry.stix.claims import HELD_SIGHTING
from registry.stix.drafts import SightingDraft, text
from registry.storage import stix_reads

if TYPE_CHECKING:
    from registry.services.stix_import import _Import

# an object's strongest first (held: a delisted value's report, not written: docs/api.md, "Disputes")
STATUS_ORDER = ("new", "updated", "unchanged", "allowlisted", "held", "rejected")


def import_sightings(imp: _Import, sightings: list[dict]) -> None:
    """Record each Sighting of the bundle (after its Indicators) and count it by status."""
    if not sightings:
        return
    refs = {text(s, "sighting_of_ref") for s in sightings} - set(imp.indicator_values) - set(imp.carried) - {None}
    stored = stix_reads.assertions_by_stix_ids(imp.conn, sorted({r.lower() for r in refs})) if refs else {}
    for obj in sightings:
        result = imp.result(text(obj, "id"), None)
        status, error = _sighting(imp, obj, drafts.sighting_draft(obj), stored, result)
        imp.report.sightings[status] += 1
        if result is not None:
            result["status"] = status
            if error:
                result["error"] = error


def _sighting(imp: _Import, obj: dict, draft: SightingDraft, stored: dict, result: dict | None) -> tuple[str, str | None]:
    obj_id, ref = draft.id, draft.ref
    slug = imp.sources.slug_for(draft.where)
    owner = imp.org(slug)
    own_id = obj_id.lower() if drafts.is_id(obj_id, "sighting") else None
    claim = imp.claims.sighting(own_id, org_id=owner.id, viewer=imp.viewer) if own_id else None
    if claim == "present":
        return "unchanged", None
    if ref in imp.indicator_values or ref in imp.carried:
        values = imp.indicator_values[ref] if ref in imp.indicator_values else imp.carried[ref]
        if values is None:
            return _reject(imp, obj, "its indicator was rejected or skipped")
        targets = [(mapping.KIND_OF_TYPE.get(v.stix_type), v.value) for v in values]
    else:
        held = stored.get(ref.lower()) if ref else None
        viewer = imp.viewer or Viewer(org=slug, max_tlp=RED)
        if held is None or not viewer.can_see(held.tlp, held.source):  # hidden: answered as unknown
            return _reject(imp, obj, f"sighting of {ref}, an indicator neither in the bundle nor stored")
        targets = [(held.kind, held.value)]
    tlp = imp.tlp_of(obj)
    keep_id = own_id if claim == "keep" and len(targets) == 1 else None  # one id cannot name several
    statuses = []
    for kind, raw in targets:
        try:
            value = normalize_one(raw, kind, owner.country)
        except NormalizeError as exc:
            return _reject(imp, obj, str(exc))
        (status, row, lowered), _allowlisted = sighting_path.record(
            imp.conn, owner, value, count=sighting_path.counted(draft.count), tlp=tlp, case_ref=draft.case_ref,
            description=draft.description, seen=draft.first_seen or imp.now, now=imp.now, allowlist=imp.allowlist,
            viewer=imp.viewer, stix_id=keep_id, last_seen=draft.last_seen,
        )
        statuses.append(status)
        if lowered:
            imp.report.lowered.add("sighting", value.value, lowered, tlp)
    if keep_id:
        imp.claims.kept_sighting(keep_id, org_id=owner.id, tlp=tlp, source=owner.slug)
    elif claim == "taken" and len(targets) == 1 and row["stix_id"] != own_id:
        # Another org's sighting, or one of this org hidden from the caller, holds the id (the
        # same answer either way); unless the write went into that very row (a capped
        # writer's own blind row, domain.lanes), it got a new id.
        imp.reminted(obj_id, row["stix_id"], HELD_SIGHTING, result)
    return min(statuses, key=STATUS_ORDER.index), None


def _reject(imp: _Import, obj: dict, reason: str) -> tuple[str, str]:
    imp.rejected(Reject(text(obj, "id"), str(obj.get("sighting_of_ref"))[:500], reason))
    return "rejected", reason
