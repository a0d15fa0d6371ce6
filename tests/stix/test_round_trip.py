"""Importing our own export into an empty registry gives the same data back (values, sources,
TLP, confidence, labels, valid_until, descriptions, grading, sightings, and the same STIX ids), and
importing it again changes nothing. Plus the import's other rules (TLP spellings, sources,
bad input)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import text

from registry.domain.times import utcnow
from registry.services.errors import Invalid, NotFound
from registry.services.orgs import add_org
from registry.services.sightings import add_sighting
from registry.services.stix_import import import_bundle
from registry.services.submit import Submission
from registry.stix import ids
from registry.stix.markings import TLP2_IDS
from tests.stix.support import bundle, exported, of_type, submit


@pytest.fixture
def second_db(db, sqlite_template, tmp_path):
    """Another empty database on the same engine as ``db``."""
    from tests.conftest import _pg_db, _sqlite_db
    from tests.helpers import drop_pg_schema

    if db.is_sqlite:
        (tmp_path / "second").mkdir()
        other = _sqlite_db(sqlite_template, tmp_path / "second")
        with other.write() as conn:  # a copy of the template: made a registry of its own, as `registry init` does
            conn.execute(text("UPDATE stix_id_key SET key = :key"), {"key": secrets.token_hex(32)})
        yield other
        other.dispose()
        return
    other, schema = _pg_db()
    yield other
    other.dispose()
    drop_pg_schema(schema)


def seed(db) -> None:
    now = utcnow()
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    add_org(db, "pnp-acg", "PNP Anti-Cybercrime Group", "PH")
    submit(db, "ccib-th", [
        Submission("+66812345678", labels=("call-centre-scam",), confidence=90, description="Caller posing as DSI",
                   reliability="B", credibility=2),
        Submission("+85597123*", labels=("call-centre-scam", "mule-account")),
        Submission("45.77.0.0/16", valid_until=now + timedelta(days=90)),
        Submission("http://kbank-verify.example/login?x='1'", tlp="red"),
        Submission("phish.example", stix_id="indicator--0b481f2c-a3ad-5d3f-8cd8-c2310ce0066b"),
        Submission("8.8.8.8"),  # allowlisted: kept, exported as benign
        # the new kinds, as people write them
        Submission("KBank 123-4-56789-0", labels=("mule-account",), confidence=90, reliability="A"),
        Submission("TrueMoney 081-234-5678", tlp="green"),
        Submission("USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", valid_until=now + timedelta(days=30)),
        Submission("https://t.me/kbank_support_th/12", kind="user-account"),
        Submission("wa.me/66812345678", description="WhatsApp of the fake DSI officer"),
        Submission("d41d8cd98f00b204e9800998ecf8427e", stix_id="indicator--5d0c4a36-8c4e-4b1e-9a2f-2e0b1f3c9d47"),
    ], feed="th-scams", confidence=75, tlp="amber", external_ref="https://feeds.example/th.csv")
    submit(db, "pnp-acg", [
        Submission("2a01:4f8::/32", tlp="green"),
        Submission("boss@gcash-refund.example", tlp="clear", labels=("phishing",), credibility=4),  # confidence 30
        Submission("phish.example", tlp="amber+strict", confidence=40),
        Submission("GB29 NWBK 6016 1331 9268 19", tlp="green"),
        Submission("ltc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # a 3… address: the chain travels with it
        Submission("facebook.com/profile.php?id=100012345678", kind="user-account"),
        Submission("x:Scam_Boss", tlp="clear"),
        Submission("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", labels=("fake-bank-app",)),
    ])
    add_sighting(db, org="pnp-acg", value="+66812345678", case_ref="PH-2026-0042", count=3, tlp="amber")
    add_sighting(db, org="pnp-acg", value="acct:TH:KASI:1234567890", case_ref="PH-2026-0044", count=2, tlp="amber")
    add_sighting(db, org="pnp-acg", value="+66812345678", case_ref="PH-2026-0043", count=1, tlp="amber")
    add_sighting(db, org="ccib-th", value="phish.example", count=7, tlp="red")


def assertions(db) -> list:
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT i.kind, i.value, i.allowlisted, o.slug, o.name, o.stix_id, a.tlp, a.confidence, a.labels, "
            "a.description, a.reliability, a.credibility, a.valid_until, a.first_seen FROM assertion a "
            "JOIN indicator i ON i.id = a.indicator_id JOIN organization o ON o.id = a.org_id ORDER BY i.value, o.slug"
        ).columns(valid_until=_utc(), first_seen=_utc())).all()
    return [(*r[:12], _ms(r.valid_until), _ms(r.first_seen)) for r in rows]


def sightings(db) -> list:
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT i.value, o.slug, s.case_ref, s.count, s.tlp, s.stix_id, s.first_seen, s.last_seen FROM sighting s "
            "JOIN indicator i ON i.id = s.indicator_id JOIN organization o ON o.id = s.org_id ORDER BY s.stix_id"
        ).columns(first_seen=_utc(), last_seen=_utc())).all()
    return [(*r[:6], _ms(r.first_seen), _ms(r.last_seen)) for r in rows]


def _utc():
    from registry.storage import tables as t

    return t.assertion.c.first_seen.type


def _ms(dt):
    return None if dt is None else dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def comparable(doc: dict) -> dict:
    """Exported objects by id, without what a re-import legitimately changes: ``modified`` and
    ``created`` of stored rows and orgs (when the copy was written) and the feed name (the
    copy's rows are direct submissions, so the reference reads ``ccib-th`` with the same URL)."""
    out = {}
    for obj in doc["objects"]:
        obj = dict(obj)
        obj.pop("modified", None)
        if obj["type"] in ("sighting", "identity") and obj["id"] != ids.REGISTRY_IDENTITY:
            obj.pop("created", None)
        if obj["type"] == "indicator":
            refs = obj.pop("external_references", [])
            obj["urls"] = [r.get("url") for r in refs]
        out[obj["id"]] = obj
    return out


def test_own_export_into_an_empty_registry_gives_the_same_data(db, second_db):
    seed(db)
    data = bundle(db)
    report = import_bundle(second_db, data)  # every object names its source: no default needed
    assert (report.new, report.allowlisted, report.rejected) == (19, 1, 0)
    assert dict(report.sightings) == {"new": 4}
    assert sorted((o["org"], o["match"]) for o in report.orgs) == [("ccib-th", "created"), ("pnp-acg", "created")]

    assert assertions(second_db) == assertions(db)
    graded = {r[1]: (r[7], *r[10:12]) for r in assertions(second_db) if r[10] or r[11]}
    assert graded == {"+66812345678": (90, "B", 2), "acct:TH:KASI:1234567890": (90, "A", None),
                      "boss@gcash-refund.example": (30, None, 4)}  # the credibility's confidence, given none
    assert sightings(second_db) == sightings(db)
    first, copy = comparable(exported(db)), comparable(exported(second_db))
    assert copy.keys() == first.keys()
    for stix_id, obj in first.items():
        assert copy[stix_id] == obj, stix_id

    again = import_bundle(second_db, data)
    assert (again.new, again.updated, again.unchanged, again.allowlisted) == (0, 0, 19, 1)
    assert dict(again.sightings) == {"unchanged": 4}
    assert sightings(second_db) == sightings(db)  # counts not added twice


def test_what_a_viewer_exports_is_all_a_copy_gets(db, second_db):
    seed(db)
    from registry.domain.tlp import Viewer

    data = bundle(db, Viewer("pnp-acg", "amber+strict"))
    import_bundle(second_db, data)
    with second_db.read() as conn:
        tlps = sorted(r[0] for r in conn.execute(text("SELECT tlp FROM assertion")))
        cases = sorted(r[0] for r in conn.execute(text("SELECT case_ref FROM sighting")))
    assert "red" not in tlps and len(tlps) == 19
    assert cases == ["PH-2026-0042", "PH-2026-0043", "PH-2026-0044"]  # pnp-acg's own cases travel with its export


def test_tlp_from_markings_labels_and_defaults(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    base = {"type": "indicator", "spec_version": "2.1", "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z", "valid_from": "2026-01-01T00:00:00Z", "pattern_type": "stix"}
    objects = [
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000001", "pattern": "[domain-name:value = 'a.example']",
         "object_marking_refs": [TLP2_IDS["green"], TLP2_IDS["amber+strict"]]},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000002", "pattern": "[domain-name:value = 'b.example']",
         "object_marking_refs": ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]},  # TLP 1.0 RED
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000003", "pattern": "[domain-name:value = 'c.example']",
         "labels": ["tlp:white", "phishing"]},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000004", "pattern": "[domain-name:value = 'd.example']"},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000005", "pattern": "[domain-name:value = 'e.example']",
         "object_marking_refs": ["marking-definition--a0000000-0000-4000-8000-000000000000"]},
        {"type": "marking-definition", "id": "marking-definition--a0000000-0000-4000-8000-000000000000",
         "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000006", "pattern": "[domain-name:value = 'f.example']",
         "confidence": 85, "valid_until": "2030-01-01T00:00:00Z", "revoked": False},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000007", "pattern": "[domain-name:value = 'g.example']",
         "revoked": True},
        {**base, "id": "indicator--10000000-0000-4000-8000-000000000008", "pattern": "rule x { condition: true }",
         "pattern_type": "yara"},
    ]
    report = import_bundle(db, {"type": "bundle", "id": "bundle--10000000-0000-4000-8000-000000000000",
                                "objects": objects}, default_org="ccib-th", tlp="green")
    assert report.skipped == {}
    assert [(r.line_no, r.reason) for r in report.rejects] == [
        ("indicator--10000000-0000-4000-8000-000000000008", "pattern_type yara is not STIX patterning")]
    with db.read() as conn:
        rows = dict(conn.execute(text(
            "SELECT i.value, a.tlp || ' ' || a.confidence || ' ' || a.labels FROM assertion a "
            "JOIN indicator i ON i.id = a.indicator_id")).all())
    assert rows == {
        "a.example": "amber+strict 50 ,", "b.example": "red 50 ,", "c.example": "clear 50 ,phishing,",
        "d.example": "green 50 ,",  # no TLP of its own: the import's default
        "e.example": "green 50 ,", "f.example": "green 85 ,",
        "g.example": "green 50 ,",  # revoked: kept as history, ended when it was revoked
    }
    statuses = {r["id"][-1]: r["status"] for r in report.results}
    assert statuses == {"1": "new", "2": "new", "3": "new", "4": "new", "5": "new", "6": "new", "7": "new",
                        "8": "rejected"}


