"""Operations and relationships as STIX 2.1 objects, built from rows the service read
(docs/stix-taxii.md, "Operations"). Nothing here reads a database.

- An operation is a ``grouping`` (context ``suspicious-activity``) created by its owner org's
  Identity, marked with its TLP, whose ``object_refs`` name its members' SCOs, the Indicators of
  the members' assertions the caller may see and the relationships between members the caller
  may see.
- A relationship is a ``relationship`` between the SCOs of its two values (not between
  Indicators: a value has one SCO whoever reports it, and none, one or several Indicators; an
  end may have no report at all), created by the stating org's Identity, marked with its own TLP,
  its type the registry's name (lowercase and hyphens, as STIX allows for any type; ``related-to``
  and ``resolves-to`` are STIX's own), its first and last seen as ``start_time``/``stop_time``.
- Member SCOs carry the operation's TLP: the operation shows its members at its own level.

Ids: a grouping keeps the id of the grouping it was imported from, else it is ``grouping--`` and
the operation's uid; a relationship likewise (``relationship--`` and its uid). Both are UUIDv4,
so an id names one object, and the registry's own ids come back to the same rows on import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from registry.domain.rows import decode_labels
from registry.domain.tlp import Viewer
from registry.stix import build, ids, mapping
from registry.stix.extension import definitions_for
from registry.stix.markings import TLP2_IDS
from registry.stix.references import References
from registry.stix.times import stamp

GROUPING = "grouping"
RELATIONSHIP = "relationship"
GROUPING_CONTEXT = "suspicious-activity"


def own_id(object_type: str, uid: str, stix_id: str | None, stix_type: str | None) -> str:
    """The STIX id of an operation (``grouping``) or relationship: the imported one when it was
    of this type, else the type and the row's uid."""
    if stix_id and (stix_type or stix_id.partition("--")[0]) == object_type:
        return stix_id
    return f"{object_type}--{uid}"


def grouping_id(op) -> str:
    return own_id(GROUPING, op.uid, op.stix_id, op.stix_type)


def relationship_id(row) -> str:
    return own_id(RELATIONSHIP, row.uid, row.stix_id, RELATIONSHIP)


def marked_sco(kind: str, value: str, others: tuple[str, ...], tlp: str) -> dict | None:
    """The SCO of a value marked with ``tlp``; None for a phone number block (no single number)."""
    sco = mapping.sco(kind, value, others)
    if sco is not None:
        sco["object_marking_refs"] = [TLP2_IDS[tlp]]
    return sco


def relationship(row, identity: str, source_ref: str, target_ref: str) -> dict:
    """The relationship object of one stored statement (``storage.relationships.RelationshipRow``)."""
    created = stamp(row.created)
    modified = max(stamp(row.modified), created)  # one format: text order is time order
    obj = {
        "type": RELATIONSHIP, "spec_version": "2.1", "id": relationship_id(row), "created_by_ref": identity,
        "created": created, "modified": modified, "relationship_type": row.type,
        "source_ref": source_ref, "target_ref": target_ref, "confidence": row.confidence,
    }
    if row.description:
        obj["description"] = row.description
    start, stop = stamp(row.first_seen), stamp(row.last_seen)
    obj["start_time"] = start
    if stop > start:  # STIX: stop_time MUST be later than start_time
        obj["stop_time"] = stop
    obj["object_marking_refs"] = [TLP2_IDS[row.tlp]]
    return obj


def grouping(op, identity: str, object_refs: Sequence[str]) -> dict:
    """The grouping of an operation (``storage.operations.OperationRow``). STIX wants one
    ``object_refs`` at least: an operation without members names its owner's Identity."""
    created = stamp(op.created)
    obj = {
        "type": GROUPING, "spec_version": "2.1", "id": grouping_id(op), "created_by_ref": identity,
        "created": created, "modified": max(stamp(op.modified), created), "name": op.name,
    }
    if op.description:
        obj["description"] = op.description
    obj["context"] = GROUPING_CONTEXT
    labels = decode_labels(op.labels)
    if labels:
        obj["labels"] = list(labels)
    obj["object_refs"] = list(object_refs) or [identity]
    obj["object_marking_refs"] = [TLP2_IDS[op.tlp]]
    return obj


class Parts(NamedTuple):
    """An operation as the caller may see it: its grouping, its members' SCOs (marked with its
    TLP), the Indicators of their visible assertions (each with the (kind, value, other hashes)
    it was built from) and the relationships between members."""

    grouping: dict
    scos: list[dict]
    indicators: list[tuple[dict, tuple]]
    relationships: list[dict]


def operation_parts(op, orgs: build.Orgs, members: Iterable, assertions: Iterable, others: dict[int, tuple[str, ...]],
                    relationships: Iterable) -> Parts:
    """The parts of one operation. ``members``: (indicator_id, kind, value) rows; ``assertions``:
    the visible assertion rows of the members (``domain.rows.StixAssertion``); ``others``: a
    file's other hashes by indicator id (only of files the caller sees a report of);
    ``relationships``: the visible statements between two members. A relationship with a phone
    number block at an end is left out: a block has no SCO to name."""
    by_slug = {org.slug: org for org in orgs.values()}
    scos, sco_of = [], {}
    for member in members:
        sco = marked_sco(member.kind, member.value, others.get(member.indicator_id, ()), op.tlp)
        if sco is not None:
            sco_of[member.indicator_id] = sco["id"]
            scos.append(sco)
    indicators = []
    for row in assertions:
        hashes = others.get(row.indicator_id, ())
        indicators.append((build.indicator(row, orgs[row.org_id], hashes), (row.kind, row.value, hashes)))
    rels = [relationship(row, by_slug[row.org].stix_id, sco_of[row.source_id], sco_of[row.target_id])
            for row in relationships if row.source_id in sco_of and row.target_id in sco_of]
    refs = [o["id"] for o in scos] + [o["id"] for o, _ in indicators] + [o["id"] for o in rels]
    return Parts(grouping(op, orgs[op.org_id].stix_id, refs), scos, indicators, rels)


def sco_context(scos: Iterable[dict], seen: set[str]) -> list[dict]:
    """The SCOs not handed out yet, each after the extension definition its type needs (for a
    TAXII page: ``seen`` is the page's)."""
    out: list[dict] = []
    for sco in scos:
        if sco["id"] in seen:
            continue
        out.extend(definitions_for(sco["type"], seen))
        seen.add(sco["id"])
        out.append(sco)
    return out


def operation_bundle(viewer: Viewer, parts: Parts, orgs: build.Orgs) -> dict:
    """The bundle of one operation: what each part refers to (Identities, TLP marking and
    extension definitions) before it, the SCOs, Indicators and relationships, the grouping last."""
    refs = References(orgs.identities)
    out: list[dict] = []
    for sco in parts.scos:
        out.extend(refs.new_for(sco))
        out.extend(definitions_for(sco["type"], refs.seen))
        refs.scos.add(sco["id"])  # an Indicator of the same value does not repeat it
        out.append(sco)
    for obj, value in parts.indicators:
        out.extend(refs.new_for(obj, value))
        out.append(obj)
    for obj in (*parts.relationships, parts.grouping):
        out.extend(refs.new_for(obj))
        out.append(obj)
    # As for an indicator's bundle: the id says what it holds (each object's id and version).
    versions = sorted(f"{o['id']}@{o.get('modified', '')}" for o in out)
    return {"type": "bundle", "id": ids.derived_id("bundle", viewer.org or "", viewer.max_tlp, *versions),
            "objects": out}
