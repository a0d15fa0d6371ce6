"""What a caller is shown comes only from what it may see, over real HTTP on SQLite and PostgreSQL.

A small TLP matrix: org A (ccib-th, keys capped at red) reports at TLP:RED; org B (pdrm-my, a
reader capped at amber+strict) reports some of the same values at green. B's answers — search
times, order, cursors and positions; lookups; csv rows; export ETags, the RPZ serial and STIX
bundle ids; TAXII pages and their cursors; the indicator page's bundle; the audit listing of B's
admin — must not move when A reports again at RED, nor hold a number that counts A's hidden rows.
"""

from __future__ import annotations

import csv
import io
import time

import dns.zone
import pytest

from registry.services.access import ON_SERVER
from registry.services.users import add_user
from tests.web.test_ui_http import browser
from tests.web.ui_support import PASSWORD

LABEL = "seen-by"
SHARED = f"shared.{LABEL}.example"  # A at red first, then B at green
FIRST = f"zzz-first.{LABEL}.example"  # the same, A's row made first: an id order would put it first
LATER = f"aaa-later.{LABEL}.example"  # B's alone
A_KEY, A_READER, B_KEY, B_READER = "ccib-contrib", "ccib-reader", "pdrm-contrib", "pdrm-reader"
TAXII_INDICATORS = "/taxii2/api/collections/indicators/objects/"


def _tick() -> None:
    time.sleep(1.1)  # times are shown in whole seconds: let them differ


def _submit(server, key: str, values: list[str], tlp: str, **extra) -> None:
    answer = server.post("/api/v1/indicators", key=key, json={"indicators": [
        {"value": v, "tlp": tlp, "labels": [LABEL], "confidence": 60, **extra} for v in values]})
    assert answer.status_code == 200, answer.text


def _sighting(server, key: str, value: str, tlp: str, case_ref: str) -> None:
    answer = server.post("/api/v1/sightings", key=key, json={"value": value, "case_ref": case_ref, "tlp": tlp})
    assert answer.status_code == 201, answer.text


def _get(server, path: str, key: str = B_READER, **params):
    response = server.get(path, key=key, params=params)
    assert response.status_code == 200, response.text
    return response


def _views(server, session) -> dict:
    """Everything B is shown about the scene, by route."""
    search = _get(server, "/api/v1/indicators", label=LABEL, limit=1000)
    serial = dns.zone.from_text(_get(server, "/api/v1/export/rpz").text, origin="rpz.registry.local.") \
        .get_rdataset("@", "SOA")[0].serial
    taxii = server.get(TAXII_INDICATORS, key=B_READER, params={"limit": 1000})
    assert taxii.status_code == 200, taxii.text
    stix = session.get(f"{server.url}/indicator/stix", params={"value": SHARED}, timeout=30)
    assert stix.status_code == 200, stix.text
    return {
        "search": search.json(),
        "lookup": _get(server, "/api/v1/lookup", value=SHARED).json(),
        "csv": _get(server, "/api/v1/export/csv", label=LABEL, raw="true").text,
        "etags": {fmt: _get(server, f"/api/v1/export/{fmt}").headers["ETag"] for fmt in ("text", "stix", "csv")}
        | {"misp": _get(server, "/api/v1/export/misp/manifest.json").headers["ETag"]},
        "rpz serial": serial,
        "stix bundle": _get(server, "/api/v1/export/stix").json()["id"],
        "taxii added": (taxii.headers["X-TAXII-Date-Added-First"], taxii.headers["X-TAXII-Date-Added-Last"]),
        "page bundle": stix.json()["id"],
    }


@pytest.fixture(scope="module")
def scene(server):
    add_user(server.db, "pdrm-analyst", org="pdrm-my", role="reader", password=PASSWORD, by=ON_SERVER)
    _submit(server, A_KEY, [FIRST, SHARED], "red")
    _tick()
    _submit(server, B_KEY, [SHARED, FIRST, LATER], "green")
    session = browser(server, "pdrm-analyst")
    before = _views(server, session)
    _tick()
    # A again, all hidden from B: a re-report that changes the assertion, a new value, a sighting.
    _submit(server, A_KEY, [SHARED], "red", description="seen again")
    _submit(server, A_KEY, [f"hidden-new.{LABEL}.example"], "red")
    _sighting(server, A_KEY, SHARED, "red", "CCIB-HIDDEN-1")
    return server, session, before, _views(server, session)


def _search_row(page: dict, value: str) -> dict:
    return next(i for i in page["indicators"] if i["value"] == value)


