"""Shared by the STIX tests: seeding through the real submit path, exporting, and the
validation every exported bundle must pass (docs/stix-taxii.md)."""

from __future__ import annotations

import orjson
import stix2
from stix2validator import ValidationOptions, validate_string

from registry.domain.tlp import Viewer
from registry.services import stix_export as export
from registry.services.submit import Provenance, Submission, Submitter

# strict: SHOULD-checks are errors; 103 misreads SCO UUIDv5 ids, 302 wants a hash beside every
# external URL, 244 an account_type from account-type-ov, an open vocabulary that has no telegram,
# line, whatsapp... (docs/stix-taxii.md); no --strict-types (buggy for 2.1).
OPTIONS = ValidationOptions(strict=True, disabled=["103", "302", "244"])


def validate(data: bytes, **parse_options) -> dict:
    """The bundle, after stix2-validator (strict) and stix2.parse have accepted it."""
    result = validate_string(data.decode(), OPTIONS)
    results = getattr(result, "object_results", None) or [result]  # one bundle: one result
    problems = [str(e) for r in results for e in (*(r.errors or ()), *(r.warnings or ()))]
    assert result.is_valid, problems
    stix2.parse(data, allow_custom=True, **parse_options)
    return orjson.loads(data)


def bundle(db, viewer: Viewer | None = None, **filters) -> bytes:
    with db.read() as conn:
        return b"".join(export.stream_bundle(conn, viewer or Viewer.operator(), **filters))


def exported(db, viewer: Viewer | None = None, **filters) -> dict:
    """A validated export as a dict."""
    return validate(bundle(db, viewer, **filters))


def of_type(doc: dict, stix_type: str) -> list[dict]:
    return [o for o in doc["objects"] if o["type"] == stix_type]


def submit(db, org: str, values, **provenance) -> None:
    """Submit values (a string or a Submission each) as ``org`` through the Submitter."""
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org=org, **provenance))
        for value in values:
            submitter.add(value if isinstance(value, Submission) else Submission(value))
        submitter.finish()


STAMP = "2026-11-01T00:00:00.000Z"


def stix_indicator(stix_id: str, value: str, *, sco: str = "ipv4-addr", tlp: str | None = None, **extra) -> dict:
    """A STIX 2.1 Indicator of one value (``tlp``: its TLP 2.0 marking)."""
    from registry.stix.markings import TLP2_IDS

    obj = {"type": "indicator", "spec_version": "2.1", "id": stix_id, "created": STAMP, "modified": STAMP,
           "valid_from": STAMP, "pattern_type": "stix", "pattern": f"[{sco}:value = '{value}']", **extra}
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    return obj


def stix_sighting(stix_id: str, sighting_of_ref: str, **extra) -> dict:
    """A STIX 2.1 Sighting of the Indicator ``sighting_of_ref``."""
    return {"type": "sighting", "spec_version": "2.1", "id": stix_id, "created": STAMP, "modified": STAMP,
            "sighting_of_ref": sighting_of_ref, "count": 1, **extra}


def objects_with_id(doc: dict, stix_id: str) -> list[dict]:
    return [o for o in doc.get("objects", []) if o["id"] == stix_id]
