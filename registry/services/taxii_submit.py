"""TAXII 2.1 adding objects (to the ``submissions`` collection) and the status resources
that answer it.

Adding objects is synchronous: the STIX importer runs in the request, as the caller's org
whatever identity the objects name (no impersonation, no orgs created), and the answer is a
``complete`` status resource (202), stored so ``GET status/{id}`` (by the same org only) and
taxii2-client's ``wait_for_completion`` work from any worker.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection

from registry.domain import roles
from registry.services.errors import Forbidden, Invalid, NotFound
from registry.services.lowered import Lowered
from registry.services.stix_import import import_bundle
from registry.services.taxii import CollectionDef
from registry.services.taxii_query import stix_time, version_of
from registry.storage import taxii as taxii_store


def add_objects(db, principal, coll: CollectionDef, envelope, now: datetime, *,
                review_days: dict[str, float] | None = None) -> tuple[dict, Lowered]:
    """Import a TAXII envelope as the caller's org, synchronously: the stored status resource,
    and the TLPs the import lowered (``services.lowered``), for the caller's audit.
    ``review_days``: the settings' REVIEW_DAYS (``Provenance.review_days``)."""
    if not coll.writable:
        raise Forbidden(f"collection {coll.name!r} is read-only: add objects to 'submissions'")
    if not roles.allows(principal.role, roles.CONTRIBUTOR):
        raise Forbidden(f"adding objects needs the contributor role; your key has {principal.role}",
                        details={"needed_role": roles.CONTRIBUTOR, "role": principal.role})
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise Invalid("send a TAXII envelope: {\"objects\": [STIX objects]}", field="objects")
    with db.write() as conn:  # the import and its status land together
        # ``org`` (not ``default_org``): an upload is the caller's own, whatever identity it
        # names, or a member could publish under another agency's name; nor does it create orgs.
        report = import_bundle(conn, objects, org=principal.org, create_orgs=False, keep_results=True, now=now,
                               viewer=principal.viewer, review_days=review_days, together=True)
        successes, failures = _outcomes(objects, report.results)
        row = taxii_store.StatusRow(
            id=str(uuid.uuid4()), org=principal.org, collection_id=coll.id, status="complete",
            request_timestamp=now, total_count=len(objects), success_count=len(successes),
            failure_count=len(failures), pending_count=0,
            details={"successes": successes, "failures": failures, "pendings": []},
        )
        taxii_store.insert_status(conn, row)
    return status_resource(row), report.lowered


_IMPORTED = ("new", "updated", "unchanged", "allowlisted")  # the importer's statuses that kept the object
_CONTEXT_TYPES = ("identity", "marking-definition", "extension-definition")


def _outcomes(objects: list[dict], results: list[dict]) -> tuple[list[dict], list[dict]]:
    """Status details, one per posted object: imported objects by their result; identities,
    markings and extension definitions succeed as context; other types are not kept."""
    by_id = {r["id"]: r for r in results}
    successes, failures = [], []
    for obj in objects:
        entry = {"id": obj.get("id"), "version": version_of(obj)}
        result = by_id.get(obj.get("id"))
        if result is not None:
            if result["status"] in _IMPORTED:
                message = result["status"]
                if result.get("new_id"):  # kept under another id: the posted one names another object
                    message += f", stored as {result['new_id']}: {result['id_reason']}"
                successes.append({**entry, "message": message})
            else:
                failures.append({**entry, "message": result.get("error") or result.get("reason") or result["status"]})
        elif obj.get("type") in _CONTEXT_TYPES:
            successes.append({**entry, "message": "read as context"})
        else:
            failures.append({**entry, "message": f"{obj.get('type')} objects are not kept: the registry keeps "
                                                 "indicators, sightings and observables"})
    return successes, failures


def read_status(conn: Connection, principal, status_id: str) -> dict:
    row = taxii_store.get_status(conn, status_id)
    if row is None or row.org != principal.org:  # another org's status is as unknown as none
        raise NotFound(f"no status {status_id!r}", field="status")
    return status_resource(row)


def status_resource(row: taxii_store.StatusRow) -> dict:
    return {
        "id": row.id, "status": row.status, "request_timestamp": stix_time(row.request_timestamp),
        "total_count": row.total_count, "success_count": row.success_count,
        "failure_count": row.failure_count, "pending_count": row.pending_count, **row.details,
    }