def test_a_revoked_version_ends_the_assertion_it_names(db):
    """A source's (or a federated peer's) revocation reaches the registry: the value is no longer
    listed, and its report is history ending when it was revoked."""
    from registry.domain.tlp import Viewer
    from registry.services.lookup import lookup

    add_org(db, "ccib-th", "Thai CCIB", "TH")
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--10000000-0000-4000-8000-0000000000a1",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "valid_from": "2026-01-01T00:00:00Z", "pattern_type": "stix",
                 "pattern": "[domain-name:value = 'withdrawn.example']"}
    wrap = {"type": "bundle", "id": "bundle--10000000-0000-4000-8000-0000000000b1"}
    import_bundle(db, {**wrap, "objects": [indicator]}, default_org="ccib-th", tlp="green")
    with db.read() as conn:
        assert lookup(conn, ["withdrawn.example"], Viewer.operator())[0]["listed"] is True
    revoked = {**indicator, "modified": "2026-02-01T00:00:00.000Z", "revoked": True}
    report = import_bundle(db, {**wrap, "objects": [revoked]}, default_org="ccib-th", tlp="green")
    assert report.updated == 1
    with db.read() as conn:
        (answer,) = lookup(conn, ["withdrawn.example"], Viewer.operator())
    assert answer["listed"] is False and answer["score"] == 0
    (ended,) = answer["history"]
    assert ended["ended"].startswith("2026-02-01") and ended["why"] == "expired"


