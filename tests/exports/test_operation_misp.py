"""An operation as one MISP event, on both engines (docs/exports.md, "Operations in MISP"): the
MISP feed lists it beside the day events, PyMISP loads it with an object per member (its
attributes as the caller may see them) and an object reference per visible relationship, the
registry's MISP import reads it back, and it follows the TLP rule and the feed's filters."""

from __future__ import annotations

import hashlib
import time

import orjson
import pytest
from pymisp import MISPEvent

from registry.domain.normalize import normalize_one
from registry.domain.opaque import Sealer
from registry.domain.times import utcnow
from registry.domain.tlp import GREEN, RED, Viewer
from registry.ingest import misp as misp_ingest
from registry.services import exports, operation_misp, operations, relationships
from registry.services.errors import NotFound
from registry.services.keys import Principal
from tests.stix.support import ACCOUNT, CCIB, DOMAIN, MD5, PHONE, SHA256, TELEGRAM, seed_operation

CCIB_VIEW, PDRM_VIEW, GREEN_VIEW = Viewer("ccib-th", RED), Viewer("pdrm-my", RED), Viewer("pdrm-my", GREEN)
SEALER = Sealer("test-secret-" + "x" * 32)


def feed(db, viewer: Viewer, folder, **args) -> dict[str, MISPEvent]:
    """The feed as ``viewer`` gets it, each event loaded by PyMISP, by uuid."""
    exports.write_misp_folder(db, viewer, exports.ExportQuery.parse(args), folder)
    out = {}
    for uuid in orjson.loads((folder / "manifest.json").read_bytes()):
        event = MISPEvent()
        event.load_file(str(folder / f"{uuid}.json"))
        out[uuid] = event
    return out


def by_value(event: MISPEvent) -> dict[str, object]:
    """The member objects by the value of their main attribute."""
    out = {}
    for obj in event.objects:
        main = [a for a in obj.attributes if a.object_relation != "account-type"]
        out[main[-1].value if obj.name != "file" else main[0].value] = obj
    return out


def test_pymisp_loads_the_operation_with_its_attributes_and_references(db, tmp_path):
    uid = seed_operation(db)
    events = feed(db, CCIB_VIEW, tmp_path / "ccib")
    event = events[uid]  # the event's uuid is the operation's grouping's
    assert event.info == "Compound K7, Sihanoukville" and event.Orgc.name == "Royal Thai Police CCIB"
    assert [t.name for t in event.tags] == ["tlp:amber", "call-centre-scam"] and event.distribution == 0
    assert int(event.analysis) == 1  # ongoing while open
    assert [a.value for a in event.attributes] == ["One compound's numbers and mule accounts"]
    objects = by_value(event)
    assert sorted(objects) == sorted([PHONE, "acct:TH:KASI:1234567890", "k7_support", DOMAIN, SHA256, "+85597123*"])
    names = {value: obj.name for value, obj in objects.items()}
    assert names[PHONE] == "phone-number" and names["acct:TH:KASI:1234567890"] == "bank-account"
    assert names["k7_support"] == "user-account" and names[DOMAIN] == "domain-ip" and names[SHA256] == "file"
    # What ccib-th may see of each member: its reports (to_ids, their TLP), else the operation's TLP.
    phone = objects[PHONE].attributes[0]
    assert phone.to_ids and phone.object_relation == "phone-number" and "confidence 80" in phone.comment
    account = objects["acct:TH:KASI:1234567890"].attributes[0]
    assert not account.to_ids and account.object_relation == "account" and [t.name for t in account.tags] == ["tlp:amber"]
    telegram = {a.object_relation: a for a in objects["k7_support"].attributes}
    assert telegram["account-type"].value == "telegram" and not telegram["username"].to_ids  # pdrm-my's RED report
    assert sorted((a.object_relation, a.value) for a in objects[SHA256].attributes) == [("md5", MD5), ("sha256", SHA256)]
    # The relationships ccib-th may see, as references from the source's object to the target's.
    uuids = {obj.uuid: value for value, obj in objects.items()}
    refs = sorted((uuids[r.object_uuid], r.relationship_type, uuids[r.referenced_uuid], r.comment)
                  for obj in event.objects for r in obj.references)
    assert refs == sorted([
        (PHONE, "pays-to", "acct:TH:KASI:1234567890", "ccib-th, TLP:AMBER, confidence 80"),
        (DOMAIN, "redirects-to", "k7_support", "ccib-th, TLP:GREEN, confidence 50"),
        (PHONE, "same-operator", DOMAIN, "pdrm-my, TLP:AMBER, confidence 50"),
    ])
    # pdrm-my sees its own RED report and statement in it.
    theirs = feed(db, PDRM_VIEW, tmp_path / "pdrm")[uid]
    assert {a.object_relation: a for a in by_value(theirs)["k7_support"].attributes}["username"].to_ids
    assert "contacts" in {r.relationship_type for obj in theirs.objects for r in obj.references}
    # hashes.csv: each member's value, with the operation's event.
    hashes = (tmp_path / "ccib" / "hashes.csv").read_text().splitlines()
    assert f"{hashlib.md5(b'k7_support').hexdigest()},{uid}" in hashes
    assert f"{hashlib.md5(PHONE.encode()).hexdigest()},{uid}" in hashes
    # The registry's MISP import reads the reported members back (an account object whatever its to_ids).
    records = misp_ingest.parse_event((tmp_path / "ccib" / f"{uid}.json").read_bytes()).records
    read = {normalize_one(r.value, r.kind, "TH", r.platform).value for r in records}
    assert {PHONE, DOMAIN, f"sha256:{SHA256}", "+85597123*", TELEGRAM} <= read and ACCOUNT not in read


