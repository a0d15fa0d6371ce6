"""The TLP matrix over real HTTP: five TLP levels × reader keys × every read path, with the exact
number of things each caller sees (on SQLite and on PostgreSQL, through `registry serve`).

One source org (ccib-th) publishes, at each TLP level, a domain, an IPv4 /24, a phone block and a
sighting-only phone number, plus five sightings (one per level) on an indicator another org made
public. Each reader then looks everything up through every probe kind (exact, parent domain,
URL host, CIDR, phone prefix, sighting only), singly and in a batch, searches, reads the
sightings, and exports in every format (text, cidr, rpz, csv, json, stix, the MISP feed). An indicator whose only assertions or sightings are hidden must be answered exactly
like a value nobody ever reported. The admin audit listing is checked the same way.

The write paths (submit, sighting, a posted STIX bundle, the web page's forms) run on a registry
of their own (tests/web/write_matrix.py): a capped writer neither changes nor learns of what its
cap hides, and every TLP it lowers is audited.
"""

from __future__ import annotations

import re
import time
import uuid

import orjson
import pytest
import requests

from registry.domain.normalize import phone_display
from registry.domain.tlp import LEVELS
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.users import add_user
from registry.storage.db import Database
from tests.web import write_matrix as wm
from tests.web.conftest import Server, another_database, seed_members, start_server, stop_server
from tests.web.ui_support import PASSWORD, csrf_from, text_of

SOURCE = "ccib-th"
LABEL = "tlp-matrix"

# Reader key → (org, max_tlp) and the levels of ccib-th's data it must see.
READERS = {
    "ccib-reader": ("source org, cap red", {"clear", "green", "amber", "amber+strict", "red"}),
    "ccib-green": ("source org, cap green", {"clear", "green"}),
    "pdrm-reader": ("other member, cap amber+strict", {"clear", "green", "amber", "amber+strict"}),
    "bank-green": ("other member, cap green", {"clear", "green"}),
    "admin": ("operators' org, cap red", {"clear", "green", "amber", "amber+strict"}),
}
# What each reader's answers must add up to, written out (6 probes per visible level, 3
# assertion-bearing indicators per visible level, sighting counts 1..5 by level).
EXPECTED = {
    #               listed  search  sightings  sighting total  case refs
    "ccib-reader": (30,     15,     5,         15,             5),
    "ccib-green": (12,      6,      2,         3,              2),
    "pdrm-reader": (24,     12,     4,         10,             0),
    "bank-green": (12,      6,      2,         3,              0),
    "admin": (24,           12,     4,         10,             0),
}


def slug(level: str) -> str:
    return level.replace("+", "-")


def probes(i: int, level: str) -> dict[str, str]:
    """The six ways to reach ccib-th's data at ``level``: match type → query."""
    return {
        "exact": f"{slug(level)}.{LABEL}.example",
        "parent-domain": f"login.{slug(level)}.{LABEL}.example",
        "url-host": f"http://{slug(level)}.{LABEL}.example/pay",
        "cidr": f"45.77.{i}.9",
        "phone-prefix": f"+668123{i}4567",
        "sighting-only": f"+6681555000{i}",
    }


# Never reported by anyone: the answers hidden data must be indistinguishable from.
UNKNOWN = {
    "exact": f"unknown.{LABEL}.example",
    "parent-domain": f"login.unknown.{LABEL}.example",
    "url-host": f"http://unknown.{LABEL}.example/pay",
    "cidr": "45.77.200.9",
    "phone-prefix": "+66819994567",
    "sighting-only": "+66815559999",
}
SHARED = f"shared.{LABEL}.example"


