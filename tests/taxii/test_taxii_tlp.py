"""The TLP matrix over TAXII: ccib-th publishes at each of the five levels (level i holds i+1
indicators and one sighting); each reader must see exactly what the visibility rule gives,
through every TAXII read path (objects, manifest, object by id, versions, match[id]). The write
path (POST to ``submissions``) runs on a registry of its own: a capped contributor neither changes
nor learns of what its cap hides (tests/web/write_matrix.py)."""

from __future__ import annotations

import pytest
import requests
from taxii2client.v21 import as_pages

from registry.domain.tlp import LEVELS
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.sightings import add_sighting
from registry.stix.markings import TLP2_IDS
from tests.taxii.fixtures import (
    ORG_OF_KEY,
    another_database,
    client_collection,
    launch,
    of_type,
    seed,
    stop_server,
)
from tests.web import write_matrix as wm

SOURCE = "ccib-th"
# key → the levels of ccib-th's data it sees
READERS = {
    "ccib-reader": set(LEVELS),  # the source org, capped at red
    "ccib-green": {"clear", "green"},  # the source org, capped at green
    "pdrm-reader": {"clear", "green", "amber", "amber+strict"},  # another member
    "bank-green": {"clear", "green"},  # a GREEN-capped key
    "admin": {"clear", "green", "amber", "amber+strict"},  # another org capped at red: no one else's RED
}
EXPECTED_INDICATORS = {"ccib-reader": 15, "ccib-green": 3, "pdrm-reader": 10, "bank-green": 3, "admin": 10}


def values(i: int, level: str) -> list[str]:
    return [f"n{n}.{level.replace('+', '-')}.tlp-taxii.example" for n in range(i + 1)]


@pytest.fixture(scope="module")
def matrix(server):
    server.keys["ccib-green"] = create_key(server.db, SOURCE, "reader", "green", by=ON_SERVER)["key"]
    ORG_OF_KEY["ccib-green"] = SOURCE
    for i, level in enumerate(LEVELS):
        seed(server.db, SOURCE, values(i, level), tlp=level)
        add_sighting(server.db, org=SOURCE, value=values(i, level)[0], case_ref=f"CASE-{i}", tlp=level)
    return server


def everything(matrix, key: str, collection: str = "indicators") -> list[dict]:
    coll = client_collection(matrix, key, collection)
    return [o for env in as_pages(coll.get_objects, per_request=4) for o in env["objects"]]


@pytest.mark.parametrize("key", sorted(READERS))
def test_objects_show_exactly_the_visible_levels(matrix, key):
    objects = everything(matrix, key)
    indicators = of_type(objects)
    assert len(indicators) == len({o["id"] for o in indicators}) == EXPECTED_INDICATORS[key]
    levels = {level for level in LEVELS if TLP2_IDS[level] in {m for o in indicators for m in o["object_marking_refs"]}}
    assert levels == READERS[key]
    # No marking of a hidden level is served, even as context.
    markings = {o["id"] for o in of_type(objects, "marking-definition")}
    assert markings == {TLP2_IDS[level] for level in READERS[key]}
    sightings = of_type(objects, "sighting")
    assert all(set(s.get("object_marking_refs", [])) <= markings for s in sightings)
    assert len(sightings) == len(READERS[key])  # one per visible level
    assert {s["sighting_of_ref"] for s in sightings} <= {o["id"] for o in indicators}
    # The per-kind collection agrees.
    assert len(of_type(everything(matrix, key, "domain"))) == EXPECTED_INDICATORS[key]


@pytest.mark.parametrize("key", sorted(READERS))
def test_manifest_and_by_id_show_exactly_the_visible_levels(matrix, key):
    every = everything(matrix, "ccib-reader")
    everything_ids = {o["id"]: o for o in of_type(every) + of_type(every, "sighting")}
    own_view = {o["id"]: o for o in everything(matrix, key)}
    coll = client_collection(matrix, key, "domain")
    manifest = [e for env in as_pages(coll.get_manifest, per_request=4) for e in env["objects"]]
    visible = {e["id"] for e in manifest if e["id"] in everything_ids}
    assert len(visible) == EXPECTED_INDICATORS[key] + len(READERS[key])  # indicators and sightings
    for stix_id, obj in everything_ids.items():
        level = next(lv for lv in LEVELS if TLP2_IDS[lv] in obj["object_marking_refs"])
        if level in READERS[key]:
            mine = own_view[stix_id]  # a sighting's case reference is shown to its own org only
            assert coll.get_object(stix_id)["objects"] == [mine]
            assert coll.get_objects(id=stix_id, type=obj["type"])["objects"] == [mine]
            continue
        # Hidden answers exactly like unknown.
        assert coll.get_objects(id=stix_id)["objects"] == []
        for getter in (coll.get_object, coll.object_versions):
            with pytest.raises(requests.HTTPError) as hidden:
                getter(stix_id)
            assert hidden.value.response.status_code == 404


# -- the write path: TAXII POST ----------------------------------------------------------------
@pytest.fixture(scope="module")
def writes(engine_url, tmp_path_factory):
    """A registry of its own (the matrix above counts exactly what it published): ccib-th's RED
    key holds values at every level (tests/web/write_matrix.py); capped ccib-th contributors post."""
    url, cleanup = another_database(engine_url, tmp_path_factory.mktemp("writes-db"))
    live = launch(url, tmp_path_factory.mktemp("writes"))
    for writer, cap in wm.WRITERS.items():
        live.keys[writer] = create_key(live.db, SOURCE, "contributor", cap, by=ON_SERVER)["key"]
        ORG_OF_KEY[writer] = SOURCE
    wm.seed_held(live.db, ("taxii",))
    yield live
    stop_server(live.process)
    live.db.dispose()
    cleanup()


@pytest.mark.parametrize("writer", sorted(wm.WRITERS))
def test_a_taxii_post_never_changes_or_reveals_what_the_writer_cannot_see(writes, writer):
    before = wm.snapshot(writes.db, "taxii", writer)
    values = [wm.held("taxii", writer, level) for level in LEVELS] + [wm.unheard("taxii", writer)]
    objects = wm.stix_objects(values)
    status = client_collection(writes, writer, "submissions").add_objects(
        {"objects": objects}, wait_for_completion=True, poll_interval=0.1)
    assert (status.status, status.success_count, status.failure_count) == ("complete", len(objects), 0)
    wm.check_rows(before, wm.snapshot(writes.db, "taxii", writer), "taxii", writer)
    wm.check_lowered(writes.db, writer, "taxii", writes.keys[writer][:12])
    # Read back by its id, the Indicator posted for a hidden value is the writer's own object, as
    # for the unknown value; and reading everything, the writer sees nothing else of them.
    coll = client_collection(writes, writer, "indicators")
    posted = of_type(objects)
    hidden = [posted[LEVELS.index(level)] for level in wm.hidden_from(writer)] + [posted[-1]]
    for obj in hidden:
        (found,) = coll.get_object(obj["id"])["objects"]
        assert (found["pattern"], found["object_marking_refs"]) == (obj["pattern"], [TLP2_IDS["clear"]])
    seen = [o for env in as_pages(coll.get_objects, per_request=50) for o in env["objects"]]
    for obj in hidden:
        assert [o["id"] for o in of_type(seen) if o["pattern"] == obj["pattern"]] == [obj["id"]]
