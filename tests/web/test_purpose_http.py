"""A lookup's purpose and case reference over the API (a real `registry serve`) and on the web
page (Flask's test client), on SQLite and PostgreSQL: recorded in the lookup's audit row, required
of an org's users and keys once the org says so, refused with a message saying what is missing,
never required of another org's. The command line: tests/integration/test_purpose_cli.py."""

from __future__ import annotations

import re
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from registry.services.access import ON_SERVER
from registry.services.audit import events
from registry.services.keys import create_key
from registry.services.orgs import add_org, set_org
from tests.web.conftest import REGISTRY
from tests.web.ui_support import (
    add_users,
    audit_rows,
    csrf_from,
    page_app,
    seed,
    sign_in,
    text_of,
    token,
    verdicts,
)


def _lookups_of(db, marker: str, count: int) -> list[dict]:
    """The lookup rows naming ``marker``, oldest first, once ``count`` of them are written. By
    time, not row id: each worker writes its own events, so ids follow when they were flushed."""
    deadline = time.monotonic() + 10
    while True:
        rows = [e for e in events(db, {"action": "lookup", "limit": "1000"})["events"] if marker in str(e["subject"])]
        if len(rows) >= count or time.monotonic() > deadline:
            return sorted(rows, key=lambda e: e["time"])
        time.sleep(0.05)


def _chain_verifies(env) -> None:
    verified = subprocess.run([str(REGISTRY), "audit", "verify"], env=env, capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr


# -- the API ---------------------------------------------------------------------------------
def test_api_records_purpose_and_case_ref_single_and_batch(server):
    one = server.get("/api/v1/lookup", key="pdrm-reader", params={
        "value": "why-one.example", "purpose": "victim complaint triage", "case_ref": "PDRM-KL-0457"})
    assert one.status_code == 200 and one.json()["value"] == "why-one.example"
    batch = server.post("/api/v1/lookup", key="pdrm-reader", json={
        "values": ["why-two.example", "why-three.example"], "purpose": "  mule sweep ", "case_ref": "OP-11"})
    assert batch.status_code == 200 and len(batch.json()["results"]) == 2
    plain = server.post("/api/v1/lookup", key="pdrm-reader", json={"values": ["why-four.example"]})
    assert plain.status_code == 200
    rows = _lookups_of(server.db, "why-", 3)
    assert [r["subject"] for r in rows] == [
        {"purpose": "victim complaint triage", "case_ref": "PDRM-KL-0457", "values": ["why-one.example"]},
        {"purpose": "mule sweep", "case_ref": "OP-11", "values": ["why-two.example", "why-three.example"]},
        ["why-four.example"],  # none given: the values, as ever
    ]
    assert {(r["org"], r["client"]) for r in rows} == {("pdrm-my", "127.0.0.1")}
    too_long = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "a.example", "purpose": "p" * 501})
    assert too_long.status_code == 400 and too_long.json()["error"]["details"]["field"] == "purpose"
    not_text = server.post("/api/v1/lookup", key="pdrm-reader", json={"values": ["a.example"], "case_ref": 12})
    assert not_text.status_code == 400 and not_text.json()["error"]["details"]["field"] == "case_ref"
    _chain_verifies(server.env)


def test_an_org_that_requires_a_purpose_has_its_keys_lookups_refused_without_one(server):
    add_org(server.db, "dsi-th", "Department of Special Investigation", "TH")
    key = create_key(server.db, "dsi-th", "reader", by=ON_SERVER)["key"]
    assert server.get("/api/v1/lookup", key=key, params={"value": "dsi-a.example"}).status_code == 200
    set_org(server.db, "dsi-th", require_purpose=True)
    for _ in range(4):  # each worker, though it remembered the key before, knows at once
        refused = server.get("/api/v1/lookup", key=key, params={"value": "dsi-a.example"})
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["code"] == "purpose_required"
        assert error["details"] == {"missing": ["purpose", "case_ref"], "org": "dsi-th", "field": "purpose"}
        assert error["message"] == ("dsi-th requires a purpose and a case reference with every lookup by its users "
                                    "and keys: give purpose and case_ref")
    half = server.post("/api/v1/lookup", key=key, json={"values": ["dsi-b.example"], "purpose": "fraud triage",
                                                        "case_ref": "   "})
    assert half.status_code == 400 and half.json()["error"]["details"]["missing"] == ["case_ref"]
    ok = server.post("/api/v1/lookup", key=key, json={"values": ["dsi-b.example"], "purpose": "fraud triage",
                                                      "case_ref": "DSI-2026-7"})
    assert ok.status_code == 200
    single = server.get("/api/v1/lookup", key=key, params={"value": "dsi-c.example", "purpose": "triage",
                                                           "case_ref": "DSI-2026-8"})
    assert single.status_code == 200
    # Another org's keys are not asked.
    assert server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "dsi-a.example"}).status_code == 200
    rows = _lookups_of(server.db, "dsi-", 4)
    assert [r["subject"] for r in rows if r["org"] == "dsi-th"] == [
        ["dsi-a.example"],
        {"purpose": "fraud triage", "case_ref": "DSI-2026-7", "values": ["dsi-b.example"]},
        {"purpose": "triage", "case_ref": "DSI-2026-8", "values": ["dsi-c.example"]},
    ]  # refused lookups looked nothing up, and are not lookup rows
    set_org(server.db, "dsi-th", require_purpose=False)
    assert server.get("/api/v1/lookup", key=key, params={"value": "dsi-a.example"}).status_code == 200
    _chain_verifies(server.env)


