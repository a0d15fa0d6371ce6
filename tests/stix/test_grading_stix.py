"""The Admiralty grading in STIX, on both engines: a graded assertion's Indicator carries it in the
registry's property extension (its definition and schema shipped, stix2-validator strict and
stix2.parse accept the bundle), a TAXII page and a by-id look-up hand out the definition, and an
import reads it back, taking the confidence its credibility maps to only when the Indicator has
none. The registry's own round trip is in test_round_trip.py."""

from __future__ import annotations

import json

import jsonschema
import pytest
from sqlalchemy import text

from registry.services.feeds import run_feed
from registry.services.orgs import add_org
from registry.services.stix_import import import_bundle
from registry.services.submit import Submission
from registry.services.taxii import PageContext
from registry.stix import ids
from registry.stix.export import support_objects
from registry.stix.extension import (
    GRADING_EXTENSION_OBJECT,
    REGISTRY_IDENTITY_OBJECT,
    schema_path,
    schema_urn,
)
from registry.stix.markings import TLP2_IDS
from tests.feeds.support import add_feed
from tests.stix.support import exported, of_type, stix_indicator, submit


@pytest.fixture
def graded(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    submit(db, "ccib-th", [
        Submission("+66812345678", reliability="B", credibility=2),
        Submission("evil-grade.example", credibility=5, confidence=60),
        Submission("45.77.10.9", reliability="F"),
        Submission("plain-grade.example"),
    ], feed="th-scams", external_ref="https://feeds.example/th.csv")
    return db


def by_name(doc: dict) -> dict[str, dict]:
    return {o["name"]: o for o in of_type(doc, "indicator")}


def test_a_graded_indicator_carries_its_grading_in_the_registrys_extension(graded):
    doc = exported(graded)  # stix2-validator (strict) and stix2.parse accept it
    indicators = by_name(doc)
    grading_of = {name: obj.get("extensions", {}).get(ids.GRADING_EXTENSION) for name, obj in indicators.items()}
    assert grading_of == {
        "+66812345678": {"extension_type": "property-extension", "reliability": "B", "credibility": 2},
        "evil-grade.example": {"extension_type": "property-extension", "credibility": 5},
        "45.77.10.9": {"extension_type": "property-extension", "reliability": "F"},
        "plain-grade.example": None,
    }
    assert "extensions" not in indicators["plain-grade.example"]
    # confidence: the source's own, else the one its credibility maps to (STIX 2.1's Admiralty scale).
    assert {name: obj["confidence"] for name, obj in indicators.items()} == {
        "+66812345678": 70, "evil-grade.example": 60, "45.77.10.9": 50, "plain-grade.example": 50}
    # The definition once, after the registry's Identity that made it, before the first graded Indicator.
    definitions = [o for o in of_type(doc, "extension-definition") if o["id"] == ids.GRADING_EXTENSION]
    assert definitions == [GRADING_EXTENSION_OBJECT]
    assert GRADING_EXTENSION_OBJECT["extension_types"] == ["property-extension"]
    order = [o["id"] for o in doc["objects"]]
    first_graded = min(order.index(indicators[n]["id"]) for n in grading_of if grading_of[n])
    assert order.index(ids.REGISTRY_IDENTITY) < order.index(ids.GRADING_EXTENSION) < first_graded
    assert order.count(ids.REGISTRY_IDENTITY) == 1


def test_the_grading_schema_ships_and_holds_what_the_export_writes(graded):
    schema = json.loads(schema_path("admiralty-grading").read_text())
    assert schema["$id"] == schema_urn("admiralty-grading") == GRADING_EXTENSION_OBJECT["schema"]
    for obj in of_type(exported(graded), "indicator"):
        if "extensions" in obj:
            jsonschema.validate(obj["extensions"][ids.GRADING_EXTENSION], schema)
    for bad in ({"extension_type": "property-extension"}, {"extension_type": "property-extension", "reliability": "G"},
                {"extension_type": "property-extension", "credibility": 7},
                {"extension_type": "property-extension", "credibility": "2"}):
        with pytest.raises(jsonschema.ValidationError):  # the schema can fail
            jsonschema.validate(bad, schema)


def test_an_export_without_grades_has_no_grading_definition(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    submit(db, "ccib-th", ["plain-grade.example"])
    doc = exported(db)
    assert ids.GRADING_EXTENSION not in {o["id"] for o in doc["objects"]}


def test_taxii_pages_and_by_id_lookups_hand_out_the_grading_definition():
    context = PageContext({})
    graded = {"type": "indicator", "id": "indicator--1", "object_marking_refs": [TLP2_IDS["green"]],
              "pattern": "[domain-name:value = 'evil-grade.example']",
              "extensions": {ids.GRADING_EXTENSION: {"extension_type": "property-extension", "reliability": "A"}}}
    assert [o["id"] for o in context.new_for(graded)] == [
        TLP2_IDS["green"], REGISTRY_IDENTITY_OBJECT["id"], ids.GRADING_EXTENSION]
    assert context.new_for({**graded, "id": "indicator--2"}) == []
    assert support_objects(ids.GRADING_EXTENSION, {}) == [GRADING_EXTENSION_OBJECT]


def stored(db) -> dict[str, tuple]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT i.value, a.confidence, a.reliability, a.credibility FROM assertion a "
                                 "JOIN indicator i ON i.id = a.indicator_id")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def grade(**properties) -> dict:
    return {"extensions": {ids.GRADING_EXTENSION: {"extension_type": "property-extension", **properties}}}


def test_an_import_reads_the_grading_and_keeps_a_confidence_given(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    objects = [
        stix_indicator("indicator--20000000-0000-4000-8000-000000000001", "a-stix.example", sco="domain-name",
                       **grade(reliability="B", credibility=1)),  # no confidence: the credibility's, 90
        stix_indicator("indicator--20000000-0000-4000-8000-000000000002", "b-stix.example", sco="domain-name",
                       confidence=35, **grade(reliability="b", credibility=1)),  # its confidence kept as is
        stix_indicator("indicator--20000000-0000-4000-8000-000000000003", "c-stix.example", sco="domain-name",
                       confidence=80, **grade(reliability="Z", credibility="2")),  # not grades: none
        stix_indicator("indicator--20000000-0000-4000-8000-000000000004", "d-stix.example", sco="domain-name",
                       confidence=80),  # no grade: none derived back from the confidence
        stix_indicator("indicator--20000000-0000-4000-8000-000000000005", "e-stix.example", sco="domain-name",
                       extensions={ids.GRADING_EXTENSION: "B2"}),
    ]
    report = import_bundle(db, {"type": "bundle", "id": "bundle--20000000-0000-4000-8000-000000000000",
                                "objects": objects}, default_org="ccib-th")
    assert (report.new, report.rejected) == (5, 0)
    assert stored(db) == {"a-stix.example": (90, "B", 1), "b-stix.example": (35, "B", 1),
                          "c-stix.example": (80, None, None), "d-stix.example": (80, None, None),
                          "e-stix.example": (50, None, None)}


def test_an_import_gives_its_grading_to_indicators_without_one(db, tmp_path):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    objects = [
        stix_indicator("indicator--30000000-0000-4000-8000-000000000001", "a-default.example", sco="domain-name"),
        stix_indicator("indicator--30000000-0000-4000-8000-000000000002", "b-default.example", sco="domain-name",
                       **grade(reliability="A")),
    ]
    import_bundle(db, {"type": "bundle", "id": "bundle--30000000-0000-4000-8000-000000000000", "objects": objects},
                  default_org="ccib-th", reliability="D", credibility=4)
    assert stored(db) == {"a-default.example": (30, "D", 4), "b-default.example": (30, "A", 4)}


def test_a_stix_feed_grades_the_indicators_without_their_own(db, tmp_path):
    objects = [
        stix_indicator("indicator--40000000-0000-4000-8000-000000000001", "a-feed.example", sco="domain-name"),
        stix_indicator("indicator--40000000-0000-4000-8000-000000000002", "b-feed.example", sco="domain-name",
                       confidence=75, **grade(reliability="A", credibility=2)),
    ]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--40000000-0000-4000-8000-000000000000",
                                "objects": objects}))
    add_feed(db, "graded-stix", "file://" + str(path), "stix", provider="partner", reliability="E", credibility=5)
    assert run_feed(db, "graded-stix").new == 2
    assert stored(db) == {"a-feed.example": (10, "E", 5), "b-feed.example": (75, "A", 2)}
