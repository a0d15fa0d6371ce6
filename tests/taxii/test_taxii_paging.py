"""Paging by the change sequence: objects sharing one date_added (one transaction) are never
skipped or repeated, whatever the page size, even when more arrive between two pages."""

from __future__ import annotations

import pytest
from taxii2client.v21 import as_pages

from tests.taxii.fixtures import client_collection, of_type, seed, taxii_get

SHARED = [f"+6681234{i:04d}" for i in range(300)]


@pytest.fixture(scope="module")
def same_time(server):
    seed(server.db, "ccib-th", SHARED)  # one transaction: one date_added for all 300
    return server


@pytest.mark.parametrize("per_request", [1, 7, 100, 299, 300, 1000])
def test_pages_of_any_size_give_every_object_once(same_time, per_request):
    coll = client_collection(same_time, "pdrm-reader", "phone")
    pages = list(as_pages(coll.get_manifest, per_request=per_request))
    ids = [e["id"] for p in pages for e in p["objects"]]
    assert len(ids) == len(set(ids)) == 300
    assert len({e["date_added"] for p in pages for e in p["objects"]}) == 1  # they do share it


def test_object_pages_with_context_give_every_object_once(same_time):
    coll = client_collection(same_time, "pdrm-reader", "phone")
    pages = list(as_pages(coll.get_objects, per_request=50))
    ids = [o["id"] for p in pages for o in of_type(p["objects"])]
    assert len(ids) == len(set(ids)) == 300
    assert all(len(p["objects"]) <= 50 for p in pages)


def test_objects_added_between_pages_come_after_and_none_is_lost(same_time):
    path = f"/taxii2/api/collections/{client_collection(same_time, 'pdrm-reader', 'phone').id}/manifest/"
    first = taxii_get(same_time, path, "pdrm-reader", params={"limit": 120}).json()
    seed(same_time.db, "pdrm-my", ["+66899990001", "+66899990002"])
    rest, cursor = [], first["next"]
    while cursor:
        page = taxii_get(same_time, path, "pdrm-reader", params={"limit": 120, "next": cursor}).json()
        rest += page["objects"]
        cursor = page.get("next")
    ids = [e["id"] for e in first["objects"] + rest]
    assert len(ids) == len(set(ids)) == 302


def test_added_after_a_shared_timestamp_excludes_all_of_them(same_time):
    path = f"/taxii2/api/collections/{client_collection(same_time, 'pdrm-reader', 'email').id}/objects/"
    seed(same_time.db, "ccib-th", [f"user{i}@shared-time.example" for i in range(30)])
    first = taxii_get(same_time, path, "pdrm-reader", params={"limit": 10})
    stamp = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] == stamp
    after = taxii_get(same_time, path, "pdrm-reader", params={"added_after": stamp})
    assert after.json() == {"more": False, "objects": []}
    seed(same_time.db, "pdrm-my", ["late@shared-time.example"])
    later = taxii_get(same_time, path, "pdrm-reader", params={"added_after": stamp, "match[type]": "indicator"})
    assert [o["name"] for o in later.json()["objects"]] == ["late@shared-time.example"]
