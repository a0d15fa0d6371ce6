"""TAXII 2.1 through taxii2-client, unchanged, against a real `registry serve` (SQLite and
PostgreSQL): discovery, API root, collections, paging, filters, objects by id, versions,
manifests, adding objects with a status, and the error resources."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from taxii2client.exceptions import AccessError
from taxii2client.v21 import as_pages

from registry.services.taxii import COLLECTIONS, STIX_MEDIA, TAXII_MEDIA
from tests.taxii.fixtures import (
    client_collection,
    client_root,
    client_server,
    collection_id,
    of_type,
    seed,
    taxii_get,
)

DOMAINS = [f"page-{i}.taxii-paging.example" for i in range(250)]
IPS = [f"45.{i}.7.9" for i in range(1, 11)]


@pytest.fixture(scope="module")
def corpus(server):
    """250 domains from ccib-th in one transaction, 10 IPv4 from pdrm-my, all TLP:GREEN."""
    seed(server.db, "ccib-th", DOMAINS)
    seed(server.db, "pdrm-my", IPS)
    return server


def objects_path(name: str, suffix: str = "objects/") -> str:
    return f"/taxii2/api/collections/{collection_id(name)}/{suffix}"


def test_discovery_and_api_root(corpus):
    discovery = client_server(corpus, "bank-green")
    assert discovery.title and discovery.default is not None
    [root] = discovery.api_roots
    assert root.url == f"{corpus.url}/taxii2/api/"
    assert root.versions == [TAXII_MEDIA] and root.max_content_length > 0
    assert root.title == "Registry"


def test_collections_have_stable_ids_titles_and_permissions(corpus):
    reader = {c.alias: c for c in client_root(corpus, "pdrm-reader").collections}
    assert set(reader) == {"indicators", "ipv4", "ipv6", "domain", "url", "phone", "email", "bank-account",
                           "crypto-wallet", "user-account", "file-hash", "submissions"}
    # Ids are uuid5 of the names: written out here, since clients store them.
    assert {c: reader[c].id for c in ("indicators", "domain", "submissions")} == {
        "indicators": "fe035f8e-4d6d-5cc4-a7b7-241bfdc107bf", "domain": "837ddca3-4c6e-5b6b-b716-da3ce04ef2bc",
        "submissions": "f07fba95-3bb7-51ae-b823-c91cae65e505"}
    assert {c.id for c in COLLECTIONS} == {c.id for c in reader.values()}
    assert reader["domain"].id == collection_id("domain") and reader["domain"].title == "Domain names"
    assert {c: reader[c].id for c in ("bank-account", "crypto-wallet", "user-account", "file-hash")} == {
        "bank-account": "57769371-fb32-56f2-a4ec-e4329bd07bd2", "crypto-wallet": "c1e96883-fb57-5380-8f01-1f66f6719c97",
        "user-account": "ae50a33d-8af7-59e4-b2f5-71137c66d60e", "file-hash": "e351cc9c-970d-5bbe-9aef-08a606021c8c"}
    assert {c: reader[c].title for c in ("bank-account", "crypto-wallet", "user-account", "file-hash")} == {
        "bank-account": "Bank and e-wallet accounts", "crypto-wallet": "Crypto wallets",
        "user-account": "Messaging and social accounts", "file-hash": "File hashes"}
    assert reader["indicators"].can_read and not reader["indicators"].can_write
    assert not reader["submissions"].can_read and not reader["submissions"].can_write
    assert reader["indicators"].media_types == [STIX_MEDIA]
    contributor = {c.alias: c for c in client_root(corpus, "pdrm-contrib").collections}
    assert contributor["submissions"].can_write
    one = client_collection(corpus, "pdrm-reader", "ipv4")
    one.refresh()
    assert one.alias == "ipv4" and one.can_read


def test_as_pages_over_more_than_one_page_never_skips_or_repeats(corpus):
    collection = client_collection(corpus, "bank-green", "domain")
    pages = list(as_pages(collection.get_objects, per_request=100))
    assert len(pages) == 3
    assert all(len(p["objects"]) <= 100 for p in pages)
    assert [p["more"] for p in pages] == [True, True, False] and "next" not in pages[-1]
    ids = [o["id"] for p in pages for o in of_type(p["objects"])]
    assert len(ids) == len(set(ids)) == 250
    # Each page stands alone: its indicators' identity and marking come with it.
    for page in pages:
        present = {o["id"] for o in page["objects"]}
        for indicator in of_type(page["objects"]):
            assert indicator["created_by_ref"] in present
            assert set(indicator["object_marking_refs"]) <= present
    patterns = {o["pattern"] for p in pages for o in of_type(p["objects"])}
    assert patterns == {f"[domain-name:value = '{d}']" for d in DOMAINS}


def test_date_added_headers_and_added_after(corpus):
    path = objects_path("ipv4")
    first = taxii_get(corpus, path, "pdrm-reader")
    assert first.status_code == 200 and first.headers["Content-Type"] == TAXII_MEDIA
    last = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] <= last
    assert len(last) == len("2026-11-22T06:00:00.000Z") and last.endswith("Z")
    assert len(of_type(first.json()["objects"])) == 10
    # Fed back as added_after, the last header gives nothing again, then only what is new.
    nothing = taxii_get(corpus, path, "pdrm-reader", params={"added_after": last})
    assert nothing.json() == {"more": False, "objects": []} and "X-TAXII-Date-Added-Last" not in nothing.headers
    time.sleep(0.01)
    seed(corpus.db, "pdrm-my", ["45.99.7.9", "45.98.7.9"])
    newer = client_collection(corpus, "pdrm-reader", "ipv4").get_objects(added_after=last)
    assert sorted(o["pattern"] for o in of_type(newer["objects"])) == [
        "[ipv4-addr:value = '45.98.7.9']", "[ipv4-addr:value = '45.99.7.9']"]


def test_match_type_id_version_spec_version(corpus):
    collection = client_collection(corpus, "bank-green", "domain")
    only = collection.get_objects(type="indicator", limit=5)
    assert [o["type"] for o in only["objects"]] == ["indicator"] * 5 and only["more"]
    # Context objects come with the objects that reference them, never alone.
    assert collection.get_objects(type=["identity", "marking-definition"])["objects"] == []
    with_context = collection.get_objects(type=["indicator", "marking-definition"], limit=5)["objects"]
    assert [o["type"] for o in with_context] == ["marking-definition"] + ["indicator"] * 4
    target = only["objects"][3]
    by_id = collection.get_objects(id=target["id"])
    assert of_type(by_id["objects"]) == [target]
    assert of_type(collection.get_objects(id=target["id"], version=target["modified"])["objects"]) == [target]
    assert collection.get_objects(id=target["id"], version="2001-01-01T00:00:00.000Z")["objects"] == []
    for version in ("first", "last", "all"):
        assert of_type(collection.get_objects(id=target["id"], version=version)["objects"]) == [target]
    assert of_type(collection.get_objects(id=target["id"], spec_version="2.1")["objects"]) == [target]
    assert collection.get_objects(id=target["id"], spec_version="2.0")["objects"] == []
    # Another kind's collection does not hold it.
    assert collection.get_objects(id="indicator--00000000-0000-4000-8000-000000000000")["objects"] == []


def test_object_by_id_versions_and_manifest(corpus):
    collection = client_collection(corpus, "bank-green", "domain")
    target = of_type(collection.get_objects(type="indicator", limit=1)["objects"])[0]
    got = collection.get_object(target["id"])
    assert got["objects"] == [target] and got["more"] is False
    versions = collection.object_versions(target["id"])
    assert versions == {"more": False, "versions": [target["modified"]]}
    manifest_pages = list(as_pages(collection.get_manifest, per_request=100))
    entries = [e for p in manifest_pages for e in p["objects"]]
    assert len(entries) == len({e["id"] for e in entries}) == 250
    assert [len(p["objects"]) for p in manifest_pages] == [100, 100, 50]
    entry = next(e for e in entries if e["id"] == target["id"])
    assert entry["version"] == target["modified"] and entry["media_type"] == STIX_MEDIA
    assert entry["date_added"].endswith("Z")
    other = client_collection(corpus, "bank-green", "ipv4")
    with pytest.raises(requests.HTTPError) as missing:
        other.get_object(target["id"])
    assert missing.value.response.status_code == 404


def test_add_objects_waits_for_completion_and_status_is_kept(corpus):
    indicator = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-20T01:02:03.000Z", "modified": "2026-11-20T01:02:03.000Z",
        "pattern": "[domain-name:value = 'posted.taxii-submit.example']", "pattern_type": "stix",
        "valid_from": "2026-11-20T01:02:03.000Z", "confidence": 70,
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }
    submissions = client_collection(corpus, "pdrm-contrib", "submissions")
    status = submissions.add_objects({"objects": [indicator]}, wait_for_completion=True, poll_interval=0.1)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (1, 1, 0, 0)
    assert status.successes[0]["id"] == indicator["id"]
    again = client_root(corpus, "pdrm-contrib").get_status(status.id)
    assert again.status == "complete" and again.success_count == 1
    # Another org's key cannot read this status.
    assert taxii_get(corpus, f"/taxii2/api/status/{status.id}/", "ccib-reader").status_code == 404
    # And the new indicator is served by the read collections.
    served = client_collection(corpus, "bank-green", "domain").get_objects(
        type="indicator", added_after="2026-01-01T00:00:00Z", id=indicator["id"])
    assert [o["id"] for o in served["objects"]] == [indicator["id"]]


def test_401_is_a_taxii_error_resource_with_a_basic_challenge(corpus):
    missing = taxii_get(corpus, "/taxii2/")
    assert missing.status_code == 401
    assert missing.headers["Content-Type"] == TAXII_MEDIA
    assert missing.headers["WWW-Authenticate"].startswith('Basic realm="registry"')
    body = missing.json()
    assert body["http_status"] == "401" and body["title"] and "Basic" in body["description"]
    wrong = taxii_get(corpus, "/taxii2/api/", "reg_not-a-real-key")
    assert wrong.status_code == 401 and wrong.json()["http_status"] == "401"
    basic_wrong_user = requests.get(f"{corpus.url}/taxii2/api/", auth=("bank-x", corpus.keys["pdrm-reader"]),
                                    headers={"Accept": TAXII_MEDIA}, timeout=30)
    assert basic_wrong_user.status_code == 401
    basic_ok = requests.get(f"{corpus.url}/taxii2/api/", auth=("pdrm-my", corpus.keys["pdrm-reader"]),
                            headers={"Accept": TAXII_MEDIA}, timeout=30)
    assert basic_ok.status_code == 200


def test_403_reader_posting_and_reading_the_write_only_collection(corpus):
    post = requests.post(f"{corpus.url}{objects_path('submissions')}", data=b'{"objects": []}', timeout=30,
                         headers={"Authorization": f"Bearer {corpus.keys['pdrm-reader']}", "Accept": TAXII_MEDIA,
                                  "Content-Type": TAXII_MEDIA})
    assert post.status_code == 403 and post.json()["http_status"] == "403"
    assert post.headers["Content-Type"] == TAXII_MEDIA
    to_read_only = requests.post(f"{corpus.url}{objects_path('indicators')}", data=b'{"objects": []}', timeout=30,
                                 headers={"Authorization": f"Bearer {corpus.keys['pdrm-contrib']}",
                                          "Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA})
    assert to_read_only.status_code == 403
    read_submissions = taxii_get(corpus, objects_path("submissions"), "pdrm-contrib")
    assert read_submissions.status_code == 403
    with pytest.raises(AccessError):
        client_collection(corpus, "pdrm-reader", "submissions").add_objects({"objects": []})


def test_404_unknown_collection_object_status_and_path(corpus):
    for path in (
        "/taxii2/api/collections/no-such-collection/",
        "/taxii2/api/collections/no-such-collection/objects/",
        objects_path("domain", "objects/indicator--00000000-0000-4000-8000-000000000000/"),
        objects_path("domain", "objects/indicator--00000000-0000-4000-8000-000000000000/versions/"),
        f"/taxii2/api/status/{uuid.uuid4()}/",
        "/taxii2/other-root/",
    ):
        answer = taxii_get(corpus, path, "pdrm-reader")
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == TAXII_MEDIA and answer.json()["http_status"] == "404"


def test_405_wrong_method_is_a_taxii_error(corpus):
    answer = requests.delete(f"{corpus.url}/taxii2/api/collections/", timeout=30,
                             headers={"Authorization": f"Bearer {corpus.keys['pdrm-reader']}"})
    assert answer.status_code == 405 and answer.json()["http_status"] == "405"
    assert "GET" in answer.headers["Allow"]
    unknown = requests.post(f"{corpus.url}/taxii2/api/nothing-here/", timeout=30,
                            headers={"Authorization": f"Bearer {corpus.keys['pdrm-reader']}"})
    assert unknown.status_code == 404 and unknown.json()["http_status"] == "404"


def test_406_when_accept_does_not_allow_taxii(corpus):
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        answer = taxii_get(corpus, "/taxii2/api/", "pdrm-reader", accept=accept)
        assert answer.status_code == 406, accept
        assert answer.headers["Content-Type"] == TAXII_MEDIA and answer.json()["http_status"] == "406"
    for accept in ("application/taxii+json", "application/taxii+json; version=2.1", "*/*", None,
                   "text/html, application/taxii+json;version=2.1;q=0.9"):
        assert taxii_get(corpus, "/taxii2/api/", "pdrm-reader", accept=accept).status_code == 200, accept


def test_415_on_a_post_with_the_wrong_content_type(corpus):
    for content_type in ("application/json", "application/stix+json;version=2.1", None):
        headers = {"Authorization": f"Bearer {corpus.keys['pdrm-contrib']}", "Accept": TAXII_MEDIA}
        if content_type:
            headers["Content-Type"] = content_type
        answer = requests.post(f"{corpus.url}{objects_path('submissions')}", data=b'{"objects": []}',
                               headers=headers, timeout=30)
        assert answer.status_code == 415, content_type
        assert answer.json()["http_status"] == "415"


def test_bad_parameters_are_400(corpus):
    for params in ({"limit": "ten"}, {"limit": "0"}, {"next": "abc"}, {"added_after": "yesterday"},
                   {"match[version]": "sometime"}):
        answer = taxii_get(corpus, objects_path("indicators"), "pdrm-reader", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["http_status"] == "400"
    post = requests.post(f"{corpus.url}{objects_path('submissions')}", data=b'{"objects": 3}', timeout=30,
                         headers={"Authorization": f"Bearer {corpus.keys['pdrm-contrib']}",
                                  "Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA})
    assert post.status_code == 400


def test_reads_and_submits_are_audited(corpus):
    client_collection(corpus, "bank-green", "phone").get_objects()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = requests.get(f"{corpus.url}/api/v1/audit", params={"action": "taxii-read", "org": "bank-x"},
                              headers={"Authorization": f"Bearer {corpus.keys['admin']}"}, timeout=30)
        if answer.status_code == 200 and answer.json()["events"]:
            break
        time.sleep(0.1)
    events = answer.json()["events"]
    assert events and events[0]["actor"] and events[0]["org"] == "bank-x"


def test_posted_objects_are_the_callers_whatever_identity_they_name(corpus):
    """A contributor cannot publish under another agency's name: the upload is its own org's."""
    forged = {"type": "identity", "spec_version": "2.1", "id": "identity--" + str(uuid.uuid4()),
              "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
              "name": "Royal Thai Police CCIB", "identity_class": "organization"}
    indicator = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created_by_ref": forged["id"], "created": "2026-11-20T01:02:03.000Z",
        "modified": "2026-11-20T01:02:03.000Z", "pattern": "[ipv4-addr:value = '45.200.7.9']",
        "pattern_type": "stix", "valid_from": "2026-11-20T01:02:03.000Z",
    }
    sighting = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                "created": "2026-11-20T01:02:03.000Z", "modified": "2026-11-20T01:02:03.000Z",
                "sighting_of_ref": indicator["id"], "count": 2}
    malware = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
               "created": "2026-11-20T01:02:03.000Z", "modified": "2026-11-20T01:02:03.000Z",
               "name": "x", "is_family": False}
    bad = {**indicator, "id": f"indicator--{uuid.uuid4()}", "pattern": "[file:name = 'x.exe']"}
    status = client_collection(corpus, "pdrm-contrib", "submissions").add_objects(
        {"objects": [forged, indicator, sighting, malware, bad]})
    assert (status.total_count, status.success_count, status.failure_count) == (5, 3, 2)
    assert {s["id"] for s in status.successes} == {forged["id"], indicator["id"], sighting["id"]}
    assert {f["id"] for f in status.failures} == {malware["id"], bad["id"]}
    assert all(f["message"] for f in status.failures)
    ipv4 = client_collection(corpus, "pdrm-reader", "ipv4")
    [stored] = ipv4.get_objects(id=indicator["id"])["objects"]  # match[id] selects context objects too
    [pdrm] = ipv4.get_object(stored["created_by_ref"])["objects"]  # identities are served by id
    assert pdrm["name"] == "Royal Malaysia Police"
    assert stored["object_marking_refs"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]  # AMBER
    assert of_type(ipv4.get_objects(id=sighting["id"])["objects"], "sighting")


def test_a_limit_below_one_objects_references_still_pages_through(corpus):
    collection = client_collection(corpus, "bank-green", "ipv4")
    expected = len(of_type(collection.get_objects(type="indicator")["objects"]))
    pages = list(as_pages(collection.get_objects, per_request=1))
    ids = [o["id"] for p in pages for o in of_type(p["objects"])]
    assert len(ids) == len(set(ids)) == expected == len(pages)


def test_head_and_manifest_headers(corpus):
    path = objects_path("domain", "manifest/")
    answer = taxii_get(corpus, path, "pdrm-reader", params={"limit": 3})
    body = answer.json()
    assert answer.headers["X-TAXII-Date-Added-First"] == body["objects"][0]["date_added"]
    assert answer.headers["X-TAXII-Date-Added-Last"] == body["objects"][-1]["date_added"]
    head = requests.head(f"{corpus.url}{path}", timeout=30, headers={
        "Authorization": f"Bearer {corpus.keys['pdrm-reader']}", "Accept": TAXII_MEDIA})
    assert head.status_code == 200 and head.headers["Content-Type"] == TAXII_MEDIA