# -- the web page ----------------------------------------------------------------------------
@pytest.fixture
def app(db):
    seed(db)
    add_org(db, "dsi-th", "Department of Special Investigation", "TH")
    add_users(db, {"dsi-analyst": ("dsi-th", "reader", "amber")})
    set_org(db, "dsi-th", require_purpose=True)
    with page_app(db) as app:
        yield app


def _indicator_links(html: str) -> list[dict]:
    return [parse_qs(urlsplit(href.replace("&amp;", "&")).query)
            for href in re.findall(r'href="(/indicator\?[^"]+)"', html)]


def test_page_records_the_purpose_and_carries_it_to_indicator_pages(app):
    client = app.test_client()
    sign_in(client, "somchai")
    home = client.get("/")
    assert 'name="purpose"' in home.text and 'name="case_ref"' in home.text and " required" not in home.text
    submitted = client.post("/submit", data={"values": "why-page.example", "tlp": "amber", "confidence": "80",
                                             "csrf_token": token(client, "/submit")})
    assert submitted.status_code == 200
    page = client.post("/", data={"values": "why-page.example\nwww.why-page.example", "purpose": "phishing report",
                                  "case_ref": "CCIB-2026-200", "csrf_token": csrf_from(home.text)})
    assert page.status_code == 200 and set(verdicts(page.text).values()) == {"listed"}
    assert 'value="phishing report"' in page.text  # the form keeps it for the next lookup
    links = _indicator_links(page.text)
    assert links and all(q["purpose"] == ["phishing report"] and q["case_ref"] == ["CCIB-2026-200"] for q in links)
    shown = client.get("/indicator", query_string={"value": "why-page.example", "purpose": "phishing report",
                                                   "case_ref": "CCIB-2026-200"})
    assert shown.status_code == 200
    assert client.get("/indicator", query_string={"value": "why-page.example"}).status_code == 200  # not required here
    rows = audit_rows(app, "lookup")
    assert [r["subject"] for r in reversed(rows)] == [
        {"purpose": "phishing report", "case_ref": "CCIB-2026-200", "values": ["why-page.example", "www.why-page.example"]},
        {"purpose": "phishing report", "case_ref": "CCIB-2026-200", "values": ["why-page.example"]},
        ["why-page.example"],
    ]
    assert {r["actor"] for r in rows} == {"somchai"}


def test_page_refuses_a_lookup_without_the_purpose_its_org_requires(app):
    client = app.test_client()
    sign_in(client, "dsi-analyst")
    home = client.get("/")
    assert "(required by dsi-th)" in text_of(home.text) and 'name="purpose" maxlength="500" value="" placeholder' in home.text
    refused = client.post("/", data={"values": "dsi-page.example", "purpose": "fraud triage",
                                     "csrf_token": csrf_from(home.text)})
    assert refused.status_code == 400
    assert ("dsi-th requires a purpose and a case reference with every lookup by its users and keys: "
            "give Case reference") in text_of(refused.text)
    assert "dsi-page.example" in refused.text and 'value="fraud triage"' in refused.text  # nothing typed is lost
    ok = client.post("/", data={"values": "dsi-page.example", "purpose": "fraud triage", "case_ref": "DSI-9",
                                "csrf_token": csrf_from(home.text)})
    assert ok.status_code == 200 and verdicts(ok.text) == {"dsi-page.example": "not listed"}
    # An indicator page is a lookup of its value: without them it asks, and looks nothing up.
    asked = client.get("/indicator", query_string={"value": "dsi-page.example"})
    assert asked.status_code == 400 and "give Purpose and Case reference" in text_of(asked.text)
    assert 'name="value" value="dsi-page.example"' in asked.text and 'name="case_ref"' in asked.text
    shown = client.get("/indicator", query_string={"value": "dsi-page.example", "purpose": "fraud triage",
                                                   "case_ref": "DSI-9"})
    assert shown.status_code == 404 and "Nobody has reported" in shown.text  # looked up: not listed
    rows = audit_rows(app, "lookup")
    assert [r["subject"] for r in reversed(rows)] == [
        {"purpose": "fraud triage", "case_ref": "DSI-9", "values": ["dsi-page.example"]}] * 2
    assert all(r["org"] == "dsi-th" for r in rows)
    ops = app.test_client()
    sign_in(ops, "ops")
    orgs = {m[0]: m[1] for m in re.findall(r"<tr><td><code>([a-z0-9-]+)</code></td>.*?<td>(yes|—)</td></tr>",
                                           ops.get("/admin/orgs").text)}
    assert orgs["dsi-th"] == "yes" and orgs["ccib-th"] == "—"
