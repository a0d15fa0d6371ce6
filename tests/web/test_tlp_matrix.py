"""The TLP matrix over real HTTP: five TLP levels × reader keys × every read path × every kind, with
the exact number of things each caller sees (on SQLite and on PostgreSQL, through `registry serve`).

One source org (ccib-th) publishes, at each TLP level, a domain, an IPv4 /24, a phone block, a value
of every other kind (an IPv6 address, a URL, an e-mail address, a bank account, an e-wallet keyed by
a phone, a Telegram account, a TRON wallet, a file hash) and a sighting-only phone number, plus five
sightings (one per level) on an indicator another org made public. Each reader then looks everything
up through every probe (exact for each kind, parent domain, URL host, CIDR, phone prefix, sighting
only, and, where the lookup has them, account number, same number and URL account), singly and in a
batch, searches, reads the sightings, and exports in every format (text, cidr, rpz, csv, json, stix,
the MISP feed). An indicator whose only assertions or sightings are hidden must be answered exactly
like a value nobody ever reported. The admin audit listing is checked the same way.

Listed means in force (docs/design.md): ccib-th also publishes at each level a value whose report
expired, one its snapshot feed ended, one past its review date and one delisted. A reader who may
see it finds it as history, never listed, in no export but as ended (include_expired) and over
TAXII (a delisting revoked); a reader who may not is answered as for a value nobody reported.

The write paths (submit, sighting, a posted STIX bundle, the web page's forms) run on a registry
of their own (tests/web/write_matrix.py), with a value of every kind: a capped writer neither
changes nor learns of what its cap hides, and every TLP it lowers is audited.
"""

from __future__ import annotations

import re
import time
import uuid
from html import unescape

import orjson
import pytest
import requests

from registry.domain.kinds import (
    ACCOUNT_NUMBER,
    BANK_ACCOUNT,
    DOMAIN,
    EXACT,
    IPV4,
    IPV6,
    KINDS,
    PHONE,
    SAME_NUMBER,
    URL_ACCOUNT,
)
from registry.domain.normalize import normalize_one, phone_display
from registry.domain.standing import DELISTED, END_REASONS
from registry.domain.times import utcnow
from registry.domain.tlp import LEVELS
from registry.export import misp as misp_export
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.users import add_user
from registry.stix import mapping
from registry.storage.db import Database
from tests.helpers import end_assertions, kind_value
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
# What each reader's sightings must add up to, written out (sighting counts 1..5 by level).
EXPECTED = {
    #               sightings  sighting total  case refs
    "ccib-reader": (5,         15,             5),
    "ccib-green": (2,          3,              2),
    "pdrm-reader": (4,         10,             0),
    "bank-green": (2,          3,              0),
    "admin": (4,               10,             0),
}


def slug(level: str) -> str:
    return level.replace("+", "-")


def wallet_phone(i: int) -> str:
    return f"+6683{i:07d}"


def listed(i: int, name: str) -> list[tuple[str, str]]:
    """(kind, value) of what ccib-th publishes at the level numbered ``i`` (``name``: its slug)."""
    return [
        (DOMAIN, f"{name}.{LABEL}.example"), (IPV4, f"45.77.{i}.0/24"), (PHONE, f"+668123{i}*"),
        *((kind, kind_value(kind, i)) for kind in KINDS if kind not in (DOMAIN, IPV4, PHONE)),  # every other kind
        (BANK_ACCOUNT, f"acct:TH:TRUEMONEY:{wallet_phone(i)}"),  # an e-wallet keyed by a phone number
    ]


def probes(i: int, name: str) -> dict[str, tuple[str, str]]:
    """The ways to reach ccib-th's data at the level numbered ``i``: probe → (query, match type)."""
    found = {
        "exact": (f"{name}.{LABEL}.example", EXACT),
        "parent-domain": (f"login.{name}.{LABEL}.example", "parent-domain"),
        "url-host": (f"http://{name}.{LABEL}.example/pay", "url-host"),
        "cidr": (f"45.77.{i}.9", "cidr"),
        "phone-prefix": (f"+668123{i}4567", "phone-prefix"),
        "sighting-only": (f"+6681555000{i}", EXACT),
        **{f"exact {kind}": (value, EXACT) for kind, value in listed(i, name)[3:-1]},
        "exact e-wallet": (f"acct:TH:TRUEMONEY:{wallet_phone(i)}", EXACT),
    }
    extra = {ACCOUNT_NUMBER: f"acct:TH:-:{i:010d}", SAME_NUMBER: wallet_phone(i),
             URL_ACCOUNT: f"https://t.me/tlp_kinds_{i}/12"}
    found.update((match, (query, match)) for match, query in extra.items())
    return found


