"""Operations (groupings) and relationships over TAXII, on a live server on each engine
(docs/stix-taxii.md, "Operations"): served in the same collections as the Indicators, to the keys
that may see them only, each page with the SCOs they name, paged by the change sequence with
``added_after`` and ``next``, found by id; a pull brings them into another registry."""

from __future__ import annotations

import pytest
from taxii2client.v21 import as_pages

from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import operations, relationships
from registry.services.federation import pull
from registry.services.keys import Principal
from registry.storage import operations as op_store
from registry.storage import relationships as rel_store
from registry.storage.db import Database
from tests.taxii.fixtures import (
    another_database,
    client_collection,
    collection_id,
    seed,
    seed_members,
    taxii_get,
)

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=RED, actor="reg_ccib")
PDRM = Principal(org="pdrm-my", role="contributor", max_tlp=RED, actor="reg_pdrm")
PHONE, WALLET, DOMAIN = "+66812345670", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "op-taxii.example"


@pytest.fixture(scope="module")
def picture(server):
    """ccib-th's AMBER operation of a phone, a wallet and a domain; ccib-th's GREEN and AMBER
    relationships and pdrm-my's RED one."""
    seed(server.db, "ccib-th", [PHONE, DOMAIN], tlp=GREEN)
    uid = operations.create(server.db, CCIB, name="Compound over TAXII", tlp=AMBER)["id"]
    operations.add_values(server.db, uid, [PHONE, WALLET, DOMAIN], CCIB)
    links = {
        "green": relationships.link(server.db, CCIB, DOMAIN, PHONE, "contacts", tlp=GREEN)["id"],
        "amber": relationships.link(server.db, CCIB, PHONE, WALLET, "pays-to", tlp=AMBER)["id"],
        "red": relationships.link(server.db, PDRM, PHONE, DOMAIN, "same-operator", tlp=RED)["id"],
    }
    return uid, links


def everything(server, key: str, collection: str = "indicators", per_request: int = 1000) -> list[list[dict]]:
    """Every page's objects."""
    pages = as_pages(client_collection(server, key, collection).get_objects, per_request=per_request)
    return [envelope.get("objects", []) for envelope in pages]


def own(pages: list[list[dict]], stix_type: str) -> dict[str, dict]:
    return {o["id"]: o for page in pages for o in page if o["type"] == stix_type}


@pytest.mark.parametrize(("key", "grouped", "levels"), [
    ("ccib-reader", True, {"green", "amber"}),  # not pdrm-my's RED statement
    ("pdrm-reader", True, {"green", "amber"}),  # its key is capped below RED: not its own RED either
    ("bank-green", False, {"green"}),
    ("admin", True, {"green", "amber"}),
])
def test_each_key_gets_what_it_may_see(server, picture, key, grouped, levels):
    uid, links = picture
    pages = everything(server, key)
    groupings, rels = own(pages, "grouping"), own(pages, "relationship")
    assert list(groupings) == ([f"grouping--{uid}"] if grouped else [])
    assert set(rels) == {f"relationship--{links[level]}" for level in levels}
    # Each page stands alone: the SCOs, identities and markings its groupings and relationships name.
    for page in pages:
        ids = {o["id"] for o in page}
        for obj in page:
            if obj["type"] == "relationship":
                assert {obj["source_ref"], obj["target_ref"], obj["created_by_ref"], *obj["object_marking_refs"]} <= ids
            if obj["type"] == "grouping":
                scos = [r for r in obj["object_refs"] if not r.startswith(("indicator--", "relationship--"))]
                assert len(scos) == 3 and set(scos) <= ids and obj["created_by_ref"] in ids


def test_collections_of_one_kind_hold_relationships_with_an_end_of_that_kind(server, picture):
    _uid, links = picture
    wallets = everything(server, "ccib-reader", "crypto-wallet")
    assert own(wallets, "grouping") == {} and set(own(wallets, "relationship")) == {f"relationship--{links['amber']}"}
    domains = everything(server, "ccib-reader", "domain")
    assert set(own(domains, "relationship")) == {f"relationship--{links['green']}"}
    assert own(domains, "indicator") and all(
        "domain-name" in o["pattern"] for o in own(domains, "indicator").values())


