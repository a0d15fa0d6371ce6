"""``GET /api/v1/graph`` against a real `registry serve` on SQLite and PostgreSQL: the neighbourhood as
each key may see it, the depth and its errors naming the field, the purpose an org requires, the
audit row (docs/api.md, "Graph")."""

from __future__ import annotations

import time

from registry.services import relationships
from registry.services.access import ON_SERVER
from registry.services.audit import events
from registry.services.keys import create_key
from registry.services.orgs import add_org, set_org

PHONE, ACCOUNT, TELEGRAM, DOMAIN = "+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support", "kbank-verify.example"


def _seed(server) -> None:
    if getattr(server, "graph_seeded", False):
        return
    for org, source, target, type_, tlp in (("ccib-th", PHONE, "KBank 123-4-56789-0", "pays-to", "amber"),
                                            ("ccib-th", PHONE, "t.me/k7_support", "contacts", "green"),
                                            ("pdrm-my", "t.me/k7_support", DOMAIN, "same-operator", "red")):
        relationships.link(server.db, ON_SERVER, source, target, type_, org=org, tlp=tlp, region="TH")
    assert server.post("/api/v1/indicators", key="ccib-contrib",
                       json={"indicators": [{"value": PHONE, "tlp": "amber", "confidence": 80}]}).status_code == 200
    server.graph_seeded = True


def _graph_rows(server, org: str, count: int) -> list[dict]:
    """The org's graph audit rows, oldest first, once ``count`` are written (the server writes them
    a moment after answering)."""
    deadline = time.monotonic() + 10
    while True:
        rows = [r for r in events(server.db, {"action": "graph", "limit": "100"})["events"] if r["org"] == org]
        if len(rows) >= count or time.monotonic() > deadline:
            return sorted(rows, key=lambda e: e["time"])
        time.sleep(0.05)


def test_the_graph_as_each_key_may_see_it(server):
    _seed(server)
    answer = server.get("/api/v1/graph", key="ccib-reader", params={"value": "+855 97 123 4567"})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert (body["value"], body["depth"], body["cap"], body["truncated"]) == (PHONE, 2, 200, False)
    assert [(n["value"], n["distance"], n["listed"]) for n in body["nodes"]] == [
        (PHONE, 0, True), (ACCOUNT, 1, False), (TELEGRAM, 1, False)]  # pdrm-my's RED statement is not ccib's
    assert body["nodes"][0]["score"] > 0 and body["nodes"][0]["kind"] == "phone"
    assert {(e["source"], e["type"], e["target"], e["org"]) for e in body["edges"]} == {
        (PHONE, "pays-to", ACCOUNT, "ccib-th"), (PHONE, "contacts", TELEGRAM, "ccib-th")}

    pdrm = server.get("/api/v1/graph", key="pdrm-reader", params={"value": PHONE}).json()
    # pdrm-my's key is capped at AMBER+STRICT: its own RED statement is above it, the AMBER one not.
    assert [n["value"] for n in pdrm["nodes"]] == [PHONE, ACCOUNT, TELEGRAM]
    pdrm_red = create_key(server.db, "pdrm-my", "reader", "red", by=ON_SERVER)["key"]  # sees its own RED
    red = server.get("/api/v1/graph", key=pdrm_red, params={"value": PHONE}).json()
    assert [(n["value"], n["distance"]) for n in red["nodes"]] == [(PHONE, 0), (ACCOUNT, 1), (TELEGRAM, 1), (DOMAIN, 2)]
    assert server.get("/api/v1/graph", key="admin", params={"value": PHONE}).json() == body  # an operator's key: no RED of others
    one = server.get("/api/v1/graph", key=pdrm_red, params={"value": PHONE, "depth": "1"}).json()
    assert one["depth"] == 1 and DOMAIN not in [n["value"] for n in one["nodes"]]
    bank = server.get("/api/v1/graph", key="bank-green", params={"value": PHONE}).json()
    assert [(n["value"], n["listed"], n["score"]) for n in bank["nodes"]] == [(PHONE, False, 0), (TELEGRAM, False, 0)]
    unknown = server.get("/api/v1/graph", key="bank-green", params={"value": "9.9.9.9"}).json()
    assert [n["value"] for n in unknown["nodes"]] == ["9.9.9.9"] and unknown["edges"] == []

    rows = _graph_rows(server, "ccib-th", 1)
    assert rows[0]["subject"] == {"value": "+855 97 123 4567", "depth": 2} and rows[0]["result_count"] == 3


def test_errors_name_the_field(server):
    for params, field in (({"value": PHONE, "depth": "3"}, "depth"), ({"value": PHONE, "depth": "two"}, "depth"),
                          ({}, "value"), ({"value": PHONE, "region": "Thailand"}, "region")):
        refused = server.get("/api/v1/graph", key="ccib-reader", params=params)
        assert refused.status_code == 400, params
        error = refused.json()["error"]
        assert error["details"]["field"] == field, error
    depth = server.get("/api/v1/graph", key="ccib-reader", params={"value": PHONE, "depth": "3"}).json()["error"]
    assert depth["message"] == "depth must be 1 or 2, not '3'" and depth["details"]["allowed"] == [1, 2]
    unreadable = server.get("/api/v1/graph", key="ccib-reader", params={"value": "not a value at all"})
    assert unreadable.status_code == 422 and unreadable.json()["error"]["details"]["field"] == "value"
    twice = server.get(f"/api/v1/graph?value={PHONE.replace('+', '%2B')}&depth=1&depth=2", key="ccib-reader")
    assert twice.status_code == 400 and twice.json()["error"]["details"]["field"] == "depth"
    assert server.get("/api/v1/graph", params={"value": PHONE}).status_code == 401


def test_an_org_that_requires_a_purpose_gives_one(server):
    _seed(server)
    add_org(server.db, "dsi-graph", "Department of Special Investigation", "TH")
    key = create_key(server.db, "dsi-graph", "reader", by=ON_SERVER)["key"]
    set_org(server.db, "dsi-graph", require_purpose=True)
    refused = server.get("/api/v1/graph", key=key, params={"value": PHONE})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "purpose_required"
    given = server.get("/api/v1/graph", key=key, params={"value": PHONE, "purpose": "compound K7",
                                                         "case_ref": "DSI-2026-9"})
    assert given.status_code == 200
    rows = _graph_rows(server, "dsi-graph", 1)
    assert [r["subject"] for r in rows] == [{"purpose": "compound K7", "case_ref": "DSI-2026-9", "value": PHONE,
                                            "depth": 2}]
