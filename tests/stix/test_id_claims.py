"""One id, one object: an imported object never takes an id another indicator or another org's
sighting holds (it is stored under a new one, and the import says so), and a Sighting naming
an indicator its org may not see is answered as one naming an unknown id. Through the importer
itself, `registry import` and a STIX feed run; the HTTP routes and pulls are in tests/taxii."""

from __future__ import annotations

import json

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from registry.cli import main
from registry.domain.tlp import Viewer
from registry.services import stix_export as export
from registry.services.feeds import run_feed
from registry.services.orgs import add_org
from registry.services.stix_import import import_bundle
from registry.stix.claims import DERIVED, HELD, HELD_SIGHTING
from registry.storage import orgs as org_store
from tests.feeds.support import add_feed
from tests.stix.support import (
    bundle,
    exported,
    objects_with_id,
    of_type,
    stix_indicator,
    stix_sighting,
    submit,
)

HELD_ID = "indicator--0a000000-0000-4000-8000-000000000001"
RED_ID = "indicator--0b000000-0000-4000-8000-000000000001"
UNKNOWN_ID = "indicator--0b000000-0000-4000-8000-0000000000ff"
SIGHTING_ID = "sighting--0c000000-0000-4000-8000-000000000001"
UNKNOWN_REASON = "sighting of REF, an indicator neither in the bundle nor stored"


def members(db) -> None:
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    add_org(db, "bank-x", "Bank X fraud team", "TH")


def identity_of(db, slug: str) -> str:
    with db.read() as conn:
        return org_store.get(conn, slug).stix_id


def derived(db, value: str, slug: str, feed: str = "") -> str:
    with db.read() as conn:
        return export.indicator_ids(conn).derive(value, identity_of(db, slug), feed)


def seed_own(db, org: str, stix_id: str, value: str, tlp: str = "green") -> None:
    """``org``'s indicator of ``value`` under its own id ``stix_id``."""
    report = import_bundle(db, [stix_indicator(stix_id, value, tlp=tlp)], org=org)
    assert (report.new, report.reminted) == (1, 0)


def served(db) -> dict:
    """The operator's STIX export, parsed (not validated: an assertion of a feed without a URL
    exports an external reference stix2-validator refuses, which is not what these tests are about)."""
    return orjson.loads(bundle(db))


def stored_sightings(db) -> list[tuple[str, str, str]]:
    with db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(text(
            "SELECT i.value, o.slug, s.stix_id FROM sighting s JOIN indicator i ON i.id = s.indicator_id "
            "JOIN organization o ON o.id = s.org_id")))


@pytest.mark.parametrize(("org", "value", "feed"), [
    ("pdrm-my", "45.33.22.99", None),  # another source, another value
    ("pdrm-my", "45.33.22.10", None),  # another source, the same value
    ("ccib-th", "45.33.22.99", None),  # the same source, another value
    ("ccib-th", "45.33.22.10", "ccib-stix"),  # the same source and value, through another feed
])
def test_an_id_another_indicator_holds_is_never_stored_again(db, org, value, feed):
    members(db)
    seed_own(db, "ccib-th", HELD_ID, "45.33.22.10")
    report = import_bundle(db, [stix_indicator(HELD_ID, value, tlp="green")], org=org, feed=feed,
                           viewer=Viewer(org, "amber"))
    new_id = derived(db, value, org, feed or "")
    doc = served(db)
    (holder,) = objects_with_id(doc, HELD_ID)
    assert (holder["pattern"], holder["created_by_ref"]) == ("[ipv4-addr:value = '45.33.22.10']",
                                                             identity_of(db, "ccib-th"))
    (moved,) = objects_with_id(doc, new_id)
    assert (moved["pattern"], moved["created_by_ref"]) == (f"[ipv4-addr:value = '{value}']", identity_of(db, org))
    for viewer in (Viewer.operator(), Viewer(org, "amber")):  # TAXII objects/<id>/: the holder's, for everyone
        with db.read() as conn:
            assert [o["pattern"] for o in export.objects_by_id(conn, viewer, HELD_ID)] == [holder["pattern"]]
    assert (report.new, report.reminted) == (1, 1)  # and the import says so
    assert report.remints == [{"id": HELD_ID, "new_id": new_id, "reason": HELD}]
    assert report.results == [{"id": HELD_ID, "status": "new", "new_id": new_id, "id_reason": HELD}]
    # The holder posting its own again adds nothing, and keeps its id.
    again = import_bundle(db, [stix_indicator(HELD_ID, "45.33.22.10", tlp="green")], org="ccib-th")
    assert (again.new, again.unchanged, again.reminted) == (0, 1, 0)