def ended(name: str) -> dict[str, str]:
    """why → the value of ccib-th's at the level slugged ``name`` whose report ended so."""
    return {why: f"{why}-{name}.{ENDED_LABEL}.example" for why in END_REASONS}


ENDED_LABEL = "tlp-ended"
INDICATORS_PER_LEVEL = len(listed(0, "x"))
PROBES_PER_LEVEL = len(probes(0, "x"))
# Never reported by anyone: the answers hidden data must be indistinguishable from.
UNKNOWN = probes(9, "unknown")
SHARED = f"shared.{LABEL}.example"


@pytest.fixture(scope="module")
def matrix(server):
    """Publish the matrix through the API; add the extra keys the matrix needs."""
    server.keys["ccib-green"] = create_key(server.db, SOURCE, "reader", "green", by=ON_SERVER)["key"]
    server.keys["ccib-admin"] = create_key(server.db, SOURCE, "admin", "red", by=ON_SERVER)["key"]
    server.keys["bank-admin"] = create_key(server.db, "bank-x", "admin", "green", by=ON_SERVER)["key"]
    indicators = [{"value": value, "tlp": level, "labels": [LABEL], "confidence": 60}
                  for i, level in enumerate(LEVELS) for _, value in listed(i, slug(level))]
    submitted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": indicators})
    assert submitted.status_code == 200, submitted.text
    assert [r["status"] for r in submitted.json()["results"]] == ["new"] * INDICATORS_PER_LEVEL * len(LEVELS)
    gone = [{"value": value, "tlp": level, "labels": [ENDED_LABEL], "confidence": 60}
            for level in LEVELS for value in ended(slug(level)).values()]
    assert server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": gone}).status_code == 200
    end_assertions(server.db, {value: why for level in LEVELS for why, value in ended(slug(level)).items()},
                   utcnow())
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
    """An answer minus what names the value asked about (query, value, and the display, which is
    the value as written or formatted)."""
    if "display" in answer:
        value = normalize_one(answer["query"])
        assert answer["display"] == (value.display or phone_display(value.value)), answer
        return _without(answer, "query", "value", "display")
    return _without(answer, "query", "value")


def _all_probes():
    for i, level in enumerate(LEVELS):
        for probe, (query, match) in probes(i, slug(level)).items():
            yield level, probe, query, match


@pytest.mark.parametrize("reader", list(READERS))
def test_single_lookups_see_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    unknown = {}
    for probe, (query, _) in UNKNOWN.items():
        answer = matrix.get("/api/v1/lookup", key=reader, params={"value": query})
        assert answer.status_code == 200, answer.text
        assert answer.json()["listed"] is False and answer.json()["matches"] == [], probe
        unknown[probe] = answer.json()
    listed_count = 0
    for level, probe, query, match in _all_probes():
        response = matrix.get("/api/v1/lookup", key=reader, params={"value": query})
        assert response.status_code == 200, response.text
        answer = response.json()
        if level in visible:
            listed_count += 1
            # A value only sighted has no report in force: shown, not listed.
            assert answer["listed"] is (probe != "sighting-only"), (reader, level, probe)
            assert [m["match"] for m in answer["matches"]] == [match], (reader, level, probe)
            found = answer["matches"][0]
            if probe == "sighting-only":
                assert found["assertions"] == []
                assert [(s["source"], s["tlp"]) for s in found["sightings"]] == [(SOURCE, level)]
            else:
                assert [(a["source"], a["tlp"]) for a in found["assertions"]] == [(SOURCE, level)], (level, probe)
                assert answer["score"] > 0
        else:
            # Hidden: the whole answer, bar the value itself, is that of a value never reported.
            assert _comparable(answer) == _comparable(unknown[probe]), (reader, level, probe)
    assert listed_count == PROBES_PER_LEVEL * len(visible)