def test_paging_by_change_sequence_and_added_after(server, picture):
    uid, _links = picture
    whole = everything(server, "ccib-reader")
    one_by_one = everything(server, "ccib-reader", per_request=1)
    kinds = ("indicator", "sighting", "grouping", "relationship")
    served = [o["id"] for page in one_by_one for o in page if o["type"] in kinds]
    assert len(served) == len(set(served))  # never twice
    assert set(served) == {o["id"] for page in whole for o in page if o["type"] in kinds}  # none skipped
    # Fed back as added_after, the last date added brings only what changed after it.
    first = client_collection(server, "ccib-reader").get_objects()
    last = taxii_get(server, f"/taxii2/api/collections/{collection_id('indicators')}/objects/",
                     "ccib-reader").headers["X-TAXII-Date-Added-Last"]
    assert first["objects"]
    later = taxii_get(server, f"/taxii2/api/collections/{collection_id('indicators')}/objects/", "ccib-reader",
                      params={"added_after": last})
    assert later.status_code == 200 and later.json().get("objects", []) == []
    operations.add_values(server.db, uid, ["late-member.example"], CCIB)  # a new version of the grouping
    newer = taxii_get(server, f"/taxii2/api/collections/{collection_id('indicators')}/objects/", "ccib-reader",
                      params={"added_after": last}).json()["objects"]
    (grouping,) = [o for o in newer if o["type"] == "grouping"]
    assert any(o.get("value") == "late-member.example" for o in newer) and grouping["id"] == f"grouping--{uid}"


def test_by_id_to_the_keys_that_may_see_it(server, picture):
    uid, links = picture
    base = f"/taxii2/api/collections/{collection_id('indicators')}/objects/"
    got = taxii_get(server, f"{base}grouping--{uid}/", "pdrm-reader")
    assert got.status_code == 200 and got.json()["objects"][0]["name"] == "Compound over TAXII"
    assert taxii_get(server, f"{base}grouping--{uid}/", "bank-green").status_code == 404
    assert taxii_get(server, f"{base}relationship--{links['red']}/", "admin").status_code == 404
    assert taxii_get(server, f"{base}relationship--{links['green']}/", "bank-green").status_code == 200
    wallet = f"/taxii2/api/collections/{collection_id('crypto-wallet')}/objects/"
    assert taxii_get(server, f"{wallet}relationship--{links['green']}/", "ccib-reader").status_code == 404
    assert taxii_get(server, f"{wallet}grouping--{uid}/", "ccib-reader").status_code == 404
    manifest = taxii_get(server, f"/taxii2/api/collections/{collection_id('indicators')}/manifest/", "ccib-reader")
    assert f"grouping--{uid}" in {entry["id"] for entry in manifest.json()["objects"]}


def test_a_pull_brings_the_operation_and_its_relationships(server, picture, engine_url, tmp_path):
    uid, _links = picture
    url, cleanup = another_database(engine_url, tmp_path)
    other = Database(url)
    try:
        seed_members(other)
        counts = pull(other, f"{server.url}/taxii2/api/", "indicators", org="pdrm-my", user="pdrm-my",
                      password=server.keys["pdrm-reader"], per_request=3)
        assert counts["operations"] >= 1 and counts["relationships"] == 2
        with other.read() as conn:
            (op,) = op_store.listing(conn, Viewer.operator())
            members = sorted(m.value for m in op_store.members(conn, op.id))
            rels = sorted((r.source, r.target, r.type, r.org) for r in
                          rel_store.page(conn, Viewer.operator(), after_seq=0, limit=100))
        assert op.stix_id == f"grouping--{uid}" and op.org == "ccib-th" and op.tlp == AMBER
        assert {PHONE, WALLET, DOMAIN} <= set(members)
        assert rels == sorted([(DOMAIN, PHONE, "contacts", "ccib-th"), (PHONE, WALLET, "pays-to", "ccib-th")])
    finally:
        other.dispose()
        cleanup()