def test_an_id_the_registry_derives_for_another_indicator_is_never_stored(db):
    members(db)
    submit(db, "ccib-th", ["45.33.22.10"], tlp="green")
    (ccib,) = of_type(exported(db), "indicator")
    reports = {value: import_bundle(db, [stix_indicator(ccib["id"], value)], org="pdrm-my", viewer=Viewer("pdrm-my"))
               for value in ("45.33.22.99", "45.33.22.10")}  # the case, then another source's same value
    doc = exported(db)
    assert [o["created_by_ref"] for o in objects_with_id(doc, ccib["id"])] == [identity_of(db, "ccib-th")]
    assert len(of_type(doc, "indicator")) == len({o["id"] for o in of_type(doc, "indicator")}) == 3
    for value, report in reports.items():
        assert report.new == 1
        assert report.remints == [{"id": ccib["id"], "new_id": derived(db, value, "pdrm-my"), "reason": DERIVED}]
    # A source posting back its own export: its derived ids are its own, nothing is new or reminted.
    again = import_bundle(db, bundle(db, source="ccib-th"), org="ccib-th", viewer=Viewer("ccib-th", "red"))
    assert (again.new, again.unchanged, again.reminted) == (0, 1, 0)


def test_one_bundle_gives_an_id_to_one_indicator(db):
    members(db)
    report = import_bundle(db, [stix_indicator(HELD_ID, "45.33.22.10"), stix_indicator(HELD_ID, "45.33.22.99")],
                           org="ccib-th")
    assert [o["pattern"] for o in objects_with_id(exported(db), HELD_ID)] == ["[ipv4-addr:value = '45.33.22.10']"]
    assert report.new == 2
    assert report.remints == [{"id": HELD_ID, "new_id": derived(db, "45.33.22.99", "ccib-th"), "reason": HELD}]


@pytest.mark.parametrize("caller", [
    {"org": "pdrm-my", "viewer": Viewer("pdrm-my", "red")},  # API and TAXII: the key's org and TLP cap
    {"default_org": "pdrm-my"},  # registry import, feeds and pulls: what the sighting's org may see
], ids=["key", "org"])
def test_a_sighting_of_an_indicator_its_org_may_not_see_is_one_of_an_unknown_id(db, caller):
    members(db)
    seed_own(db, "ccib-th", RED_ID, "45.33.22.10", tlp="red")
    answers = {}
    for n, ref in enumerate((RED_ID, UNKNOWN_ID)):
        report = import_bundle(db, [stix_sighting(f"{SIGHTING_ID[:-1]}{n}", ref)], **caller)
        answers[ref] = [(r["status"], r["error"].replace(ref, "REF")) for r in report.results]
        assert report.rejected == 1 and [r.text for r in report.rejects] == [ref]
    assert answers[RED_ID] == answers[UNKNOWN_ID] == [("rejected", UNKNOWN_REASON)]
    assert stored_sightings(db) == []
    # Its own org sees it.
    own = import_bundle(db, [stix_sighting(SIGHTING_ID, RED_ID)], org="ccib-th", viewer=Viewer("ccib-th", "red"))
    assert own.sightings == {"new": 1}
    assert stored_sightings(db) == [("45.33.22.10", "ccib-th", SIGHTING_ID)]


def test_a_sighting_needs_the_keys_tlp_cap_to_reach_its_indicator(db):
    members(db)
    seed_own(db, "pdrm-my", HELD_ID, "45.33.22.10", tlp="amber")
    capped = import_bundle(db, [stix_sighting(SIGHTING_ID, HELD_ID)], org="bank-x", viewer=Viewer("bank-x", "green"))
    assert capped.sightings == {"rejected": 1}
    assert capped.results[0]["error"] == UNKNOWN_REASON.replace("REF", HELD_ID)
    wider = import_bundle(db, [stix_sighting(SIGHTING_ID, HELD_ID)], org="bank-x", viewer=Viewer("bank-x", "amber"))
    assert wider.sightings == {"new": 1}


