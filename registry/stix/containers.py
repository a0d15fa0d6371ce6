"""Incoming STIX objects that become operations and relationships (services.stix_import_operations;
docs/stix-taxii.md, "Operations"), read as drafts. Nothing here reads a database; as in
``stix.drafts``, a property of the wrong type counts as absent.

- A ``grouping`` or ``report`` is an operation holding the values its ``object_refs`` name.
- A ``threat-actor``, ``intrusion-set`` or ``campaign`` that Indicators ``indicates`` is an
  operation holding those Indicators' values (``indicated``).
- A ``relationship`` between two values is a relationship; its type the registry's when it is
  one of the registry's (``domain.operations.RELATIONSHIP_TYPES``), else ``related-to`` with
  the STIX type kept in its description (``registry_type``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from registry.domain import operations as rules
from registry.stix.drafts import confidence, description, is_id, items, labels, text
from registry.stix.times import parse_stix_time

CONTAINER_TYPES = ("grouping", "report")
ACTOR_TYPES = ("threat-actor", "intrusion-set", "campaign")
INDICATES = "indicates"


@dataclass(frozen=True, slots=True)
class OperationDraft:
    """What a container or actor says of the operation it becomes. ``refs``: the ids of the
    objects whose values it holds (a container's ``object_refs``; the Indicators that indicate
    an actor)."""

    id: str
    type: str
    name: str
    description: str | None
    labels: tuple[str, ...]
    refs: tuple[str, ...]
    creator: str | None


def operation_draft(obj: dict, refs: Iterable[str] | None = None) -> OperationDraft | None:
    """A container's draft (``refs`` None: its ``object_refs``) or an actor's (``refs``: the
    Indicators indicating it); None without a well-formed id. A nameless object is named by
    its id (STIX requires a name; a draft does not fail for want of one)."""
    object_type = text(obj, "type") or ""
    obj_id = text(obj, "id")
    if not is_id(obj_id, object_type):
        return None
    obj_id = obj_id.lower()
    name = (text(obj, "name") or obj_id).strip()[:rules.MAX_NAME] or obj_id
    found = description(obj)
    if refs is None:
        refs = [ref for ref in items(obj, "object_refs") if isinstance(ref, str)]
    return OperationDraft(id=obj_id, type=object_type, name=name,
                          description=found[:rules.MAX_TEXT] if found else None, labels=labels(obj),
                          refs=tuple(dict.fromkeys(refs)), creator=text(obj, "created_by_ref"))


@dataclass(frozen=True, slots=True)
class RelationshipDraft:
    id: str
    stix_type: str
    source_ref: str
    target_ref: str
    creator: str | None
    confidence: int | None
    description: str | None
    first_seen: datetime | None  # start_time, else created
    last_seen: datetime | None  # stop_time, else modified
    revoked: bool


def relationship_draft(obj: dict) -> RelationshipDraft | None:
    """A relationship's draft; None when its id, type or either end is missing or malformed."""
    obj_id, stix_type = text(obj, "id"), text(obj, "relationship_type")
    source, target = text(obj, "source_ref"), text(obj, "target_ref")
    if not is_id(obj_id, "relationship") or stix_type is None or source is None or target is None:
        return None
    return RelationshipDraft(
        id=obj_id.lower(), stix_type=stix_type.strip().lower(), source_ref=source, target_ref=target,
        creator=text(obj, "created_by_ref"), confidence=confidence(obj), description=description(obj),
        first_seen=parse_stix_time(obj.get("start_time")) or parse_stix_time(obj.get("created")),
        last_seen=parse_stix_time(obj.get("stop_time")) or parse_stix_time(obj.get("modified")),
        revoked=obj.get("revoked") is True,
    )


def registry_type(stix_type: str) -> tuple[str, str | None]:
    """(the registry's relationship type, a note for the description or None): a type of the
    registry's vocabulary is itself; any other is ``related-to``, noting the STIX type."""
    if stix_type in rules.RELATIONSHIP_TYPES:
        return stix_type, None
    return rules.RELATED_TO, f"STIX relationship type: {stix_type}"


def indicated(relationships: Iterable[RelationshipDraft], actors: set[str]) -> dict[str, list[str]]:
    """Actor id → the ids of the objects that ``indicates`` it (not revoked), in bundle order."""
    out: dict[str, list[str]] = {}
    for draft in relationships:
        target = draft.target_ref.lower()
        if draft.stix_type == INDICATES and target in actors and not draft.revoked:
            out.setdefault(target, []).append(draft.source_ref)
    return out


def is_membership(draft: RelationshipDraft, actors: set[str]) -> bool:
    """An ``indicates`` of an actor: membership of its operation, not a relationship."""
    return draft.stix_type == INDICATES and draft.target_ref.lower() in actors
