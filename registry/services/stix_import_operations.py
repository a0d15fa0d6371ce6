"""The STIX import's operations and relationships (docs/stix-taxii.md, "Operations"), run by
``services.stix_import`` in the import's transaction after its Indicators are submitted:

- a ``grouping`` or ``report`` becomes an operation holding the values its ``object_refs``
  name that the import keeps (an Indicator's values, an SCO's value), owned by the org the
  import attributes it to, at its TLP, with its name, description and labels;
- a ``threat-actor``, ``intrusion-set`` or ``campaign`` that Indicators ``indicates`` becomes
  an operation holding those Indicators' values, named after it;
- a ``relationship`` between two values it keeps becomes that org's relationship (its type
  mapped by ``stix.containers.registry_type``); a revoked one removes the org's statement.

An object's id is kept (``operation.stix_id``, ``relationship.stix_id``), so importing it again
updates what it made instead of adding another; an id the registry gives its own objects
(``grouping--`` or ``relationship--`` and a row's uid) comes back to that row. An id held by
another org's row, or one the caller may not see, is not taken over: the object is stored under
a new id and the import says so (``remints``), as for Indicators (stix.claims). A key or user
capped below an object's TLP cannot write it: ``refused``. A member or end is named by an object
of the bundle, by an Indicator stored under that id (one the poster may see), or, in a pull, by
an earlier page's Indicator stored under another id (``carried_refs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.domain import operations as rules
from registry.domain.kinds import Value
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.tlp import RED, Viewer
from registry.services import operations, relationships
from registry.stix import containers, mapping
from registry.stix import operations as stix_ops
from registry.stix.drafts import observable_text, text
from registry.stix.patterns import Unrepresentable
from registry.storage import indicators as ind_store
from registry.storage import operations as op_store
from registry.storage import relationships as rel_store
from registry.storage import stix_reads
from registry.storage.db import next_seq

if TYPE_CHECKING:
    from registry.services.stix_import import _Import

HELD_OPERATION = "the id is already another operation's"
HELD_RELATIONSHIP = "the id is already another relationship's"
NEW, UPDATED, UNCHANGED, REFUSED, REMOVED = "new", "updated", "unchanged", "refused", "removed"


def context_refs(by_type: dict[str, list[dict]]) -> set[str]:
    """The ids groupings and relationships name: their SCOs are members and ends, not reports
    (a bundle of an operation, a TAXII page of relationships), so the import does not read them as
    its content."""
    refs: set[str] = set()
    for obj in by_type.get(stix_ops.GROUPING, ()):
        refs.update(ref for ref in obj.get("object_refs") or () if isinstance(ref, str))
    for obj in by_type.get(stix_ops.RELATIONSHIP, ()):
        refs.update(ref for ref in (obj.get("source_ref"), obj.get("target_ref")) if isinstance(ref, str))
    return refs


def import_operations(imp: _Import, by_type: dict[str, list[dict]]) -> None:
    """Operations and relationships from the bundle's containers, actors and relationships
    (taken out of ``by_type``; those not imported are counted as skipped)."""
    context = context_refs(by_type)
    for object_type in mapping.KIND_OF_TYPE:  # members and ends are used here, not skipped
        kept = [o for o in by_type.pop(object_type, ()) if text(o, "id") not in context]
        if kept:
            by_type[object_type] = kept
    containers_found = [o for t in containers.CONTAINER_TYPES for o in by_type.pop(t, [])]
    actors = [o for t in containers.ACTOR_TYPES for o in by_type.pop(t, [])]
    drafts, broken = [], 0
    for obj in by_type.pop(stix_ops.RELATIONSHIP, []):
        draft = containers.relationship_draft(obj)
        if draft is None:
            broken += 1
        else:
            drafts.append((draft, obj))
    if not (containers_found or actors or drafts or broken):
        return
    writer = _Writer(imp)
    actor_ids = {text(o, "id").lower() for o in actors if text(o, "id")}
    indicated = containers.indicated((d for d, _ in drafts), actor_ids)
    for obj in containers_found:
        writer.operation(obj, containers.operation_draft(obj))
    for obj in actors:
        obj_id = (text(obj, "id") or "").lower()
        writer.operation(obj, containers.operation_draft(obj, indicated.get(obj_id)) if obj_id in indicated else None)
    for draft, obj in drafts:
        if not containers.is_membership(draft, actor_ids):
            writer.relationship(draft, obj)
    imp.report.skipped.update({stix_ops.RELATIONSHIP: broken} if broken else {})


class _Writer:
    def __init__(self, imp: _Import) -> None:
        self.imp = imp
        self.conn = imp.conn
        self.objects = {text(o, "id"): o for o in imp.objects if text(o, "id")}
        self.stored: dict[str, object] | None = None  # Indicators stored under an id the bundle names, read once
        self.done: set[str] = set()  # ids written (a bundle may repeat an object)

    # -- values ----------------------------------------------------------------------------------
    def values(self, ref: str, region: str | None, viewer: Viewer) -> list[Value]:
        """The canonical values the object ``ref`` names and the import keeps (none: it names
        none, was rejected, or is unknown)."""
        obj = self.objects.get(ref)
        if obj is None:
            carried = self.imp.carried.get(ref)
            if carried is not None:
                return _normalized(((mapping.KIND_OF_TYPE.get(v.stix_type), v.value) for v in carried), region)
            return self._stored(ref, viewer)
        object_type = text(obj, "type")
        if object_type == "indicator":
            found = self.imp.indicator_values.get(ref)
            if not found:
                return []
            creator = self.imp.org(self.imp.sources.slug_for(text(obj, "created_by_ref")))
            return _normalized(((mapping.KIND_OF_TYPE.get(v.stix_type), v.value) for v in found), creator.country)
        kind = mapping.KIND_OF_TYPE.get(object_type or "")
        if kind is None:
            return []
        try:
            value = observable_text(obj)
        except Unrepresentable:
            return []
        return _normalized([(kind, value)], region) if value is not None else []

    def _stored(self, ref: str, viewer: Viewer) -> list[Value]:
        if self.stored is None:
            unknown = sorted({r.lower() for r in self._every_ref() if r not in self.objects and r.startswith("indicator--")})
            self.stored = stix_reads.assertions_by_stix_ids(self.conn, unknown)
        row = self.stored.get(ref.lower())
        if row is None or not viewer.can_see(row.tlp, row.source):
            return []
        return _normalized([(row.kind, row.value)], None)

    def _every_ref(self):
        for obj in self.imp.objects:
            yield from (r for r in obj.get("object_refs") or () if isinstance(r, str))
            yield from (r for r in (obj.get("source_ref"), obj.get("target_ref")) if isinstance(r, str))

    def _viewer(self, slug: str) -> Viewer:
        """Who the import writes as: the poster (API, TAXII), else the object's org seeing its own
        RED (a file, a feed, a pull), as a Sighting names its indicator."""
        return self.imp.viewer or Viewer(slug, RED)

    def _level(self, obj: dict, slug: str, what: str) -> str | None:
        """The object's TLP, or None (counted as refused) when the poster may not write it."""
        level = self.imp.tlp_of(obj)
        if self.imp.viewer is not None and not self.imp.viewer.can_see(level, slug):
            self.imp.report.refused[what] += 1
            return None
        return level

    # -- operations ------------------------------------------------------------------------------
    def operation(self, obj: dict, draft: containers.OperationDraft | None) -> None:
        if draft is None or draft.id in self.done:
            self.imp.report.skipped[str(obj.get("type"))] += 1
            return
        self.done.add(draft.id)
        slug = self.imp.sources.slug_for(draft.creator)
        level = self._level(obj, slug, "operation")
        if level is None:
            return
        org = self.imp.org(slug)
        viewer = self._viewer(slug)
        members = list({v.value: v for ref in draft.refs for v in self.values(ref, org.country, viewer)}.values())
        if not members:  # nothing it holds was kept
            self.imp.report.skipped[draft.type] += 1
            return
        row, reason = self._holder(draft.id, slug, viewer)
        now = self.imp.now
        if row is None:
            uid = operations.insert(self.conn, org.id, None, name=draft.name, description=draft.description,
                                    tlp=level, labels=draft.labels, now=now,
                                    stix_id=None if reason else draft.id, stix_type=draft.type)
            row = op_store.by_uid(self.conn, uid)
            status = NEW
            if reason:
                self.imp.reminted(draft.id, stix_ops.grouping_id(row), reason, None)
        else:
            status = self._update(row, draft, level)
        added, _ = operations.add_members(self.conn, row, members, org.id, None, now)
        if status == UNCHANGED and added:
            status = UPDATED
        self.imp.report.operations[status] += 1

    def _holder(self, stix_id: str, slug: str, viewer: Viewer) -> tuple[op_store.OperationRow | None, str | None]:
        """(the operation this id names, to update; or None and why the id is not kept)."""
        held = op_store.by_stix_ids(self.conn, [stix_id])
        if stix_id.startswith(stix_ops.GROUPING + "--"):
            held += [op for op in op_store.by_uids(self.conn, [stix_id.partition("--")[2]])
                     if stix_ops.grouping_id(op) == stix_id]
        if not held:
            return None, None
        row = held[0]
        if row.org == slug and viewer.can_see(row.tlp, row.org):
            return row, None
        return None, HELD_OPERATION

    def _update(self, row: op_store.OperationRow, draft: containers.OperationDraft, level: str) -> str:
        values = dict(name=draft.name, description=draft.description, tlp=level,
                      labels=operations.label_text(draft.labels))
        if all(getattr(row, k) == v for k, v in values.items()):
            return UNCHANGED
        now = self.imp.now
        op_store.change(self.conn, row.id, **values, modified=now, last_activity=now, seq=next_seq(self.conn))
        return UPDATED

    # -- relationships ---------------------------------------------------------------------------
    def relationship(self, draft: containers.RelationshipDraft, obj: dict) -> None:
        report = self.imp.report
        if draft.id in self.done:
            report.skipped[stix_ops.RELATIONSHIP] += 1
            return
        self.done.add(draft.id)
        slug = self.imp.sources.slug_for(draft.creator)
        org = self.imp.org(slug)
        viewer = self._viewer(slug)
        source = self.values(draft.source_ref, org.country, viewer)
        target = self.values(draft.target_ref, org.country, viewer)
        if len(source) != 1 or len(target) != 1 or source[0].value == target[0].value:
            report.skipped[stix_ops.RELATIONSHIP] += 1  # an end that is no one value kept (a malware, an SDO...)
            return
        level = self._level(obj, slug, stix_ops.RELATIONSHIP)
        if level is None:
            return
        kind, note = containers.registry_type(draft.stix_type)
        if draft.revoked:
            self._withdraw(source[0], target[0], kind, org.id)
            return
        stix_id, reason = self._relationship_id(draft.id, source[0].value, target[0].value, kind, slug, viewer)
        description = "\n".join(filter(None, (note, draft.description)))[:rules.MAX_TEXT] or None
        first = draft.first_seen or self.imp.now
        last = max(draft.last_seen or first, first)
        confidence = rules.DEFAULT_CONFIDENCE if draft.confidence is None else draft.confidence
        uid, status = relationships.record(self.conn, org.id, None, source[0], target[0], kind, tlp=level,
                                           confidence=confidence, description=description, first_seen=first,
                                           last_seen=last, now=self.imp.now, stix_id=stix_id)
        if reason:
            self.imp.reminted(draft.id, f"{stix_ops.RELATIONSHIP}--{uid}", reason, None)
        report.relationships[status] += 1

    def _relationship_id(self, stix_id: str, source: str, target: str, kind: str, slug: str,
                         viewer: Viewer) -> tuple[str | None, str | None]:
        """(the id to store, or None; why the incoming id is not kept, or None). The same
        statement (ends, type, org) holding it keeps it; another's keeps it from this one."""
        held = rel_store.by_stix_ids(self.conn, [stix_id])
        held += [r for r in rel_store.by_uids(self.conn, [stix_id.partition("--")[2]])
                 if stix_ops.relationship_id(r) == stix_id]
        if not held:
            return stix_id, None
        row = held[0]
        if (row.source, row.target, row.type, row.org) == (source, target, kind, slug) and viewer.can_see(row.tlp, row.org):
            return row.stix_id, None  # our own id comes back: nothing to store
        return None, HELD_RELATIONSHIP

    def _withdraw(self, source: Value, target: Value, kind: str, org_id: int) -> None:
        """A revoked relationship: its source withdrew it, so the org's statement goes."""
        ids = ind_store.indicator_ids(self.conn, [source.value, target.value])
        found = (rel_store.find(self.conn, ids[source.value], ids[target.value], kind, org_id)
                 if len(ids) == 2 else None)
        if found is None:
            self.imp.report.skipped[stix_ops.RELATIONSHIP] += 1
            return
        rel_store.remove(self.conn, found.id)
        self.imp.report.relationships[REMOVED] += 1


def _normalized(pairs, region: str | None) -> list[Value]:
    out: list[Value] = []
    for kind, text_value in pairs:
        try:
            out.extend(normalize(text_value, kind, region))
        except (NormalizeError, ValueError):
            continue
    return out