@pytest.fixture(scope="module")
def matrix(server):
    """Publish the matrix through the API; add the extra keys the matrix needs."""
    server.keys["ccib-green"] = create_key(server.db, SOURCE, "reader", "green", by=ON_SERVER)["key"]
    server.keys["ccib-admin"] = create_key(server.db, SOURCE, "admin", "red", by=ON_SERVER)["key"]
    server.keys["bank-admin"] = create_key(server.db, "bank-x", "admin", "green", by=ON_SERVER)["key"]
    indicators = []
    for i, level in enumerate(LEVELS):
        indicators += [
            {"value": f"{slug(level)}.{LABEL}.example", "tlp": level, "labels": [LABEL], "confidence": 60},
            {"value": f"45.77.{i}.0/24", "tlp": level, "labels": [LABEL], "confidence": 60},
            {"value": f"+668123{i}*", "tlp": level, "labels": [LABEL], "confidence": 60},
        ]
    submitted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": indicators})
    assert submitted.status_code == 200, submitted.text
    assert [r["status"] for r in submitted.json()["results"]] == ["new"] * 15
    public = server.post("/api/v1/indicators", key="pdrm-contrib", json={"indicators": [
        {"value": SHARED, "tlp": "clear", "labels": [LABEL + "-shared"], "confidence": 40}]})
    assert public.status_code == 200 and public.json()["results"][0]["status"] == "new"
    for i, level in enumerate(LEVELS):
        only = server.post("/api/v1/sightings", key="ccib-contrib", json={
            "value": f"+6681555000{i}", "case_ref": f"CCIB-ONLY-{slug(level)}", "tlp": level})
        assert only.status_code == 201, only.text
        shared = server.post("/api/v1/sightings", key="ccib-contrib", json={
            "value": SHARED, "case_ref": f"CCIB-{slug(level)}", "count": i + 1, "tlp": level})
        assert shared.status_code == 201 and shared.json()["status"] == "new", shared.text
    return server


def _without(answer: dict, *names: str) -> dict:
    return {k: v for k, v in answer.items() if k not in names}


def _comparable(answer: dict) -> dict:
    """An answer minus what names the value asked about (query, value; for phones the display,
    which is the value formatted)."""
    if answer.get("kind") == "phone" and "display" in answer:
        assert answer["display"] == phone_display(answer["value"])
        return _without(answer, "query", "value", "display")
    return _without(answer, "query", "value")


def _all_probes():
    for i, level in enumerate(LEVELS):
        for match, query in probes(i, level).items():
            yield level, match, query


@pytest.mark.parametrize("reader", list(READERS))
def test_single_lookups_see_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    unknown = {}
    for match, query in UNKNOWN.items():
        answer = matrix.get("/api/v1/lookup", key=reader, params={"value": query})
        assert answer.status_code == 200, answer.text
        assert answer.json()["listed"] is False and answer.json()["matches"] == []
        unknown[match] = answer.json()
    listed = 0
    for level, match, query in _all_probes():
        response = matrix.get("/api/v1/lookup", key=reader, params={"value": query})
        assert response.status_code == 200, response.text
        answer = response.json()
        if level in visible:
            listed += 1
            assert answer["listed"] is True, (reader, level, match)
            assert [m["match"] for m in answer["matches"]] == [
                "exact" if match == "sighting-only" else match], (reader, level, match)
            found = answer["matches"][0]
            if match == "sighting-only":
                assert found["assertions"] == []
                assert [(s["source"], s["tlp"]) for s in found["sightings"]] == [(SOURCE, level)]
            else:
                assert [(a["source"], a["tlp"]) for a in found["assertions"]] == [(SOURCE, level)]
                assert answer["score"] > 0
        else:
            # Hidden: the whole answer, bar the value itself, is that of a value never reported.
            assert _comparable(answer) == _comparable(unknown[match]), (reader, level, match)
    assert listed == EXPECTED[reader][0] == 6 * len(visible)


@pytest.mark.parametrize("reader", list(READERS))
def test_batch_lookup_sees_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    cases = list(_all_probes())
    queries = [q for _, _, q in cases] + list(UNKNOWN.values())
    response = matrix.post("/api/v1/lookup", key=reader, json={"values": queries})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["query"] for r in results] == queries
    unknown = dict(zip(UNKNOWN, results[len(cases):], strict=True))
    assert not any(a["listed"] for a in unknown.values())
    for (level, match, _), answer in zip(cases, results, strict=False):
        if level in visible:
            assert answer["listed"] is True, (reader, level, match)
            tlps = {a["tlp"] for m in answer["matches"] for a in m["assertions"]}
            tlps |= {s["tlp"] for m in answer["matches"] for s in m["sightings"]}
            assert tlps == {level}
        else:
            assert _comparable(answer) == _comparable(unknown[match]), (reader, level, match)
    assert sum(1 for r in results if r["listed"]) == EXPECTED[reader][0]
    # The single path and the batch path agree answer for answer (timestamps aside, none here).
    single = [matrix.get("/api/v1/lookup", key=reader, params={"value": q}).json() for q in queries[:12]]
    assert [_without(a, "explanation") for a in single] == [_without(a, "explanation") for a in results[:12]]