@pytest.mark.parametrize("reader", list(READERS))
def test_batch_lookup_sees_exactly_their_levels(matrix, reader):
    visible = READERS[reader][1]
    cases = list(_all_probes())
    queries = [query for _, _, query, _ in cases] + [query for query, _ in UNKNOWN.values()]
    response = matrix.post("/api/v1/lookup", key=reader, json={"values": queries})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["query"] for r in results] == queries
    unknown = dict(zip(UNKNOWN, results[len(cases):], strict=True))
    assert not any(a["listed"] for a in unknown.values())
    for (level, probe, _, _), answer in zip(cases, results, strict=False):
        if level in visible:
            assert answer["listed"] is (probe != "sighting-only"), (reader, level, probe)
            tlps = {a["tlp"] for m in answer["matches"] for a in m["assertions"]}
            tlps |= {s["tlp"] for m in answer["matches"] for s in m["sightings"]}
            assert tlps == {level}
        else:
            assert _comparable(answer) == _comparable(unknown[probe]), (reader, level, probe)
    assert sum(1 for r in results if r["listed"]) == (PROBES_PER_LEVEL - 1) * len(visible)
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
    assert len(found) == INDICATORS_PER_LEVEL * len(visible)
    assert sorted(a["tlp"] for i in found for a in i["assertions"]) == sorted(
        level for level in visible for _ in range(INDICATORS_PER_LEVEL))
    assert {a["source"] for i in found for a in i["assertions"]} == {SOURCE}
    # By source and by kind the counts hold too; unfiltered adds only pdrm's public indicator.
    by_source = matrix.get("/api/v1/indicators", key=reader, params={"source": SOURCE}).json()["indicators"]
    gone = {value for level in visible for value in ended(slug(level)).values()}  # found, as history
    assert len(by_source) == INDICATORS_PER_LEVEL * len(visible) + len(gone)
    per_level = [kind for kind, _ in listed(0, "x")]
    for kind in KINDS:
        of_kind = matrix.get("/api/v1/indicators", key=reader, params={"label": LABEL, "kind": kind}).json()
        assert len(of_kind["indicators"]) == per_level.count(kind) * len(visible), kind
    # Text search sees what the reader may see and nothing more: every level's bank account, by its bank.
    kasikorn = matrix.get("/api/v1/indicators", key=reader, params={"label": LABEL, "q": "KBank"}).json()
    assert sorted(i["assertions"][0]["tlp"] for i in kasikorn["indicators"]) == sorted(visible)
    everything = matrix.get("/api/v1/indicators", key=reader, params={"limit": 1000}).json()["indicators"]
    assert sorted(i["value"] for i in everything) == sorted([i["value"] for i in found] + [SHARED, *gone])
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
    n_sightings, total, case_refs = EXPECTED[reader]
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


# -- what ended: history, never listed ------------------------------------------------------
@pytest.mark.parametrize("reader", list(READERS))
def test_what_ended_is_history_for_exactly_their_levels(matrix, reader):
    """Expired, snapshot-ended, review-ended and delisted reports at every level: a reader who may
    see one gets listed false, score 0 and the report as history; one who may not, the answer of
    a value nobody reported. Search shows them as history; no export lists them unless asked for
    (include_expired), and TAXII serves them ended, a delisting revoked."""
    from taxii2client.v21 import as_pages

    from tests.taxii.fixtures import ORG_OF_KEY, client_collection

    visible = READERS[reader][1]
    unknown = matrix.get("/api/v1/lookup", key=reader, params={"value": f"never.{ENDED_LABEL}.example"}).json()
    cases = [(level, why, value) for level in LEVELS for why, value in ended(slug(level)).items()]
    batch = matrix.post("/api/v1/lookup", key=reader, json={"values": [v for _, _, v in cases]}).json()["results"]
    for (level, why, value), in_batch in zip(cases, batch, strict=True):
        answer = matrix.get("/api/v1/lookup", key=reader, params={"value": value}).json()
        assert _without(in_batch, "explanation") == _without(answer, "explanation")
        if level in visible:
            assert (answer["listed"], answer["score"], answer["matches"]) == (False, 0, []), (reader, value)
            assert [(h["source"], h["tlp"], h["why"]) for h in answer["history"]] == [(SOURCE, level, why)]
        else:
            assert _comparable(answer) == _comparable(unknown), (reader, value)
    shown = {v for level, _, v in cases if level in visible}
    page = matrix.get("/api/v1/indicators", key=reader, params={"label": ENDED_LABEL, "limit": 1000}).json()
    assert {i["value"] for i in page["indicators"]} == shown
    assert all(not i["listed"] and i["assertions"] == [] and len(i["history"]) == 1 for i in page["indicators"])
    assert sorted(i["history"][0]["tlp"] for i in page["indicators"]) == sorted(
        level for level, _, _ in cases if level in visible)
    label = {"label": ENDED_LABEL}
    for fmt in ("text", "rpz", "csv", "json"):
        body = _export(matrix, reader, fmt, **label).text
        assert not any(value in body for _, _, value in cases), fmt
    assert not [o for o in _export(matrix, reader, "stix", **label).json().get("objects", []) if o["type"] == "indicator"]
    assert matrix.get("/api/v1/export/misp/manifest.json", key=reader, params=label).json() == {}
    assert set(_export(matrix, reader, "text", include_expired="true", **label).text.split()) == shown
    lines = [orjson.loads(line) for line in _export(matrix, reader, "json", include_expired="true", **label).content.splitlines()]
    assert sorted((line["value"], line["assertions"][0]["why"]) for line in lines) == sorted(
        (v, why) for level, why, v in cases if level in visible)
    bundle = _export(matrix, reader, "stix", include_expired="true", **label).json()
    revoked = {o["name"]: o.get("revoked", False) for o in bundle["objects"] if o["type"] == "indicator"}
    assert revoked == {v: why == DELISTED for level, why, v in cases if level in visible}
    ORG_OF_KEY.setdefault("ccib-green", SOURCE)
    served = [o for env in as_pages(client_collection(matrix, reader).get_objects, per_request=500)
              for o in env["objects"] if o["type"] == "indicator" and o["name"] in {v for _, _, v in cases}]
    assert {o["name"]: o.get("revoked", False) for o in served} == revoked


