"""Shared by the STIX tests: seeding through the real submit path, exporting, and the
validation every exported bundle must pass (docs/stix-taxii.md)."""

from __future__ import annotations

import orjson
import stix2
from stix2validator import ValidationOptions, validate_string

from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import operations, relationships
from registry.services import stix_export as export
from registry.services.keys import Principal
from registry.services.submit import Provenance, Submission, Submitter
from tests.helpers import add_member_orgs

# strict: SHOULD-checks are errors; 103 misreads SCO UUIDv5 ids, 302 wants a hash beside every
# external URL, 244 an account_type from account-type-ov, an open vocabulary that has no telegram,
# line, whatsapp...; 202 a relationship_type the spec suggests for its ends, where STIX allows any
# (the registry's pays-to, contacts...: docs/stix-taxii.md); no --strict-types (buggy for 2.1).
OPTIONS = ValidationOptions(strict=True, disabled=["103", "302", "244", "202"])


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


# -- an operation (docs/stix-taxii.md, "Operations"; docs/exports.md, "Operations in MISP") ---------

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=RED, actor="reg_ccib")
PDRM = Principal(org="pdrm-my", role="contributor", max_tlp=RED, actor="reg_pdrm")
PHONE, ACCOUNT, TELEGRAM, DOMAIN = "+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support", "kbank-verify.example"
MD5, SHA256 = "d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
FILE = f"sha256:{SHA256}"
BLOCK = "+85597123*"


def seed_operation(db, *, orgs: bool = True) -> str:
    """ccib-th's AMBER operation: a phone, a bank account nobody reported, a Telegram account only
    pdrm-my reported (RED), a domain both reported, a file known by two hashes and a number block
    (which has no SCO: it is in the bundle through its Indicator);
    ccib-th's and pdrm-my's relationships between members at several levels. Its uid. ``orgs``
    False: ccib-th and pdrm-my exist already."""
    if orgs:
        add_member_orgs(db)
    submit(db, "ccib-th", [PHONE, DOMAIN, f"md5:{MD5} sha256:{SHA256}", BLOCK], tlp=AMBER, confidence=80)
    submit(db, "pdrm-my", [DOMAIN], tlp=GREEN)
    submit(db, "pdrm-my", ["t.me/k7_support"], tlp=RED)
    uid = operations.create(db, CCIB, name="Compound K7, Sihanoukville", tlp=AMBER, labels=["call-centre-scam"],
                            description="One compound's numbers and mule accounts")["id"]
    added = operations.add_values(db, uid, [PHONE, "KBank 123-4-56789-0", "t.me/k7_support", DOMAIN, FILE, BLOCK],
                                  CCIB, region="TH")
    assert added["rejected"] == [] and len(added["added"]) == 6
    relationships.link(db, CCIB, PHONE, ACCOUNT, "pays-to", tlp=AMBER, confidence=80, region="TH")
    relationships.link(db, CCIB, DOMAIN, TELEGRAM, "redirects-to", tlp=GREEN, description="the landing page's button")
    relationships.link(db, PDRM, PHONE, TELEGRAM, "contacts", tlp=RED)  # pdrm-my's own: never in ccib-th's bundle
    relationships.link(db, PDRM, PHONE, DOMAIN, "same-operator", tlp=AMBER)
    relationships.link(db, CCIB, PHONE, "not-a-member.example", "related-to", tlp=AMBER)  # one end outside
    return uid