def test_search_times_are_those_of_the_callers_visible_reports(scene):
    _, _, before, after = scene
    shared = _search_row(before["search"], SHARED)
    (own,) = shared["assertions"]
    assert own["source"] == "pdrm-my"
    # Not A's earlier first report, nor its later re-report: B's own report is all B sees.
    assert (shared["first_seen"], shared["last_seen"]) == (own["first_seen"], own["last_seen"])
    assert after["search"] == before["search"]


def test_the_source_sees_its_own_hidden_times(scene):
    server, _, before, _ = scene
    page = _get(server, "/api/v1/indicators", key=A_READER, label=LABEL).json()
    shared = _search_row(page, SHARED)
    seen = [a["first_seen"] for a in shared["assertions"]] + [a["last_seen"] for a in shared["assertions"]]
    assert shared["first_seen"] == min(seen) < _search_row(before["search"], SHARED)["first_seen"]
    # A's red sighting came last: it moves the last_seen A is shown.
    assert shared["last_seen"] >= max(seen)


def test_search_shows_no_row_ids_and_orders_without_them(scene):
    _, _, before, _ = scene
    rows = before["search"]["indicators"]
    assert all(set(row) == {"kind", "value", "display", "listed", "score", "allowlisted", "first_seen", "last_seen",
                            "assertions", "history"} for row in rows)
    # A made FIRST's row before B reported anything: an order by row id would list it first.
    assert [row["value"] for row in rows] == sorted([SHARED, FIRST, LATER])


def test_search_cursors_are_not_numbers_and_reach_the_same_rows(scene):
    server = scene[0]
    seen, cursor, cursors = [], None, []
    while True:
        page = _get(server, "/api/v1/indicators", label=LABEL, limit=1, **({"cursor": cursor} if cursor else {})).json()
        seen += [i["value"] for i in page["indicators"]]
        cursor = page["next"]
        if not cursor:
            break
        cursors.append(cursor)
    assert seen == sorted([SHARED, FIRST, LATER])
    assert cursors and not any(c.isdigit() for c in cursors)
    refused = server.get("/api/v1/indicators", key=B_READER, params={"cursor": "3"})
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "cursor"


def test_since_takes_sealed_positions_not_change_numbers(scene):
    server = scene[0]
    for path in ("/api/v1/indicators", "/api/v1/export/text"):
        refused = server.get(path, key=B_READER, params={"since": "1"})
        assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "since", path
    search = _get(server, "/api/v1/indicators", label=LABEL)
    export = _get(server, "/api/v1/export/text")
    for position in (search.headers["X-Registry-Position"], export.headers["X-Registry-Position"]):
        assert not position.isdigit()
        assert _get(server, "/api/v1/indicators", since=position).json()["indicators"] == []
    # Two answers over the same data give different tokens: equal tokens would say "no write".
    assert search.headers["X-Registry-Position"] != _get(server, "/api/v1/indicators").headers["X-Registry-Position"]
    position = search.headers["X-Registry-Position"]
    _submit(server, A_KEY, [f"since-hidden.{LABEL}.example"], "red")
    assert _get(server, "/api/v1/indicators", since=position).json()["indicators"] == []
    assert _get(server, "/api/v1/export/text", since=position).text == ""
    _submit(server, B_KEY, [f"since-visible.{LABEL}.example"], "green")
    changed = _get(server, "/api/v1/indicators", since=position).json()["indicators"]
    assert [i["value"] for i in changed] == [f"since-visible.{LABEL}.example"]
    assert _get(server, "/api/v1/export/text", since=position).text.split() == [f"since-visible.{LABEL}.example"]


def test_lookups_and_csv_rows_hold_only_visible_reports(scene):
    _, _, before, after = scene
    (match,) = before["lookup"]["matches"]
    assert [a["source"] for a in match["assertions"]] == ["pdrm-my"] and match["sightings"] == []
    row = next(line for line in before["csv"].splitlines() if line.startswith(SHARED + ","))
    assert ",pdrm-my," in row and ",1," in row  # one source, reported once
    assert after["lookup"] == before["lookup"]
    assert _without_scores(after["csv"]) == _without_scores(before["csv"])


def _without_scores(text: str) -> list[list[str]]:
    return [row[:2] + row[3:] for row in csv.reader(io.StringIO(text))]  # scores decay with the clock


@pytest.mark.parametrize("name", ["etags", "rpz serial", "stix bundle", "page bundle", "taxii added"])
def test_tags_serials_and_bundle_ids_ignore_hidden_writes(scene, name):
    _, _, before, after = scene
    assert after[name] == before[name]