# -- every export format ------------------------------------------------------------------
def _export(server, reader, fmt, **params):
    response = server.get(f"/api/v1/export/{fmt}", key=reader, params=params)
    assert response.status_code == 200, response.text
    return response


def _by_kind(supported: set[str], params: dict, n: int) -> list[tuple[dict, int]]:
    """(query parameters, indicators expected) for a format that writes only the ``supported``
    kinds: the whole export when it writes every kind listed, else one export per kind it writes."""
    per_level = [kind for kind, _ in listed(0, "x")]
    if supported >= set(per_level):
        return [(params, n)]
    return [({**params, "kind": kind}, n // len(per_level) * per_level.count(kind))
            for kind in dict.fromkeys(per_level) if kind in supported]


@pytest.mark.parametrize("reader", list(READERS))
def test_every_export_format_holds_exactly_their_levels(matrix, reader):
    """text, cidr, rpz, csv, json, stix and the MISP feed, filtered by label and by source: the
    same indicators of every kind per visible level, nothing of a hidden one."""
    import csv
    import io

    import dns.zone
    from netaddr import IPSet, cidr_merge
    from pymisp import MISPEvent

    visible = READERS[reader][1]
    n = INDICATORS_PER_LEVEL * len(visible)
    indices = [i for i, level in enumerate(LEVELS) if level in visible]
    values = [(kind, value) for i in indices for kind, value in listed(i, slug(LEVELS[i]))]
    domains = sorted(value for kind, value in values if kind == DOMAIN)
    networks = [value for kind, value in values if kind in (IPV4, IPV6)]
    for params in ({"label": LABEL}, {"source": SOURCE}):
        assert sorted(_export(matrix, reader, "text", **params).text.split()) == sorted(v for _, v in values)
        blocks = _export(matrix, reader, "cidr", **params).text.split()
        assert IPSet(blocks) == IPSet(networks) and len(blocks) == len(cidr_merge(networks))
        zone = dns.zone.from_text(_export(matrix, reader, "rpz", **params).text, origin="rpz.registry.local.")
        assert sorted(str(name) for name in zone.nodes if str(name) != "@" and not str(name).startswith("*.")) \
            == domains
        assert len(zone.nodes) == 1 + 2 * len(domains)
        rows = list(csv.DictReader(io.StringIO(_export(matrix, reader, "csv", raw="true", **params).text)))
        assert len(rows) == n
        assert sorted((r["kind"], r["value"]) for r in rows) == sorted(values)
        assert sorted(r["tlp"] for r in rows) == sorted(level for level in visible for _ in range(INDICATORS_PER_LEVEL))
        assert {r["sources"] for r in rows} == {SOURCE}
        lines = [orjson.loads(line) for line in _export(matrix, reader, "json", **params).content.splitlines()]
        assert len(lines) == n
        assert sorted(a["tlp"] for line in lines for a in line["assertions"]) == sorted(r["tlp"] for r in rows)
        for query, count in _by_kind(set(mapping.STIX_TYPE), params, n):
            bundle = _export(matrix, reader, "stix", **query).json()
            assert len([o for o in bundle.get("objects", []) if o["type"] == "indicator"]) == count, query
        for query, count in _by_kind(set(misp_export.ATTRIBUTE_TYPES), params, n):
            manifest = matrix.get("/api/v1/export/misp/manifest.json", key=reader, params=query).json()
            (uuid,) = manifest  # ccib-th's reports of today
            assert manifest[uuid]["Tag"] == [{"name": "tlp:" + max(visible, key=LEVELS.index)}]
            event = MISPEvent()
            event.load(matrix.get(f"/api/v1/export/misp/{uuid}.json", key=reader, params=query).content)
            assert len(event.attributes) == count, query
            assert sorted(t.name for a in event.attributes for t in a.tags if t.name.startswith("tlp:")) == sorted(
                "tlp:" + r["tlp"] for r in rows if r["kind"] == query.get("kind", r["kind"]))
            hashes = matrix.get("/api/v1/export/misp/hashes.csv", key=reader, params=query).text.split()
            assert len(hashes) == count and {h.split(",")[1] for h in hashes} == {uuid}


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
# GREEN and AMBER+STRICT, write what ccib-th's RED key holds at every level, a value of every kind
# (through STIX, of every kind the STIX mapping has).
WRITE_KINDS = {"api": KINDS, "ui": KINDS, "stix": KINDS}


@pytest.fixture(scope="module")
def writes(engine_url, tmp_path_factory):
    url, cleanup = another_database(engine_url, tmp_path_factory.mktemp("writes-db"))
    db = Database(url)
    keys = seed_members(db)
    for writer, cap in wm.WRITERS.items():
        keys[writer] = create_key(db, SOURCE, "contributor", cap, by=ON_SERVER)["key"]
        add_user(db, writer, org=SOURCE, role="contributor", password=PASSWORD, max_tlp=cap, by=ON_SERVER)
    for path, kinds in WRITE_KINDS.items():
        wm.seed_held(db, (path,), kinds)
    process, server_url, env = start_server(url, tmp_path_factory.mktemp("writes-srv"))
    yield Server(url=server_url, db=db, process=process, env=env, keys=keys)
    stop_server(process)
    db.dispose()
    cleanup()


def _by_kind_and_level(written: list, answers: list) -> dict:
    """(kind, level) → the answer about that written value (level None: the unheard value)."""
    return {(kind, level): answer for (kind, level, _), answer in zip(written, answers, strict=True)}


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_api_submit_and_sighting_never_change_or_reveal_what_the_writer_cannot_see(writes, writer):
    kinds = WRITE_KINDS["api"]
    before = wm.snapshot(writes.db, "api", writer, kinds)
    written = wm.written("api", writer, kinds)
    response = writes.post("/api/v1/indicators", key=writer, json={"indicators": [
        {"value": value, "tlp": "clear", "confidence": 30, "description": "writer text"} for _, _, value in written]})
    assert response.status_code == 200, response.text
    results = _by_kind_and_level(written, response.json()["results"])
    for kind in kinds:
        unknown = _without(results[kind, None], "value", "canonical")
        assert (unknown["status"], unknown["kind"]) == ("new", kind)
        for level in wm.hidden_from(writer):
            assert _without(results[kind, level], "value", "canonical") == unknown, (kind, level)
        for level in LEVELS:
            if level not in wm.hidden_from(writer):
                assert results[kind, level]["status"] == "updated", (kind, level)
                lowered = {"from": level, "to": "clear"} if level != "clear" else None
                assert results[kind, level].get("tlp_lowered") == lowered, (kind, level)
    sighted = []
    for _, _, value in written:
        answer = writes.post("/api/v1/sightings", key=writer, json={
            "value": value, "case_ref": wm.CASE, "tlp": "clear", "seen": wm.WRITTEN_AT})
        assert answer.status_code == 201, answer.text
        sighted.append(answer.json())
    sightings = _by_kind_and_level(written, sighted)
    for kind in kinds:
        unknown = _without(sightings[kind, None], "value")
        assert (unknown["status"], unknown["count"], unknown["first_seen"]) == ("new", 1, wm.WRITTEN_AT)
        for level in wm.hidden_from(writer):
            assert _without(sightings[kind, level], "value") == unknown, (kind, level)
        for level in LEVELS:
            if level not in wm.hidden_from(writer):
                answer = sightings[kind, level]
                assert (answer["status"], answer["count"], answer["first_seen"]) == ("updated", 8, wm.HELD_AT), level
    wm.check_rows(before, wm.snapshot(writes.db, "api", writer, kinds), "api", writer, kinds)
    wm.check_lowered(writes.db, writer, "api", writes.keys[writer][:12], kinds)


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_a_posted_stix_bundle_never_changes_or_reveals_what_the_writer_cannot_see(writes, writer):
    kinds = WRITE_KINDS["stix"]
    before = wm.snapshot(writes.db, "stix", writer, kinds)
    written = wm.written("stix", writer, kinds)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
              "objects": wm.stix_objects([value for _, _, value in written])}
    response = writes.post("/api/v1/indicators", key=writer, data=orjson.dumps(bundle),
                           headers={"Content-Type": "application/stix+json;version=2.1"})
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]  # the indicators, then the sightings
    expected = ["new" if level is None or level in wm.hidden_from(writer) else "updated" for _, level, _ in written]
    assert statuses == expected + expected
    wm.check_rows(before, wm.snapshot(writes.db, "stix", writer, kinds), "stix", writer, kinds)
    wm.check_lowered(writes.db, writer, "stix", writes.keys[writer][:12], kinds)