@pytest.mark.parametrize("reader", list(READERS))
def test_search_lists_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    page = matrix.get("/api/v1/indicators", key=reader, params={"label": LABEL, "limit": 1000})
    assert page.status_code == 200, page.text
    found = page.json()["indicators"]
    assert page.json()["next"] is None
    assert len(found) == EXPECTED[reader][1] == 3 * len(visible)
    assert sorted(a["tlp"] for i in found for a in i["assertions"]) == sorted(
        level for level in visible for _ in range(3))
    assert {a["source"] for i in found for a in i["assertions"]} == {SOURCE}
    # By source and by kind the counts hold too; unfiltered adds only pdrm's public indicator.
    by_source = matrix.get("/api/v1/indicators", key=reader, params={"source": SOURCE}).json()["indicators"]
    assert len(by_source) == 3 * len(visible)
    phones = matrix.get("/api/v1/indicators", key=reader, params={"label": LABEL, "kind": "phone"}).json()
    assert len(phones["indicators"]) == len(visible)
    everything = matrix.get("/api/v1/indicators", key=reader, params={"limit": 1000}).json()["indicators"]
    assert sorted(i["value"] for i in everything) == sorted([i["value"] for i in found] + [SHARED])
    # Cursor paging one at a time reaches the same set and no more.
    seen, cursor = [], None
    while True:
        params = {"label": LABEL, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = matrix.get("/api/v1/indicators", key=reader, params=params).json()
        seen += [i["value"] for i in page["indicators"]]
        cursor = page["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(i["value"] for i in found)


@pytest.mark.parametrize("reader", list(READERS))
def test_sightings_inside_lookups_show_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    _, _, n_sightings, total, case_refs = EXPECTED[reader]
    for response in (
        matrix.get("/api/v1/lookup", key=reader, params={"value": SHARED}).json(),
        matrix.post("/api/v1/lookup", key=reader, json={"values": [SHARED]}).json()["results"][0],
    ):
        assert response["listed"] is True
        (match,) = response["matches"]
        assert [a["source"] for a in match["assertions"]] == ["pdrm-my"]
        sightings = match["sightings"]
        assert len(sightings) == n_sightings == len(visible)
        assert {s["tlp"] for s in sightings} == visible
        assert sum(s["count"] for s in sightings) == total
        # Case references name an investigation: only the reporting agency sees them.
        refs = sorted(s["case_ref"] for s in sightings if "case_ref" in s)
        assert len(refs) == case_refs
        if case_refs:
            assert refs == sorted(f"CCIB-{slug(level)}" for level in visible)


def test_own_red_needs_a_red_cap(matrix):
    """TLP:RED is seen only by its source org, and only through a key whose cap reaches red."""
    value = f"own-red.{LABEL}.example"
    assert matrix.post("/api/v1/indicators", key="pdrm-contrib", json={"indicators": [
        {"value": value, "tlp": "red"}]}).json()["results"][0]["status"] == "new"
    # pdrm's keys stop at amber+strict, so pdrm's own red stays hidden from them, as from others.
    for reader in ("pdrm-reader", "pdrm-contrib", "ccib-reader", "bank-green", "admin"):
        assert matrix.get("/api/v1/lookup", key=reader, params={"value": value}).json()["listed"] is False, reader
    pdrm_red = create_key(matrix.db, "pdrm-my", "reader", "red", by=ON_SERVER)["key"]
    answer = matrix.get("/api/v1/lookup", key=pdrm_red, params={"value": value}).json()
    assert answer["listed"] is True and answer["matches"][0]["assertions"][0]["tlp"] == "red"


# -- every export format ------------------------------------------------------------------
def _export(server, reader, fmt, **params):
    response = server.get(f"/api/v1/export/{fmt}", key=reader, params=params)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("reader", list(READERS))
def test_every_export_format_holds_exactly_their_levels(matrix, reader):
    """text, cidr, rpz, csv, json, stix and the MISP feed, filtered by label and by source: the
    same three indicators per visible level, nothing of a hidden one."""
    import csv
    import io

    import dns.zone
    from netaddr import IPSet, cidr_merge
    from pymisp import MISPEvent

    visible = READERS[reader][1]
    n = EXPECTED[reader][1]  # search's count: three indicators per visible level
    indices = [i for i, level in enumerate(LEVELS) if level in visible]
    domains = sorted(f"{slug(LEVELS[i])}.{LABEL}.example" for i in indices)
    networks = [f"45.77.{i}.0/24" for i in indices]
    phones = [f"+668123{i}*" for i in indices]
    for params in ({"label": LABEL}, {"source": SOURCE}):
        assert sorted(_export(matrix, reader, "text", **params).text.split()) == sorted(domains + networks + phones)
        blocks = _export(matrix, reader, "cidr", **params).text.split()
        assert IPSet(blocks) == IPSet(networks) and len(blocks) == len(cidr_merge(networks))
        zone = dns.zone.from_text(_export(matrix, reader, "rpz", **params).text, origin="rpz.registry.local.")
        assert sorted(str(name) for name in zone.nodes if str(name) != "@" and not str(name).startswith("*.")) \
            == domains
        assert len(zone.nodes) == 1 + 2 * len(domains)
        rows = list(csv.DictReader(io.StringIO(_export(matrix, reader, "csv", **params).text)))
        assert len(rows) == n == 3 * len(visible)
        assert sorted(r["tlp"] for r in rows) == sorted(level for level in visible for _ in range(3))
        assert {r["sources"] for r in rows} == {SOURCE}
        lines = [orjson.loads(line) for line in _export(matrix, reader, "json", **params).content.splitlines()]
        assert len(lines) == n
        assert sorted(a["tlp"] for line in lines for a in line["assertions"]) == sorted(r["tlp"] for r in rows)
        bundle = _export(matrix, reader, "stix", **params).json()
        assert len([o for o in bundle.get("objects", []) if o["type"] == "indicator"]) == n
        manifest = matrix.get("/api/v1/export/misp/manifest.json", key=reader, params=params).json()
        (uuid,) = manifest  # ccib-th's reports of today
        assert manifest[uuid]["Tag"] == [{"name": "tlp:" + max(visible, key=LEVELS.index)}]
        event = MISPEvent()
        event.load(matrix.get(f"/api/v1/export/misp/{uuid}.json", key=reader, params=params).content)
        assert len(event.attributes) == n
        assert sorted(t.name for a in event.attributes for t in a.tags if t.name.startswith("tlp:")) == sorted(
            "tlp:" + r["tlp"] for r in rows)
        hashes = matrix.get("/api/v1/export/misp/hashes.csv", key=reader, params=params).text.split()
        assert len(hashes) == n and {h.split(",")[1] for h in hashes} == {uuid}


# -- the audit listing ----------------------------------------------------------------------
# Marker lookups per reader key; the audit rows they leave, by org.
AUDIT_LOOKUPS = {"ccib-reader": 3, "ccib-green": 1, "pdrm-reader": 2, "bank-green": 5, "admin": 1}
AUDIT_BY_ORG = {"ccib-th": 4, "pdrm-my": 2, "bank-x": 5, "registry-ops": 1}
MARKER = "audit-marker.example"


def _audit(server, key, **params) -> list[dict]:
    """Every audit row the key is shown (all pages)."""
    rows, cursor = [], None
    while True:
        response = server.get("/api/v1/audit", key=key, params={**params, "limit": 1000,
                                                                 **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        rows += response.json()["events"]
        cursor = response.json()["next"]
        if not cursor:
            return rows


def _markers(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["action"] == "lookup" and any(MARKER in str(v) for v in (r["subject"] or []))]


def test_audit_rows_follow_the_admin_keys_org(matrix):
    for reader, times in AUDIT_LOOKUPS.items():
        for n in range(times):
            value = f"{reader}-{n}.{MARKER}"
            assert matrix.get("/api/v1/lookup", key=reader, params={"value": value}).status_code == 200
    deadline = time.monotonic() + 15
    while len(_markers(_audit(matrix, "admin", action="lookup"))) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)

    def by_org(rows):
        counts = {}
        for row in _markers(rows):
            counts[row["org"]] = counts.get(row["org"], 0) + 1
        return counts

    # An operator's key sees every org's rows.
    assert by_org(_audit(matrix, "admin")) == AUDIT_BY_ORG
    assert by_org(_audit(matrix, "admin", org="bank-x")) == {"bank-x": 5}
    # Admins see their own org's rows and nothing else, whatever org they ask for: a cap that
    # reaches red (the source org's admin) makes no operator.
    for key, org in (("ccib-admin", "ccib-th"), ("pdrm-admin", "pdrm-my"), ("bank-admin", "bank-x")):
        for params in ({}, {"org": "ccib-th"}, {"action": "lookup"}):
            rows = _audit(matrix, key, **params)
            assert rows and {r["org"] for r in rows} == {org}, (key, params)
            assert by_org(rows) == {org: AUDIT_BY_ORG[org]}, (key, params)
    # Reader and contributor keys get no audit at all.
    for key in ("ccib-reader", "ccib-contrib", "bank-green"):
        assert matrix.get("/api/v1/audit", key=key).status_code == 403


# -- the write paths ------------------------------------------------------------------------
# On a registry of their own (the read matrix above counts exactly what it published); see
# tests/web/write_matrix.py for the data and the checks. Keys and web users of ccib-th, capped at
# GREEN and AMBER+STRICT, write what ccib-th's RED key holds at every level.
@pytest.fixture(scope="module")
def writes(engine_url, tmp_path_factory):
    url, cleanup = another_database(engine_url, tmp_path_factory.mktemp("writes-db"))
    db = Database(url)
    keys = seed_members(db)
    for writer, cap in wm.WRITERS.items():
        keys[writer] = create_key(db, SOURCE, "contributor", cap, by=ON_SERVER)["key"]
        add_user(db, writer, org=SOURCE, role="contributor", password=PASSWORD, max_tlp=cap, by=ON_SERVER)
    wm.seed_held(db, ("api", "stix", "ui"))
    process, server_url, env = start_server(url, tmp_path_factory.mktemp("writes-srv"))
    yield Server(url=server_url, db=db, process=process, env=env, keys=keys)
    stop_server(process)
    db.dispose()
    cleanup()


def _held_and_unheard(path: str, writer: str) -> list[str]:
    return [wm.held(path, writer, level) for level in LEVELS] + [wm.unheard(path, writer)]


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_api_submit_and_sighting_never_change_or_reveal_what_the_writer_cannot_see(writes, writer):
    before = wm.snapshot(writes.db, "api", writer)
    values = _held_and_unheard("api", writer)
    response = writes.post("/api/v1/indicators", key=writer, json={"indicators": [
        {"value": value, "tlp": "clear", "confidence": 30, "description": "writer text"} for value in values]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    unknown = _without(results[-1], "value", "canonical")
    assert unknown["status"] == "new"
    by_level = dict(zip(LEVELS, results, strict=False))
    for level in wm.hidden_from(writer):
        assert _without(by_level[level], "value", "canonical") == unknown, level
    for level in LEVELS:
        if level not in wm.hidden_from(writer):
            assert by_level[level]["status"] == "updated", level
            lowered = {"from": level, "to": "clear"} if level != "clear" else None
            assert by_level[level].get("tlp_lowered") == lowered, level
    sighted = []
    for value in values:
        answer = writes.post("/api/v1/sightings", key=writer, json={
            "value": value, "case_ref": wm.CASE, "tlp": "clear", "seen": wm.WRITTEN_AT})
        assert answer.status_code == 201, answer.text
        sighted.append(answer.json())
    unknown = _without(sighted[-1], "value")
    assert (unknown["status"], unknown["count"], unknown["first_seen"]) == ("new", 1, wm.WRITTEN_AT)
    by_level = dict(zip(LEVELS, sighted, strict=False))
    for level in wm.hidden_from(writer):
        assert _without(by_level[level], "value") == unknown, level
    for level in LEVELS:
        if level not in wm.hidden_from(writer):
            answer = by_level[level]
            assert (answer["status"], answer["count"], answer["first_seen"]) == ("updated", 8, wm.HELD_AT), level
    wm.check_rows(before, wm.snapshot(writes.db, "api", writer), "api", writer)
    wm.check_lowered(writes.db, writer, "api", writes.keys[writer][:12])


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_a_posted_stix_bundle_never_changes_or_reveals_what_the_writer_cannot_see(writes, writer):
    before = wm.snapshot(writes.db, "stix", writer)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
              "objects": wm.stix_objects(_held_and_unheard("stix", writer))}
    response = writes.post("/api/v1/indicators", key=writer, data=orjson.dumps(bundle),
                           headers={"Content-Type": "application/stix+json;version=2.1"})
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]  # the indicators, then the sightings
    expected = ["new" if level in wm.hidden_from(writer) else "updated" for level in LEVELS] + ["new"]
    assert statuses == expected + expected
    wm.check_rows(before, wm.snapshot(writes.db, "stix", writer), "stix", writer)
    wm.check_lowered(writes.db, writer, "stix", writes.keys[writer][:12])


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_the_web_forms_never_change_or_reveal_what_the_writer_cannot_see(writes, writer):
    before = wm.snapshot(writes.db, "ui", writer)
    session = requests.Session()
    login = session.get(writes.url + "/login", timeout=30)
    signed = session.post(writes.url + "/login", timeout=30, allow_redirects=False, data={
        "username": writer, "password": PASSWORD, "csrf_token": csrf_from(login.text)})
    assert signed.status_code == 302, signed.text
    values = _held_and_unheard("ui", writer)
    form = session.get(writes.url + "/submit", timeout=30)
    page = session.post(writes.url + "/submit", timeout=30, data={
        "values": "\n".join(values), "tlp": "clear", "confidence": "30", "description": "writer text",
        "csrf_token": csrf_from(form.text)})
    assert page.status_code == 200, page.text
    shown = dict(re.findall(r'<code>([^<]+)</code></a></td>\s*<td><span class="status status-[a-z]+">([a-z]+)</span>',
                            page.text))
    assert shown == {wm.held("ui", writer, level): "new" if level in wm.hidden_from(writer) else "updated"
                     for level in LEVELS} | {wm.unheard("ui", writer): "new"}
    lowered = [level for level in LEVELS[1:] if level not in wm.hidden_from(writer)]
    assert text_of(page.text).count("TLP lowered from") == len(lowered)

    def notice(value: str) -> str:
        form = session.get(writes.url + "/sighting", timeout=30)
        done = session.post(writes.url + "/sighting", timeout=30, data={
            "value": value, "case_ref": wm.CASE, "tlp": "clear", "seen": wm.WRITTEN_AT,
            "csrf_token": csrf_from(form.text)})
        assert done.status_code == 201, done.text
        found = re.search(r'<p class="notice" role="status">(.*?)</p>', done.text, flags=re.S)
        return text_of(found.group(1)).replace(value, "VALUE")

    unknown = notice(wm.unheard("ui", writer))
    assert unknown.startswith(f"Sighting new: VALUE (domain), 1 in all, case {wm.CASE}")
    for level in LEVELS:
        shown = notice(wm.held("ui", writer, level))
        if level in wm.hidden_from(writer):
            assert shown == unknown, level
        else:
            assert shown.startswith("Sighting updated: VALUE (domain), 8 in all"), level
    wm.check_rows(before, wm.snapshot(writes.db, "ui", writer), "ui", writer)
    wm.check_lowered(writes.db, writer, "ui", writer)
