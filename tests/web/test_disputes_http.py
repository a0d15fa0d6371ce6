"""The dispute workflow over HTTP against a real `registry serve` (SQLite and PostgreSQL):
dispute, list, lookups show it, each source decides for its own assertion, an operator for any,
another org is refused; a value delisted by every source answers listed: false with its
history; a delisted value's report is held until a person relists it with a reason; every step
is in the audit log (docs/api.md, "Disputes and delisting")."""

from __future__ import annotations

import time

import orjson
from sqlalchemy import select

from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.storage import tables as t

VALUE = "+66812000111"
STIX_INDICATOR = {
    "type": "indicator", "spec_version": "2.1", "id": "indicator--6c4d8e2f-1a2b-4c3d-9e8f-7a6b5c4d3e21",
    "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
    "pattern": f"[phone-number:value = '{VALUE}']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
}


def _assertions(server, value: str) -> dict[str, dict]:
    a, o, i = t.assertion.c, t.organization.c, t.indicator.c
    with server.db.read() as conn:
        rows = conn.execute(select(o.slug, a.valid_until, a.end_reason, a.seq).join(t.organization, o.id == a.org_id)
                            .join(t.indicator, i.id == a.indicator_id).where(i.value == value))
        return {row.slug: dict(row._mapping) for row in rows}


