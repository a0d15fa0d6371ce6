"""Operations and relationships as STIX, both ways, on both engines (docs/stix-taxii.md,
"Operations"): an operation's bundle holds each part at its own TLP as the caller may see it and
passes stix2-validator; it imports into a fresh registry with the same members and relationships,
and again without duplicates; groupings, reports, actors and relationships of other producers
(the OASIS APT1 bundle among them) become operations and relationships."""

from __future__ import annotations

import orjson
import pytest

from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import operation_stix
from registry.services.access import ON_SERVER
from registry.services.errors import NotFound
from registry.services.keys import Principal
from registry.services.stix_import import import_bundle
from registry.stix.markings import TLP2_IDS
from registry.storage import operations as op_store
from registry.storage import relationships as rel_store
from registry.storage.db import Database
from tests.helpers import FIXTURES, add_member_orgs
from tests.stix.support import (
    ACCOUNT,
    CCIB,
    DOMAIN,
    MD5,
    PDRM,
    PHONE,
    SHA256,
    STAMP,
    of_type,
    seed_operation,
    stix_indicator,
    validate,
)
from tests.web.conftest import another_database

GREEN_KEY = Principal(org="pdrm-my", role="reader", max_tlp=GREEN, actor="reg_green")

def bundle_of(db, uid: str, by) -> dict:
    with db.read() as conn:
        doc = operation_stix.operation_bundle(conn, uid, by)
    return validate(orjson.dumps(doc))


def values_of(doc: dict) -> dict[str, dict]:
    """Indicator pattern → Indicator."""
    return {o["pattern"]: o for o in of_type(doc, "indicator")}