def test_tlp_filters_and_changes(db, tmp_path):
    uid = seed_operation(db)
    assert uid not in feed(db, GREEN_VIEW, tmp_path / "green")  # AMBER: not for a GREEN key
    with db.read() as conn, pytest.raises(NotFound):
        exports.misp_event(conn, GREEN_VIEW, exports.ExportQuery(), uid)
    with db.read() as conn, pytest.raises(NotFound):
        operation_misp.operation_event(conn, uid, Principal(org="pdrm-my", role="reader", max_tlp=GREEN, actor="x"),
                                       now=utcnow())
    # A feed of one kind or label holds no operation; one of a source, that org's operations.
    assert uid not in feed(db, CCIB_VIEW, tmp_path / "kind", kind="phone")
    assert uid not in feed(db, CCIB_VIEW, tmp_path / "label", label="call-centre-scam")
    assert uid not in feed(db, CCIB_VIEW, tmp_path / "pdrm", source="pdrm-my")
    assert uid in feed(db, CCIB_VIEW, tmp_path / "ccib", source="ccib-th")
    # The event's timestamp and the feed's ETag move with a relationship between members...
    with db.read() as conn:
        before_tag = exports.etag(conn, CCIB_VIEW, "misp/manifest.json", exports.ExportQuery(), sealer=SEALER)
        before = orjson.loads(exports.misp_manifest(conn, CCIB_VIEW, exports.ExportQuery()))[uid]["timestamp"]
    time.sleep(1.1)  # MISP timestamps are whole seconds
    relationships.link(db, CCIB, DOMAIN, ACCOUNT, "pays-to", tlp=GREEN, region="TH")
    with db.read() as conn:
        after_tag = exports.etag(conn, CCIB_VIEW, "misp/manifest.json", exports.ExportQuery(), sealer=SEALER)
        after = orjson.loads(exports.misp_manifest(conn, CCIB_VIEW, exports.ExportQuery()))[uid]
    assert after_tag != before_tag and int(after["timestamp"]) > int(before)
    # ... and a closed operation's analysis is completed.
    operations.set_status(db, uid, "closed", CCIB)
    with db.read() as conn:
        event = orjson.loads(b"".join(exports.misp_event(conn, CCIB_VIEW, exports.ExportQuery(), uid)))["Event"]
    assert event["analysis"] == "2" and event["uuid"] == uid