def _events(server, action: str, expected: int) -> list[dict]:
    """The audit rows of ``action`` (the server writes them a moment after answering)."""
    deadline = time.monotonic() + 10
    while True:
        rows = server.get("/api/v1/audit", key="admin", params={"action": action, "limit": 100}).json()["events"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _submit(server, key: str, *items: dict):
    return server.post("/api/v1/indicators", key=key, json={"indicators": list(items), "region": "TH"})


def test_dispute_decide_and_relist(server):
    assert _submit(server, "ccib-contrib", {"value": VALUE, "tlp": "amber", "confidence": 80}).status_code == 200
    assert _submit(server, "pdrm-contrib", {"value": VALUE, "tlp": "green", "confidence": 60}).status_code == 200
    before = server.get("/api/v1/lookup", key="ccib-reader", params={"value": VALUE}).json()
    assert before["disputed"] is None

    opened = server.post("/api/v1/disputes", key="bank-green", json={
        "value": "081-200-0111", "reason": "this is our customer's salary account number", "evidence": "ticket 4411"})
    assert opened.status_code == 201, opened.text
    made = opened.json()
    assert (made["value"], made["status"]) == (VALUE, "open") and made["id"]
    during = server.get("/api/v1/lookup", key="ccib-reader", params={"value": VALUE}).json()
    assert during["disputed"] == {"id": made["id"], "since": made["since"], "status": "open"}
    assert during["score"] == before["score"]
    batch = server.post("/api/v1/lookup", key="pdrm-reader", json={"values": [VALUE, "1.2.3.4"]}).json()["results"]
    assert [a["disputed"] for a in batch] == [during["disputed"], None]
    again = server.post("/api/v1/disputes", key="pdrm-reader", json={"value": VALUE, "reason": "same"})
    assert again.status_code == 409 and again.json()["error"]["details"]["id"] == made["id"]

    listed = server.get("/api/v1/disputes", key="ccib-reader", params={"status": "open"}).json()["disputes"]
    mine = next(d for d in listed if d["id"] == made["id"])
    assert (mine["reason"], mine["evidence"], mine["disputer"]["org"]) == (
        "this is our customer's salary account number", "ticket 4411", "bank-x")
    assert mine["awaiting"] == ["ccib-th", "pdrm-my"] and not mine["overdue"]
    assert server.get(f"/api/v1/disputes/{made['id']}", key="bank-green").json()["id"] == made["id"]

    # Who may not decide: a reader; an org without an assertion on the value; another org's
    # assertion named outright.
    decide = f"/api/v1/disputes/{made['id']}/decision"
    assert server.post(decide, key="pdrm-reader", json={"decision": "delist"}).status_code == 403
    bank_contrib = create_key(server.db, "bank-x", "contributor", "green", by=ON_SERVER)["key"]
    refused = server.post(decide, key=bank_contrib, json={"decision": "delist"})
    assert refused.status_code == 403 and "bank-x has no assertion in force" in refused.json()["error"]["message"]
    named = server.post(decide, key="pdrm-contrib", json={"decision": "delist", "org": "ccib-th"})
    assert named.status_code == 403 and named.json()["error"]["details"]["field"] == "org"
    assert _assertions(server, VALUE)["ccib-th"]["end_reason"] is None

    seq = _assertions(server, VALUE)["ccib-th"]["seq"]
    delisted = server.post(decide, key="ccib-contrib", json={"decision": "delist", "note": "victim's number"})
    assert delisted.status_code == 200, delisted.text
    assert (delisted.json()["status"], delisted.json()["awaiting"]) == ("open", ["pdrm-my"])
    ended = _assertions(server, VALUE)["ccib-th"]
    assert ended["end_reason"] == "delisted" and ended["valid_until"] is not None and ended["seq"] > seq
    scored = server.get("/api/v1/lookup", key="ccib-reader", params={"value": VALUE}).json()
    # ccib-th's report is history now (delisted) and weighs nothing; pdrm-my's still lists the value.
    assert "ccib-th" not in {e["source"] for e in scored["explanation"] if "source" in e} and scored["listed"]
    assert [(h["source"], h["why"]) for h in scored["history"]] == [("ccib-th", "delisted")]

    # A registry operator decides for every org left: the dispute closes.
    closed = server.post(decide, key="admin", json={"decision": "uphold", "note": "pdrm-my's cases stand"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["applied"] == {"decision": "uphold", "orgs": ["pdrm-my"], "assertions": 1}
    assert server.post(decide, key="pdrm-contrib", json={"decision": "delist"}).status_code == 409
    assert server.get("/api/v1/lookup", key="ccib-reader", params={"value": VALUE}).json()["disputed"] is None
    def outcome(key: str) -> list:
        shut = server.get("/api/v1/disputes", key=key, params={"status": "closed"}).json()["disputes"]
        return [(d["outcome"], [x["org"] for x in d["decisions"]]) for d in shut if d["id"] == made["id"]]

    # A decision on an assertion a key may not see is not shown to it (ccib-th's is amber).
    assert outcome("ccib-reader") == [("mixed", ["ccib-th", "pdrm-my"])]
    assert outcome("bank-green") == [("upheld", ["pdrm-my"])]

    # ccib-th reports it again: held, saying how to relist; relisted with a reason.
    held = _submit(server, "ccib-contrib", {"value": VALUE})
    assert held.json()["results"][0]["status"] == "held" and held.json()["counts"]["held"] == 1
    assert '"relist": true' in held.json()["results"][0]["reason"]
    assert _assertions(server, VALUE)["ccib-th"]["end_reason"] == "delisted"
    stix = server.post("/api/v1/indicators", key="ccib-contrib", headers={"Content-Type": "application/stix+json"},
                       data=orjson.dumps({"type": "bundle", "id": "bundle--5d1b7a3e-0c1d-4f5e-8a9b-0c1d2e3f4a51",
                                          "objects": [STIX_INDICATOR]}))
    assert stix.status_code == 200, stix.text
    assert (stix.json()["results"][0]["status"], stix.json()["counts"]["held"]) == ("held", 1)
    assert "relist" in stix.json()["results"][0]["reason"]
    no_reason = _submit(server, "ccib-contrib", {"value": VALUE, "relist": True})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["details"]["field"] == "indicators[0].reason"
    relisted = _submit(server, "ccib-contrib", {"value": VALUE, "relist": True, "reason": "new case CCIB-2026-300"})
    assert relisted.json()["results"][0]["status"] == "updated", relisted.text
    assert _assertions(server, VALUE)["ccib-th"]["end_reason"] is None

    # Every step is audited.
    assert any(e["subject"]["id"] == made["id"] and e["org"] == "bank-x" for e in _events(server, "dispute", 1))
    decisions = [e for e in _events(server, "decision", 2) if e["subject"]["id"] == made["id"]]
    assert sorted((e["org"], e["subject"]["decision"], e["result_count"]) for e in decisions) == [
        ("ccib-th", "delist", 1), ("registry-ops", "uphold", 1)]
    held_rows = [e for e in _events(server, "held", 2) if e["subject"] == [VALUE] and e["org"] == "ccib-th"]
    assert len(held_rows) == 2  # the submission's and the STIX bundle's
    assert any(e["subject"] == [{"value": VALUE, "reason": "new case CCIB-2026-300"}] for e in _events(server, "relist", 1))


def test_a_value_delisted_by_every_source_is_no_longer_listed(server):
    value = "delisted-everywhere.example"
    assert _submit(server, "ccib-contrib", {"value": value, "tlp": "green"}).status_code == 200
    made = server.post("/api/v1/disputes", key="bank-green", json={"value": value, "reason": "our own login page"})
    assert made.status_code == 201, made.text
    decided = server.post(f"/api/v1/disputes/{made.json()['id']}/decision", key="ccib-contrib",
                          json={"decision": "delist", "note": "a bank's page"})
    assert decided.status_code == 200 and decided.json()["status"] == "closed"
    # Listed means in force (docs/design.md): not listed, score 0, the delisted report as history.
    for key in ("ccib-reader", "bank-green"):
        answer = server.get("/api/v1/lookup", key=key, params={"value": value}).json()
        assert (answer["listed"], answer["score"], answer["matches"], answer["disputed"]) == (False, 0, [], None)
        assert [(h["source"], h["value"], h["why"]) for h in answer["history"]] == [("ccib-th", value, "delisted")]
    found = server.get("/api/v1/indicators", key="ccib-reader", params={"q": value}).json()["indicators"]
    assert [(r["listed"], r["assertions"], [h["why"] for h in r["history"]]) for r in found] == [
        (False, [], ["delisted"])]


def test_what_a_key_may_not_see_cannot_be_disputed_or_read(server):
    _submit(server, "ccib-contrib", {"value": "red-only-dispute.example", "tlp": "red"})
    hidden = server.post("/api/v1/disputes", key="pdrm-reader", json={"value": "red-only-dispute.example", "reason": "x"})
    unknown = server.post("/api/v1/disputes", key="pdrm-reader", json={"value": "never-dispute.example", "reason": "x"})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"]["message"].replace("red-only", "N") == unknown.json()["error"]["message"].replace(
        "never", "N")
    made = server.post("/api/v1/disputes", key="ccib-reader", json={"value": "red-only-dispute.example",
                                                                     "reason": "reported by mistake"}).json()
    assert server.get(f"/api/v1/disputes/{made['id']}", key="pdrm-reader").status_code == 404
    assert made["id"] not in [d["id"] for d in server.get("/api/v1/disputes", key="pdrm-reader").json()["disputes"]]
    assert server.post(f"/api/v1/disputes/{made['id']}/decision", key="pdrm-contrib",
                       json={"decision": "delist"}).status_code == 404
    # Bad input is named.
    assert server.post("/api/v1/disputes", key="pdrm-reader", json={"value": "not a value", "reason": "x"}).status_code == 422
    missing = server.post("/api/v1/disputes", key="pdrm-reader", json={"value": "never-dispute.example"})
    assert missing.status_code == 400 and missing.json()["error"]["details"]["field"] == "reason"
    wrong = server.get("/api/v1/disputes", key="pdrm-reader", params={"status": "pending"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"]["field"] == "status"
    bad = server.post(f"/api/v1/disputes/{made['id']}/decision", key="ccib-contrib", json={"decision": "remove"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "decision"
