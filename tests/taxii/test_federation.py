"""Federation between two registries on 127.0.0.1 (two live servers, two databases): B pulls
A's "indicators" collection with a key of B's org on A, gets exactly what that key may see, and a
second pull fetches only what changed since."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select
from taxii2client.v21 import Collection, as_pages

from registry.domain.tlp import LEVELS
from registry.services.access import ON_SERVER
from registry.services.errors import NotFound
from registry.services.federation import PullFailed, pull
from registry.services.keys import create_key
from registry.services.orgs import add_org
from registry.services.sightings import add_sighting
from registry.storage import tables as t
from registry.storage import taxii as taxii_store
from registry.storage.db import Database
from tests.stix.support import bundle
from tests.taxii.fixtures import (
    another_database,
    client_collection,
    collection_id,
    launch,
    of_type,
    seed,
    seed_members,
    stop_server,
)


def ccib_values(i: int, level: str) -> list[str]:
    return [f"n{n}.{level.replace('+', '-')}.federation.example" for n in range(i + 1)]


@pytest.fixture(scope="module")
def registries(engine_url, tmp_path_factory):
    b_url, cleanup = another_database(engine_url, tmp_path_factory.mktemp("registry-b-db"))
    a = launch(engine_url, tmp_path_factory.mktemp("registry-a"))
    b = launch(b_url, tmp_path_factory.mktemp("registry-b"))
    # A knows B as the member "hub-b" (reader key, default cap AMBER+STRICT); B knows A as "hub-a".
    add_org(a.db, "hub-b", "Registry B", "MY")
    a.keys["hub-b"] = create_key(a.db, "hub-b", "reader", by=ON_SERVER)["key"]
    add_org(a.db, "only-on-a", "An agency registry B does not know", "PH")
    add_org(b.db, "hub-a", "Registry A", "TH")
    for i, level in enumerate(LEVELS):
        seed(a.db, "ccib-th", ccib_values(i, level), tlp=level)
    seed(a.db, "pdrm-my", [f"pdrm{n}.federation.example" for n in range(4)], tlp="green")
    seed(a.db, "only-on-a", [f"+63917123456{n}" for n in range(3)], tlp="clear")
    add_sighting(a.db, org="pdrm-my", value="pdrm0.federation.example", case_ref="PDRM-1", tlp="green")
    yield a, b
    for server in (a, b):
        stop_server(server.process)
        server.db.dispose()
    cleanup()


def pull_a(a, b, **kwargs) -> dict:
    return pull(b.db, f"{a.url}/taxii2/api/", collection_id("indicators"), org="hub-a", user="hub-b",
                password=a.keys["hub-b"], **kwargs)


def pulled_assertions(db: Database) -> list[tuple[str, str]]:
    """(source org, TLP) of every assertion a pull stored."""
    a_, o = t.assertion.c, t.organization.c
    with db.read() as conn:
        rows = conn.execute(select(o.slug, a_.tlp).join_from(t.assertion, t.organization, a_.org_id == o.id)
                            .where(a_.feed.like("taxii:%"))).all()
    return sorted((r.slug, r.tlp) for r in rows)


def test_b_gets_exactly_what_its_key_may_see_and_then_only_changes(registries):
    a, b = registries
    first = pull_a(a, b, per_request=7)
    visible_ccib = sum(i + 1 for i, level in enumerate(LEVELS) if level != "red")  # RED is ccib-th's alone
    assert first["new"] == visible_ccib + 4 + 3, str(first)
    assert first["sightings"] == 1 and first["rejected"] == 0 and first["pages"] > 3
    assert first["added_after"] is None and first["cursor"]
    stored = pulled_assertions(b.db)
    assert stored.count(("hub-a", "clear")) == 3  # an org B does not know: the pull's org
    assert sorted(tlp for slug, tlp in stored if slug == "ccib-th") == sorted(
        level for i, level in enumerate(LEVELS) if level != "red" for _ in range(i + 1))
    assert [tlp for slug, tlp in stored if slug == "pdrm-my"] == ["green"] * 4
    with b.db.read() as conn:
        state = taxii_store.get_pull_state(conn, f"{a.url}/taxii2/api/", collection_id("indicators"))
    assert state.cursor == first["cursor"] and state.last_counts["new"] == first["new"]
    # B serves what it pulled, under its own TLP rules: B's bank-green key sees the green and clear.
    on_b = client_collection(b, "bank-green", "indicators").get_objects(type="indicator")
    assert len(on_b["objects"]) == 1 + 2 + 4 + 3
    # ... under A's ids: A's derived ids fail B's check, so B keeps them as the objects' own.
    served = {name: [o["id"] for o in orjson.loads(bundle(r.db))["objects"] if o["type"] in ("indicator", "sighting")]
              for name, r in (("a", a), ("b", b))}
    assert len(served["b"]) == first["new"] + first["sightings"] and set(served["b"]) <= set(served["a"])

    nothing_new = pull_a(a, b)
    assert nothing_new["added_after"] == first["cursor"]
    assert nothing_new["objects"] == 0 and nothing_new["new"] == nothing_new["updated"] == 0

    seed(a.db, "ccib-th", ["late1.federation.example", "late2.federation.example"], tlp="amber")
    seed(a.db, "ccib-th", ccib_values(1, "green")[:1], tlp="amber")  # changed: green → amber
    seed(a.db, "ccib-th", ["secret.federation.example"], tlp="red")  # not for hub-b's key
    second = pull_a(a, b)
    assert (second["new"], second["updated"], second["unchanged"]) == (2, 1, 0)
    assert second["read"] == 3 and second["cursor"] > first["cursor"]
    assert len(pulled_assertions(b.db)) == len(stored) + 2


def test_a_green_capped_key_brings_only_clear_and_green(registries, engine_url, tmp_path):
    a, _ = registries
    url, cleanup = another_database(engine_url, tmp_path)
    c = Database(url)
    try:
        seed_members(c)
        add_org(c, "hub-a", "Registry A", "TH")
        key = create_key(a.db, "hub-b", "reader", "green", by=ON_SERVER)["key"]
        served = Collection(f"{a.url}/taxii2/api/collections/{collection_id('indicators')}/", user="hub-b",
                            password=key)
        expected = len(of_type([o for env in as_pages(served.get_objects, per_request=1000)
                                for o in env["objects"]]))
        counts = pull(c, f"{a.url}/taxii2/api", "indicators", org="hub-a", user="hub-b", password=key)
        assert counts["new"] == expected and counts["collection"] == collection_id("indicators")
        assert {tlp for _slug, tlp in pulled_assertions(c)} == {"clear", "green"}
    finally:
        c.dispose()
        cleanup()


def test_pull_failures_say_what_went_wrong(registries):
    a, b = registries
    root = f"{a.url}/taxii2/api/"
    with pytest.raises(PullFailed, match="401"):
        pull(b.db, root, "indicators", org="hub-a", user="hub-b", password="reg_wrong")
    with pytest.raises(PullFailed, match="no collection 'nope'.*indicators"):
        pull(b.db, root, "nope", org="hub-a", user="hub-b", password=a.keys["hub-b"])
    with pytest.raises(PullFailed, match="cannot be read"):
        pull(b.db, root, "submissions", org="hub-a", user="hub-b", password=a.keys["hub-b"])
    with pytest.raises(NotFound, match="unknown org"):
        pull(b.db, root, "indicators", org="nobody", user="hub-b", password=a.keys["hub-b"])
    with pytest.raises(PullFailed):
        pull(b.db, "http://127.0.0.1:9/taxii2/api/", "indicators", org="hub-a")


def test_the_cli_pulls_and_says_what_it_got(registries, monkeypatch):
    import json

    from click.testing import CliRunner

    from registry.cli import main

    a, b = registries
    monkeypatch.setenv("REGISTRY_DATABASE_URL", b.db.url)
    monkeypatch.setenv("HUB_B_KEY", a.keys["hub-b"])
    args = ["taxii", "pull", f"{a.url}/taxii2/api/", "--collection", "indicators", "--org", "hub-a",
            "--user", "hub-b", "--password-env", "HUB_B_KEY", "--json"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["new"] + counts["updated"] + counts["unchanged"] == counts["read"]
    again = json.loads(CliRunner().invoke(main, args, catch_exceptions=False).stdout)
    assert again["objects"] == 0
    monkeypatch.delenv("HUB_B_KEY")
    missing = CliRunner().invoke(main, args)
    assert missing.exit_code == 2 and "HUB_B_KEY is not set" in missing.output


# Values of the new kinds, by collection: what A serves of them as Indicators B's pull lands.
NEW_KINDS = {
    "bank-account": ["KBank 123-4-56789-0", "TrueMoney +66812345678", "GB29 NWBK 6016 1331 9268 19"],
    "crypto-wallet": ["USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"],
    "user-account": ["t.me/kbank_support_th", "wa.me/66812345678", "facebook:100012345678"],
    "file-hash": ["md5:d41d8cd98f00b204e9800998ecf8427e",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
}


def test_a_pull_of_the_new_kinds_collections_lands_them(registries, engine_url, tmp_path):
    a, _ = registries
    for values in NEW_KINDS.values():
        seed(a.db, "pdrm-my", values, tlp="green")
    url, cleanup = another_database(engine_url, tmp_path)
    c = Database(url)
    try:
        seed_members(c)
        add_org(c, "hub-a", "Registry A", "TH")
        for kind, values in NEW_KINDS.items():
            counts = pull(c, f"{a.url}/taxii2/api/", kind, org="hub-a", user="hub-b", password=a.keys["hub-b"])
            assert (counts["new"], counts["rejected"]) == (len(values), 0), (kind, counts)
        i = t.indicator.c
        kinds = tuple(NEW_KINDS)
        with a.db.read() as conn:
            on_a = set(conn.execute(select(i.kind, i.value).where(i.kind.in_(kinds))).all())
        with c.read() as conn:
            on_c = set(conn.execute(select(i.kind, i.value).where(i.kind.in_(kinds))).all())
        assert on_c == on_a and len(on_c) == sum(map(len, NEW_KINDS.values()))
        assert {slug for slug, _tlp in pulled_assertions(c)} == {"pdrm-my"}
    finally:
        c.dispose()
        cleanup()