@pytest.mark.parametrize("writer", list(wm.WRITERS))
def test_the_web_forms_never_change_or_reveal_what_the_writer_cannot_see(writes, writer):
    kinds = WRITE_KINDS["ui"]
    before = wm.snapshot(writes.db, "ui", writer, kinds)
    session = requests.Session()
    login = session.get(writes.url + "/login", timeout=30)
    signed = session.post(writes.url + "/login", timeout=30, allow_redirects=False, data={
        "username": writer, "password": PASSWORD, "csrf_token": csrf_from(login.text)})
    assert signed.status_code == 302, signed.text
    written = wm.written("ui", writer, kinds)
    form = session.get(writes.url + "/submit", timeout=30)
    page = session.post(writes.url + "/submit", timeout=30, data={
        "values": "\n".join(value for _, _, value in written), "tlp": "clear", "confidence": "30",
        "description": "writer text", "csrf_token": csrf_from(form.text)})
    assert page.status_code == 200, page.text
    shown = dict(re.findall(r'<code>([^<]+)</code></a></td>\s*<td><span class="status status-[a-z]+">([a-z]+)</span>',
                            page.text))
    assert {unescape(value): status for value, status in shown.items()} == {
        value: "new" if level is None or level in wm.hidden_from(writer) else "updated" for _, level, value in written}
    lowered = [level for level in LEVELS[1:] if level not in wm.hidden_from(writer)]
    assert text_of(page.text).count("TLP lowered from") == len(lowered) * len(kinds)

    def notice(value: str) -> str:
        form = session.get(writes.url + "/sighting", timeout=30)
        done = session.post(writes.url + "/sighting", timeout=30, data={
            "value": value, "case_ref": wm.CASE, "tlp": "clear", "seen": wm.WRITTEN_AT,
            "csrf_token": csrf_from(form.text)})
        assert done.status_code == 201, done.text
        found = re.search(r'<p class="notice" role="status">(.*?)</p>', done.text, flags=re.S)
        return text_of(found.group(1)).replace(value, "VALUE")

    for kind in kinds:
        unknown = notice(wm.unheard("ui", writer, kind))
        assert unknown.startswith(f"Sighting new: VALUE ({kind}), 1 in all, case {wm.CASE}")
        for level in LEVELS:
            shown = notice(wm.held("ui", writer, level, kind))
            if level in wm.hidden_from(writer):
                assert shown == unknown, (kind, level)
            else:
                assert shown.startswith(f"Sighting updated: VALUE ({kind}), 8 in all"), (kind, level)
    wm.check_rows(before, wm.snapshot(writes.db, "ui", writer, kinds), "ui", writer, kinds)
    wm.check_lowered(writes.db, writer, "ui", writer, kinds)