def test_an_upload_as_one_org_ignores_the_identities_it_names(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    add_org(db, "pnp-acg", "PNP Anti-Cybercrime Group", "PH")
    submit(db, "ccib-th", ["claimed.example"])
    data = bundle(db)  # created by Thai CCIB's identity
    report = import_bundle(db, data, org="pnp-acg")  # e.g. a TAXII POST with a pnp-acg key
    assert report.new == 1
    assert [(o["org"], o["match"]) for o in report.orgs] == [("pnp-acg", "forced")]


def test_sources_without_creating_orgs(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    data = bundle_with_identity("Some Vendor")
    report = import_bundle(db, data, default_org="ccib-th", create_orgs=False)
    assert [(o["org"], o["match"]) for o in report.orgs] == [("ccib-th", "default")]
    add_org(db, "some-vendor", "Some Vendor Ltd")
    report = import_bundle(db, bundle_with_identity("Some Vendor"), default_org="ccib-th")
    assert [(o["org"], o["match"]) for o in report.orgs] == [("some-vendor", "slug")]


def bundle_with_identity(name: str) -> bytes:
    identity = "identity--20000000-0000-4000-8000-000000000001"
    return orjson.dumps({"type": "bundle", "id": "bundle--20000000-0000-4000-8000-000000000000", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": identity, "name": name, "identity_class": "organization",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--20000000-0000-4000-8000-000000000002",
         "created_by_ref": identity, "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "valid_from": "2026-01-01T00:00:00Z", "pattern_type": "stix", "pattern": "[url:value = 'http://v.example/']"},
    ]})


def test_observables_are_content_only_without_indicators(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    objects = [
        {"type": "phone-number", "spec_version": "2.1", "id": "phone-number--fdd65488-fc91-527d-9ddb-057b202a6e8f",
         "value": "+66812345678", "object_marking_refs": [TLP2_IDS["green"]]},
        {"type": "observed-data", "id": "observed-data--30000000-0000-4000-8000-000000000001",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z", "number_observed": 1,
         "objects": {"0": {"type": "domain-name", "value": "observed.example"}, "1": {"type": "file", "name": "x"}}},
    ]
    report = import_bundle(db, {"type": "bundle", "objects": objects}, default_org="ccib-th")
    assert (report.read, report.new) == (2, 2)
    with db.read() as conn:
        rows = dict(conn.execute(text(
            "SELECT i.value, a.tlp FROM assertion a JOIN indicator i ON i.id = a.indicator_id")).all())
    assert rows == {"+66812345678": "green", "observed.example": "amber"}


def test_a_sighting_of_an_unknown_indicator_is_rejected(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--40000000-0000-4000-8000-000000000001",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "sighting_of_ref": "indicator--40000000-0000-4000-8000-000000000002"}
    seen = []
    report = import_bundle(db, [sighting], default_org="ccib-th", on_reject=seen.append)
    assert report.sightings == {"rejected": 1}
    assert [r.reason for r in seen] == [
        "sighting of indicator--40000000-0000-4000-8000-000000000002, an indicator neither in the bundle nor stored"]
    assert report["results"] == [{"id": sighting["id"], "status": "rejected", "error": seen[0].reason}]


def test_a_sighting_of_an_indicator_imported_earlier(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    own = "indicator--50000000-0000-4000-8000-000000000001"
    submit(db, "ccib-th", [Submission("earlier.example", stix_id=own)])
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--50000000-0000-4000-8000-000000000002",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "sighting_of_ref": own, "count": 5, "first_seen": "2026-01-02T00:00:00Z",
                "last_seen": "2026-01-03T00:00:00Z"}
    report = import_bundle(db, [sighting], default_org="ccib-th")
    assert report.sightings == {"new": 1}
    (exported_sighting,) = of_type(exported(db), "sighting")
    assert exported_sighting["id"] == sighting["id"] and exported_sighting["sighting_of_ref"] == own
    assert (exported_sighting["count"], exported_sighting["first_seen"], exported_sighting["last_seen"]) == (
        5, "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z")


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"type": "bundle", "objects": {}}', b'"text"'])
def test_bad_input_is_invalid(db, data):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    with pytest.raises(Invalid):
        import_bundle(db, data, default_org="ccib-th")


def test_objects_of_unknown_source_need_an_org(db):
    data = bundle_with_identity("Anyone").replace(b'"created_by_ref":"identity--20000000-0000-4000-8000-000000000001",', b"")
    with pytest.raises(Invalid, match="give the org"):
        import_bundle(db, data)
    with pytest.raises(NotFound):
        import_bundle(db, data, default_org="nobody")
    with db.read() as conn:  # nothing was written
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar() == 0


def test_malformed_objects_are_rejected_or_skipped_not_fatal(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    good = {"type": "indicator", "id": "indicator--60000000-0000-4000-8000-000000000001",
            "pattern": "[domain-name:value = 'fine.example']", "valid_from": "2026-01-01T00:00:00Z"}
    objects = [
        good,
        {"type": "indicator", "id": ["not", "a", "string"], "pattern": {"x": 1}, "labels": "tlp:red",
         "created_by_ref": {"x": 1}, "object_marking_refs": "marking-definition--x", "confidence": "high"},
        {"type": ["indicator"], "id": {}},
        {"type": "indicator", "id": "indicator--60000000-0000-4000-8000-000000000002", "pattern": None},
        {"type": "indicator", "id": "indicator--60000000-0000-4000-8000-000000000003",
         "pattern": "[domain-name:value = 'odd.example']", "valid_from": "yesterday", "valid_until": 5,
         "external_references": {"url": "x"}, "labels": [1, None, "ok-label"]},
        {"type": "sighting", "id": "sighting--60000000-0000-4000-8000-000000000004", "sighting_of_ref": ["x"],
         "where_sighted_refs": "identity--x", "count": "many"},
        {"type": "sighting", "id": "sighting--60000000-0000-4000-8000-000000000005",
         "sighting_of_ref": good["id"], "count": True, "first_seen": 7},
        {"type": "identity", "id": None, "name": 5},
    ]
    report = import_bundle(db, objects, default_org="ccib-th")
    assert report.new == 2
    assert report.sightings == {"rejected": 1, "new": 1}
    assert report.rejected == 3  # two patterns that are not patterns, one sighting of nothing
    with db.read() as conn:
        rows = dict(conn.execute(text(
            "SELECT i.value, a.labels FROM assertion a JOIN indicator i ON i.id = a.indicator_id")).all())
    assert rows == {"fine.example": ",", "odd.example": ",ok-label,"}