def test_a_sighting_id_another_org_holds_is_not_taken_over(db):
    members(db)
    seed_own(db, "ccib-th", HELD_ID, "45.33.22.10")
    first = import_bundle(db, [stix_sighting(SIGHTING_ID, HELD_ID)], org="ccib-th")
    assert (first.sightings, first.reminted) == ({"new": 1}, 0)
    second = import_bundle(db, [stix_sighting(SIGHTING_ID, HELD_ID)], org="pdrm-my")
    assert second.sightings == {"new": 1}  # recorded, under an id of its own
    (remint,) = second.remints
    assert (remint["id"], remint["reason"]) == (SIGHTING_ID, HELD_SIGHTING)
    assert remint["new_id"].startswith("sighting--") and remint["new_id"] != SIGHTING_ID
    assert second.results[0]["new_id"] == remint["new_id"]
    assert stored_sightings(db) == sorted([("45.33.22.10", "ccib-th", SIGHTING_ID),
                                           ("45.33.22.10", "pdrm-my", remint["new_id"])])
    assert len(objects_with_id(exported(db), SIGHTING_ID)) == 1
    # Each org posting its own again adds nothing.
    for org in ("ccib-th", "pdrm-my"):
        assert import_bundle(db, [stix_sighting(SIGHTING_ID, HELD_ID)], org=org).sightings in (
            {"unchanged": 1}, {"updated": 1})


def conflicting_bundle() -> bytes:
    """An indicator under ccib-th's id, and a sighting of ccib-th's RED indicator."""
    return orjson.dumps({"type": "bundle", "id": "bundle--0d000000-0000-4000-8000-000000000001", "objects": [
        stix_indicator(HELD_ID, "45.33.22.99", tlp="green"), stix_sighting(SIGHTING_ID, RED_ID)]})


def seed_ccib(db) -> None:
    members(db)
    seed_own(db, "ccib-th", HELD_ID, "45.33.22.10")
    seed_own(db, "ccib-th", RED_ID, "45.33.22.11", tlp="red")


def assert_ccib_keeps_its_ids(db) -> None:
    doc = exported(db)
    assert [o["pattern"] for o in objects_with_id(doc, HELD_ID)] == ["[ipv4-addr:value = '45.33.22.10']"]
    assert [o["pattern"] for o in objects_with_id(doc, derived(db, "45.33.22.99", "pdrm-my"))] == [
        "[ipv4-addr:value = '45.33.22.99']"]
    assert stored_sightings(db) == []


def test_registry_import_of_a_bundle(db, tmp_path, monkeypatch):
    seed_ccib(db)
    path = tmp_path / "bundle.json"
    path.write_bytes(conflicting_bundle())
    monkeypatch.setenv("REGISTRY_DATABASE_URL", db.url)
    result = CliRunner().invoke(main, ["import", str(path), "--org", "pdrm-my", "--json"], catch_exceptions=False)
    counts = json.loads(result.stdout)
    assert (counts["new"], counts["sightings"], counts["reminted"]) == (1, {"rejected": 1}, 1)
    new_id = derived(db, "45.33.22.99", "pdrm-my")
    assert counts["remints"] == [{"id": HELD_ID, "new_id": new_id, "reason": HELD}]
    assert [r["reason"] for r in counts["rejects"]] == [UNKNOWN_REASON.replace("REF", RED_ID)]
    assert_ccib_keeps_its_ids(db)
    again = CliRunner().invoke(main, ["import", str(path), "--org", "pdrm-my"], catch_exceptions=False)
    assert f"  {HELD_ID} stored as {new_id}: {HELD}" in again.stdout.splitlines()


def test_a_stix_feed_run(db, tmp_path):
    seed_ccib(db)
    path = tmp_path / "feed.json"
    path.write_bytes(conflicting_bundle())
    add_feed(db, "pdrm-stix", f"file://{path}", "stix", provider="pdrm-my")
    run = run_feed(db, "pdrm-stix")
    assert (run.status, run.new, run.rejected) == ("ok", 1, 1)
    with db.read() as conn:  # the feed's assertion is served under the id derived for its own feed
        ids = export.indicator_ids(conn)
    doc = served(db)
    assert [o["pattern"] for o in objects_with_id(doc, HELD_ID)] == ["[ipv4-addr:value = '45.33.22.10']"]
    assert [o["pattern"] for o in objects_with_id(doc, ids.derive("45.33.22.99", identity_of(db, "pdrm-my"),
                                                                  "pdrm-stix"))] == ["[ipv4-addr:value = '45.33.22.99']"]
    assert stored_sightings(db) == []