def test_each_part_at_its_own_tlp_as_the_caller_may_see_it(db):
    uid = seed_operation(db)
    doc = bundle_of(db, uid, CCIB)
    (grouping,) = of_type(doc, "grouping")
    assert grouping["id"] == f"grouping--{uid}" and grouping["context"] == "suspicious-activity"
    assert grouping["name"] == "Compound K7, Sihanoukville" and grouping["labels"] == ["call-centre-scam"]
    assert grouping["description"] == "One compound's numbers and mule accounts"
    assert grouping["object_marking_refs"] == [TLP2_IDS[AMBER]]
    identities = {o["id"]: o for o in of_type(doc, "identity")}
    assert identities[grouping["created_by_ref"]]["external_references"][0]["external_id"] == "ccib-th"
    # Every member has its SCO at the operation's level (the block has none: no single number) ...
    scos = {o["id"]: o for o in doc["objects"] if o["type"] in (
        "phone-number", "bank-account", "user-account", "domain-name", "file")}
    assert len(scos) == 5 and all(o["object_marking_refs"] == [TLP2_IDS[AMBER]] for o in scos.values())
    files = [o for o in scos.values() if o["type"] == "file"]
    assert files[0]["hashes"] == {"MD5": MD5, "SHA-256": SHA256}  # ccib-th sees a report of the file
    # ... the Indicators of the reports ccib-th may see, each at its own level: not pdrm-my's RED one.
    assert sorted((i["pattern"], i["object_marking_refs"][0]) for i in of_type(doc, "indicator")) == sorted([
        (f"[phone-number:value = '{PHONE}']", TLP2_IDS[AMBER]),
        (f"[domain-name:value = '{DOMAIN}']", TLP2_IDS[AMBER]), (f"[domain-name:value = '{DOMAIN}']", TLP2_IDS[GREEN]),
        (f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']", TLP2_IDS[AMBER]),
        ("[phone-number:value LIKE '+85597123%']", TLP2_IDS[AMBER]),
    ])
    # Relationships between members ccib-th may see, between SCOs, each with its own marking;
    # pdrm-my's RED statement is not there, nor the one with an end outside the operation.
    rels = {o["relationship_type"]: o for o in of_type(doc, "relationship")}
    assert sorted(rels) == ["pays-to", "redirects-to", "same-operator"]
    assert rels["redirects-to"]["object_marking_refs"] == [TLP2_IDS[GREEN]]
    assert rels["redirects-to"]["description"] == "the landing page's button"
    assert rels["pays-to"]["confidence"] == 80 and rels["pays-to"]["source_ref"] in scos
    assert scos[rels["pays-to"]["target_ref"]]["type"] == "bank-account"
    assert identities[rels["same-operator"]["created_by_ref"]]["name"] == "Royal Malaysia Police"
    assert set(grouping["object_refs"]) == {*scos, *(i["id"] for i in of_type(doc, "indicator")),
                                            *(r["id"] for r in rels.values())}
    # pdrm-my sees its own RED report and statement in the same operation.
    theirs = bundle_of(db, uid, PDRM)
    assert "contacts" in {o["relationship_type"] for o in of_type(theirs, "relationship")}
    assert any("telegram" in p for p in values_of(theirs))
    # A key capped below the operation's level: the operation does not exist for it.
    with pytest.raises(NotFound), db.read() as conn:
        operation_stix.operation_bundle(conn, uid, GREEN_KEY)
    with pytest.raises(NotFound), db.read() as conn:
        operation_stix.operation_bundle(conn, "00000000-0000-4000-8000-000000000000", CCIB)


def test_round_trip_into_a_fresh_registry(db, tmp_path):
    uid = seed_operation(db)
    doc = bundle_of(db, uid, ON_SERVER)
    url, cleanup = another_database(db.url, tmp_path)
    fresh = Database(url)
    try:
        report = import_bundle(fresh, orjson.dumps(doc), default_org="ccib-th")
        assert report.operations == {"new": 1} and report.relationships == {"new": 4}
        assert report.skipped == {} and report.remints == []
        again = import_bundle(fresh, orjson.dumps(doc), default_org="ccib-th")
        assert again.operations == {"unchanged": 1} and again.relationships == {"unchanged": 4}
        assert (again.new, again.updated) == (0, 0)
        assert _picture(fresh) == _picture(db)
        with fresh.read() as conn:
            (row,) = op_store.listing(conn, Viewer.operator())
            # The member nobody reported is a member, not a report.
            count = conn.exec_driver_sql(
                "SELECT count(*) FROM assertion a JOIN indicator i ON i.id = a.indicator_id "
                f"WHERE i.value = '{ACCOUNT}'").scalar_one()
        assert count == 0 and row.stix_id == f"grouping--{uid}" and row.stix_type == "grouping"
        # Exported again, the same objects under the same ids.
        back = bundle_of(fresh, row.uid, ON_SERVER)
        assert sorted(o["id"] for o in back["objects"]) == sorted(o["id"] for o in doc["objects"])
    finally:
        fresh.dispose()
        cleanup()


def _picture(db) -> tuple:
    """Every operation's (name, owner, TLP, labels, description, members) and every relationship
    between two members."""
    with db.read() as conn:
        ops = sorted((o.name, o.org, o.tlp, o.labels, o.description, tuple(sorted(m.value for m in op_store.members(conn, o.id))))
                     for o in op_store.listing(conn, Viewer.operator()))
        members = {value for op in ops for value in op[-1]}
        rels = sorted((r.source, r.target, r.type, r.org, r.tlp, r.confidence, r.description)
                      for r in rel_store.page(conn, Viewer.operator(), after_seq=0, limit=1000)
                      if r.source in members and r.target in members)
    return ops, rels


def test_own_ids_come_back_to_their_rows_and_no_one_takes_over_another_orgs(db):
    uid = seed_operation(db)
    doc = bundle_of(db, uid, ON_SERVER)
    report = import_bundle(db, orjson.dumps(doc), default_org="ccib-th")
    assert report.operations == {"unchanged": 1} and report.relationships == {"unchanged": 4}
    with db.read() as conn:
        assert len(op_store.listing(conn, Viewer.operator())) == 1
    # pdrm-my posting ccib-th's grouping (as its own, as the API does) gets an operation of its own.
    theirs = import_bundle(db, orjson.dumps(doc), org="pdrm-my", viewer=Viewer("pdrm-my", RED), create_orgs=False)
    assert theirs.operations == {"new": 1}
    assert {r["id"]: r["reason"] for r in theirs.remints}[f"grouping--{uid}"] == "the id is already another operation's"
    with db.read() as conn:
        rows = {o.org: o for o in op_store.listing(conn, Viewer.operator())}
    assert rows["ccib-th"].uid == uid and rows["pdrm-my"].stix_id is None
    # The relationships ccib-th stated keep their ids; pdrm-my's copies are its own statements.
    reasons = {r["reason"] for r in theirs.remints if r["id"].startswith("relationship--")}
    assert reasons == {"the id is already another relationship's"}


def test_relationships_actors_and_containers_of_other_producers(db):
    add_member_orgs(db)
    actor = "threat-actor--11111111-1111-4111-8111-111111111111"
    a, b = "indicator--a0000000-0000-4000-8000-000000000001", "indicator--a0000000-0000-4000-8000-000000000002"
    domain_sco, ip_sco = "domain-name--b0000000-0000-4000-8000-000000000001", "ipv4-addr--b0000000-0000-4000-8000-000000000002"

    def rel(n: int, source: str, kind: str, target: str, **extra) -> dict:
        return {"type": "relationship", "spec_version": "2.1", "id": f"relationship--c0000000-0000-4000-8000-00000000000{n}",
                "created": STAMP, "modified": STAMP, "relationship_type": kind, "source_ref": source,
                "target_ref": target, **extra}

    objects = [
        stix_indicator(a, "a.example", sco="domain-name", tlp=GREEN),
        stix_indicator(b, "b.example", sco="domain-name", tlp=GREEN),
        {"type": "domain-name", "spec_version": "2.1", "id": domain_sco, "value": "c.example"},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": ip_sco, "value": "203.0.113.7"},
        {"type": "threat-actor", "spec_version": "2.1", "id": actor, "created": STAMP, "modified": STAMP,
         "name": "Compound operator X", "description": "runs the call centre", "labels": ["call-centre-scam"]},
        {"type": "campaign", "spec_version": "2.1", "id": "campaign--11111111-1111-4111-8111-111111111112",
         "created": STAMP, "modified": STAMP, "name": "Nothing indicates it"},
        {"type": "malware", "spec_version": "2.1", "id": "malware--11111111-1111-4111-8111-111111111113",
         "created": STAMP, "modified": STAMP, "name": "m", "is_family": True},
        rel(1, a, "uses", b, confidence=70, start_time="2026-10-01T00:00:00Z"),
        rel(2, domain_sco, "resolves-to", ip_sco, object_marking_refs=[TLP2_IDS[AMBER]]),
        rel(3, a, "indicates", actor),
        rel(4, b, "indicates", "malware--11111111-1111-4111-8111-111111111113"),
        {"type": "grouping", "spec_version": "2.1", "id": "grouping--d0000000-0000-4000-8000-000000000001",
         "created": STAMP, "modified": STAMP, "name": "Their grouping", "context": "suspicious-activity",
         "object_refs": [a, domain_sco, "malware--11111111-1111-4111-8111-111111111113"],
         "object_marking_refs": [TLP2_IDS[AMBER]]},
    ]
    report = import_bundle(db, {"type": "bundle", "id": "bundle--e0000000-0000-4000-8000-000000000001",
                                "objects": objects}, default_org="ccib-th")
    assert report.operations == {"new": 2} and report.relationships == {"new": 2}
    assert report.skipped == {"campaign": 1, "malware": 1, "relationship": 1}
    assert report.new == 2  # the Indicators' values: the SCOs are a grouping's member and ends, not reports
    with db.read() as conn:
        ops = {o.name: (o, sorted(m.value for m in op_store.members(conn, o.id)))
               for o in op_store.listing(conn, Viewer.operator())}
        rels = {r.type: r for r in rel_store.page(conn, Viewer.operator(), after_seq=0, limit=100)}
    (operator_x, members) = ops["Compound operator X"]
    assert members == ["a.example"] and operator_x.stix_type == "threat-actor" and operator_x.stix_id == actor
    assert operator_x.description == "runs the call centre" and operator_x.labels == ",call-centre-scam,"
    grouping, held = ops["Their grouping"]
    assert held == ["a.example", "c.example"] and grouping.tlp == AMBER and grouping.org == "ccib-th"
    assert (rels["related-to"].source, rels["related-to"].target) == ("a.example", "b.example")
    assert rels["related-to"].description == "STIX relationship type: uses" and rels["related-to"].confidence == 70
    assert (rels["resolves-to"].source, rels["resolves-to"].target, rels["resolves-to"].tlp) == (
        "c.example", "203.0.113.7", AMBER)
    # A revoked version of a relationship withdraws the statement.
    withdrawn = import_bundle(db, {"objects": [objects[0], objects[1], {**rel(1, a, "uses", b), "revoked": True}]},
                              default_org="ccib-th")
    assert withdrawn.relationships == {"removed": 1}
    # A key capped at GREEN cannot post an AMBER grouping or relationship (the unmarked ones take GREEN).
    capped = import_bundle(db, {"objects": objects}, org="pdrm-my", viewer=Viewer("pdrm-my", GREEN), create_orgs=False,
                           tlp=GREEN)
    assert capped.refused == {"operation": 1, "relationship": 1}
    assert capped.operations == {"new": 1} and capped.relationships == {"new": 1}


def test_apt1_report_and_actor_become_operations(db):
    add_member_orgs(db)
    data = (FIXTURES / "stix" / "oasis_apt1.json").read_bytes()
    report = import_bundle(db, data, default_org="ccib-th")
    assert report.operations == {"new": 2}
    # Its relationships join Indicators to malware and actors, and SDOs to each other: none between
    # two values the import keeps (three indicates of an actor are that actor's operation).
    assert report.relationships == {} and report.skipped["relationship"] == 27
    with db.read() as conn:
        ops = {o.stix_id: (o, sorted(m.value for m in op_store.members(conn, o.id)))
               for o in op_store.listing(conn, Viewer.operator())}
    apt1, members = ops["report--e33ffe07-2f4c-48d8-b0af-ee2619d765cf"]
    assert apt1.name == "APT1: Exposing One of China's Cyber Espionage Units" and apt1.stix_type == "report"
    assert len(members) == 10 and "hugesoft.org" in members and "md5:001dd76872d80801692ff942308c64e6" in members
    assert apt1.tlp == AMBER and apt1.org == "ccib-th"  # unmarked: the import's default level, its default org
    gorilla, members = ops["threat-actor--6d179234-61fc-40c4-ae86-3d53308d8e65"]
    assert gorilla.name == "Ugly Gorilla" and members == ["arrowservice.net", "hugesoft.org", "msnhome.org"]
    again = import_bundle(db, data, default_org="ccib-th")
    assert again.operations == {"unchanged": 2}
    # Exported back, the report is a grouping of its kept values, valid STIX.
    doc = bundle_of(db, apt1.uid, ON_SERVER)
    (grouping,) = of_type(doc, "grouping")
    assert grouping["name"] == apt1.name and grouping["id"] == f"grouping--{apt1.uid}"
    assert len(of_type(doc, "indicator")) == 10