def test_export_tags_follow_what_the_caller_sees(scene):
    server, session, _, after = scene
    etag = _get(server, "/api/v1/export/text").headers["ETag"]
    _submit(server, A_KEY, [f"tag-hidden.{LABEL}.example"], "red")
    assert server.get("/api/v1/export/text", key=B_READER, headers={"If-None-Match": etag}).status_code == 304
    # A makes a value B saw hidden (green to red): B's export lost a row, so its tag moves.
    _submit(server, A_KEY, [f"going-red.{LABEL}.example"], "green")
    seen = _get(server, "/api/v1/export/text")
    assert f"going-red.{LABEL}.example" in seen.text.split()
    _submit(server, A_KEY, [f"going-red.{LABEL}.example"], "red")
    gone = server.get("/api/v1/export/text", key=B_READER, headers={"If-None-Match": seen.headers["ETag"]})
    assert gone.status_code == 200 and f"going-red.{LABEL}.example" not in gone.text.split()
    views = _views(server, session)
    assert views["rpz serial"] >= after["rpz serial"]


def test_taxii_next_is_sealed(scene):
    server = scene[0]
    first = server.get(TAXII_INDICATORS, key=B_READER, params={"limit": 1})
    assert first.status_code == 200 and first.json()["more"] is True
    token = first.json()["next"]
    assert not token.isdigit()
    again = server.get(TAXII_INDICATORS, key=B_READER, params={"limit": 1}).json()["next"]
    assert again != token  # fresh nonce each time: equal cursors would say nothing was written
    second = server.get(TAXII_INDICATORS, key=B_READER, params={"limit": 1, "next": token})
    assert second.status_code == 200 and second.json()["objects"] != first.json()["objects"]
    third = server.get(TAXII_INDICATORS, key=B_READER, params={"limit": 1, "next": again}).json()
    assert third["objects"] == second.json()["objects"]
    refused = server.get(TAXII_INDICATORS, key=B_READER, params={"next": "1"})
    assert refused.status_code == 400 and "next" in refused.json()["description"]


def test_an_org_admins_audit_listing_shows_no_ids_nor_chain(scene):
    server = scene[0]
    for _ in range(3):
        _get(server, "/api/v1/lookup", value=LATER)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        page = _get(server, "/api/v1/audit", key="pdrm-admin", action="lookup", limit=1).json()
        if page["next"]:
            break
        time.sleep(0.05)
    assert page["events"] and page["next"] and not page["next"].isdigit()
    assert not {"id", "hash", "prev_hash"} & set(page["events"][0])
    older = _get(server, "/api/v1/audit", key="pdrm-admin", action="lookup", limit=1, cursor=page["next"]).json()
    assert older["events"] and older["events"][0] != page["events"][0]
    refused = server.get("/api/v1/audit", key="pdrm-admin", params={"cursor": "999999"})
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "cursor"
    # The operators' listing (every org's rows) keeps ids and hashes: an auditor rechecks the chain.
    everything = _get(server, "/api/v1/audit", key="admin", limit=1).json()
    assert {"id", "hash", "prev_hash"} <= set(everything["events"][0]) and everything["next"].isdigit()


def test_feed_runs_show_no_row_ids(scene, tmp_path):
    """Run rows are numbered across every feed: B's feed's runs must not say how many runs A's
    hidden feed had between them."""
    from registry.services.feeds import run_feed
    from tests.feeds.support import add_feed

    server = scene[0]
    listed, hidden = tmp_path / "listed.txt", tmp_path / "hidden.txt"
    listed.write_text("45.81.0.1\n")
    hidden.write_text("45.81.0.2\n")
    add_feed(server.db, "seen-by-green", f"file://{listed}", provider="pdrm-my", tlp="green")
    add_feed(server.db, "seen-by-red", f"file://{hidden}", provider="ccib-th", tlp="red")
    run_feed(server.db, "seen-by-green", trigger="cli")
    for n in range(3):
        hidden.write_text(f"45.81.0.{10 + n}\n")
        run_feed(server.db, "seen-by-red", trigger="cli")
    listed.write_text("45.81.0.3\n")
    run_feed(server.db, "seen-by-green", trigger="cli")
    first = _get(server, "/api/v1/feeds/seen-by-green/runs", limit=1).json()
    second = _get(server, "/api/v1/feeds/seen-by-green/runs", limit=1, before=first["next"]).json()
    ids = [first["runs"][0]["id"], second["runs"][0]["id"]]
    assert len(set(ids)) == 2 and not any(str(i).isdigit() for i in ids) and not first["next"].isdigit()
    (feed,) = [f for f in _get(server, "/api/v1/feeds").json()["feeds"] if f["name"] == "seen-by-green"]
    assert feed["last_run"]["id"] == ids[0]  # the same run, the same id, wherever it is shown
    refused = server.get("/api/v1/feeds/seen-by-green/runs", key=B_READER, params={"before": "5"})
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "before"
