"""One id, one object, over HTTP against a real `registry serve` (SQLite and PostgreSQL): a
bundle posted to the API or to TAXII never takes an id another org's indicator holds (its own
or one the registry derives), TAXII objects/<id>/ and the STIX export serve that id's one
object to everyone, and a Sighting of an id the key may not see is answered as an unknown one."""

from __future__ import annotations

import orjson
import pytest

from registry.services import stix_export as export
from registry.services.stix_import import import_bundle
from registry.stix.claims import DERIVED, HELD
from registry.storage import orgs as org_store
from tests.stix.support import objects_with_id, stix_indicator, stix_sighting
from tests.taxii.fixtures import client_collection, collection_id, of_type, seed, taxii_get

HELD_ID = "indicator--1a000000-0000-4000-8000-000000000001"
RED_ID = "indicator--1b000000-0000-4000-8000-000000000001"
UNKNOWN_ID = "indicator--1b000000-0000-4000-8000-0000000000ff"
STIX_MEDIA = "application/stix+json;version=2.1"
UNKNOWN = "sighting of REF, an indicator neither in the bundle nor stored"


@pytest.fixture(scope="module")
def seeded(server):
    """ccib-th's GREEN indicator under its own id, its RED one, and a GREEN one whose id is derived."""
    import_bundle(server.db, [stix_indicator(HELD_ID, "45.33.22.10", tlp="green"),
                              stix_indicator(RED_ID, "45.33.22.11", tlp="red")], org="ccib-th")
    seed(server.db, "ccib-th", ["45.33.22.12"])
    with server.db.read() as conn:
        server.derived = export.indicator_ids(conn)
        server.identity = {slug: org_store.get(conn, slug).stix_id for slug in ("ccib-th", "pdrm-my")}
    return server


def derived_of(live, value: str, org: str) -> str:
    return live.derived.derive(value, live.identity[org], "")


def object_at(live, stix_id: str, key: str) -> list[str]:
    """The patterns TAXII objects/<id>/ serves ``key``."""
    answer = taxii_get(live, f"/taxii2/api/collections/{collection_id('indicators')}/objects/{stix_id}/", key)
    return [o["pattern"] for o in of_type(answer.json().get("objects", []))]


def assert_one_object_per_id(live, stix_id: str, pattern: str) -> None:
    for key in ("ccib-reader", "pdrm-reader", "bank-green"):
        assert object_at(live, stix_id, key) == [pattern], key
    doc = live.get("/api/v1/export/stix", "ccib-reader").json()
    assert [o["pattern"] for o in objects_with_id(doc, stix_id)] == [pattern]
    ids = [o["id"] for o in doc["objects"]]
    assert len(ids) == len(set(ids))


def test_api_post_of_a_bundle(seeded):
    ccib_derived = derived_of(seeded, "45.33.22.12", "ccib-th")
    bundle = {"type": "bundle", "id": "bundle--1c000000-0000-4000-8000-000000000001", "objects": [
        stix_indicator(HELD_ID, "45.33.22.99", tlp="green"), stix_indicator(ccib_derived, "45.33.22.98", tlp="green"),
        stix_sighting("sighting--1c000000-0000-4000-8000-000000000002", RED_ID),
        stix_sighting("sighting--1c000000-0000-4000-8000-000000000003", UNKNOWN_ID)]}
    answer = seeded.post("/api/v1/indicators", "pdrm-contrib", data=orjson.dumps(bundle),
                         headers={"Content-Type": STIX_MEDIA})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = {r["id"]: r for r in body["results"]}
    assert (results[HELD_ID]["status"], results[HELD_ID]["new_id"], results[HELD_ID]["id_reason"]) == (
        "new", derived_of(seeded, "45.33.22.99", "pdrm-my"), HELD)
    assert (results[ccib_derived]["new_id"], results[ccib_derived]["id_reason"]) == (
        derived_of(seeded, "45.33.22.98", "pdrm-my"), DERIVED)
    assert body["counts"]["reminted"] == 2 and len(body["counts"]["remints"]) == 2
    sightings = [(r["status"], r["error"].replace(ref, "REF"))
                 for r, ref in zip(body["results"][2:], (RED_ID, UNKNOWN_ID), strict=True)]
    assert sightings == [("rejected", UNKNOWN)] * 2
    assert_one_object_per_id(seeded, HELD_ID, "[ipv4-addr:value = '45.33.22.10']")
    assert_one_object_per_id(seeded, ccib_derived, "[ipv4-addr:value = '45.33.22.12']")
    assert object_at(seeded, derived_of(seeded, "45.33.22.99", "pdrm-my"), "bank-green") == [
        "[ipv4-addr:value = '45.33.22.99']"]


def test_taxii_post_to_submissions(seeded):
    ccib_derived = derived_of(seeded, "45.33.22.12", "ccib-th")
    objects = [stix_indicator(HELD_ID, "45.33.22.97", tlp="green"), stix_indicator(ccib_derived, "45.33.22.96", tlp="green"),
               stix_sighting("sighting--1d000000-0000-4000-8000-000000000002", RED_ID),
               stix_sighting("sighting--1d000000-0000-4000-8000-000000000003", UNKNOWN_ID)]
    status = client_collection(seeded, "pdrm-contrib", "submissions").add_objects(
        {"objects": objects}, wait_for_completion=True, poll_interval=0.1)
    messages = {s["id"]: s["message"] for s in status.successes}
    assert messages[HELD_ID] == f"new, stored as {derived_of(seeded, '45.33.22.97', 'pdrm-my')}: {HELD}"
    assert messages[ccib_derived] == f"new, stored as {derived_of(seeded, '45.33.22.96', 'pdrm-my')}: {DERIVED}"
    failures = [(f["id"], f["message"]) for f in status.failures]
    assert failures == [(objects[2]["id"], UNKNOWN.replace("REF", RED_ID)),
                        (objects[3]["id"], UNKNOWN.replace("REF", UNKNOWN_ID))]
    assert_one_object_per_id(seeded, HELD_ID, "[ipv4-addr:value = '45.33.22.10']")
    assert_one_object_per_id(seeded, ccib_derived, "[ipv4-addr:value = '45.33.22.12']")
