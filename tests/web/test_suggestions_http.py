"""Suggested links over HTTP against a real `registry serve` (SQLite and PostgreSQL): values
submitted together in one API request, one STIX bundle or one TAXII envelope are recorded (a
large request is not) and suggested to who may see the submission; accepting one with
POST /api/v1/relationships ends it; errors and the audit (docs/api.md, "Suggested links")."""

from __future__ import annotations

import time
import uuid

import orjson
import requests
from sqlalchemy import func, select

from registry.storage import tables as t

TAXII = "application/taxii+json;version=2.1"


def _batches(server, value: str) -> int:
    """How many recorded submissions hold ``value``."""
    with server.db.read() as conn:
        return conn.execute(select(func.count()).select_from(
            t.cosubmission.join(t.indicator, t.indicator.c.id == t.cosubmission.c.indicator_id))
            .where(t.indicator.c.value == value)).scalar_one()


def _suggested(server, value: str, key: str) -> dict[str, dict]:
    response = server.get("/api/v1/suggestions", key=key, params={"value": value})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["value"] == value and body["truncated"] is False
    return {s["value"]: s for s in body["suggestions"]}


def _indicator(value: str) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "pattern": f"[domain-name:value = '{value}']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}  # TLP:GREEN


def test_values_of_one_request_are_suggested_together_to_who_may_see_them(server):
    posted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "k7-pay.example", "tlp": "green"}, {"value": "+66891112222", "tlp": "green"},
        {"value": "k7-secret.example", "tlp": "red"}], "region": "TH"})
    assert posted.status_code == 200, posted.text
    assert _batches(server, "k7-pay.example") == 1
    own = _suggested(server, "k7-pay.example", "ccib-reader")
    assert sorted(own) == ["+66891112222", "k7-secret.example"]
    item = own["+66891112222"]
    assert (item["source"], item["target"], item["type"], item["kind"], item["listed"]) == (
        "k7-pay.example", "+66891112222", "related-to", "phone", True)
    assert [(w["rule"], w["org"], w["times"]) for w in item["why"]] == [("submitted-together", "ccib-th", 1)]
    assert sorted(_suggested(server, "k7-pay.example", "pdrm-reader")) == ["+66891112222"]  # RED is ccib's
    assert _suggested(server, "k7-secret.example", "pdrm-reader") == {}

    # Accepting one is stating it: then it is suggested no more (to who sees the statement).
    linked = server.post("/api/v1/relationships", key="ccib-contrib", json={
        "source": item["source"], "target": item["target"], "type": item["type"], "tlp": "green"})
    assert linked.status_code == 201, linked.text
    assert sorted(_suggested(server, "k7-pay.example", "ccib-reader")) == ["k7-secret.example"]
    assert _suggested(server, "k7-pay.example", "pdrm-reader") == {}


def test_a_small_stix_bundle_and_a_taxii_envelope_are_recorded_a_large_request_is_not(server):
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
              "objects": [_indicator("stix-together-a.example"), _indicator("stix-together-b.example")]}
    posted = server.post("/api/v1/indicators", key="ccib-contrib", data=orjson.dumps(bundle),
                         headers={"Content-Type": "application/stix+json;version=2.1"})
    assert posted.status_code == 200 and posted.json()["counts"]["new"] == 2, posted.text
    assert _batches(server, "stix-together-a.example") == 1
    assert list(_suggested(server, "stix-together-a.example", "pdrm-reader")) == ["stix-together-b.example"]

    envelope = {"objects": [_indicator("taxii-together-a.example"), _indicator("taxii-together-b.example")]}
    added = requests.post(server.url + "/taxii2/api/collections/submissions/objects/", data=orjson.dumps(envelope),
                          headers={"Authorization": f"Bearer {server.keys['ccib-contrib']}", "Content-Type": TAXII,
                                   "Accept": TAXII}, timeout=30)
    assert added.status_code == 202, added.text
    assert list(_suggested(server, "taxii-together-b.example", "ccib-reader")) == ["taxii-together-a.example"]

    many = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": f"bulk-{n}.together.example", "tlp": "green"} for n in range(101)]})
    assert many.status_code == 200, many.text
    assert _batches(server, "bulk-0.together.example") == 0
    alone = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [{"value": "alone.example"}]})
    assert alone.status_code == 200 and _batches(server, "alone.example") == 0


def test_errors_and_the_audit(server):
    missing = server.get("/api/v1/suggestions", key="pdrm-reader")
    assert missing.status_code == 400 and missing.json()["error"]["details"]["field"] == "value"
    bad = server.get("/api/v1/suggestions", key="pdrm-reader", params={"value": "not a value at all"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "value"
    twice = server.get("/api/v1/suggestions", key="pdrm-reader", params=[("value", "a.example"), ("value", "b.example")])
    assert twice.status_code == 400
    assert server.get("/api/v1/suggestions", params={"value": "a.example"}).status_code == 401
    assert server.get("/api/v1/suggestions", key="pdrm-reader", params={"value": "audited.example"}).status_code == 200
    deadline = time.monotonic() + 10
    while True:
        rows = server.get("/api/v1/audit", key="admin", params={"action": "suggestions-read", "limit": 100}).json()
        subjects = [row["subject"] for row in rows["events"]]
        if {"value": "audited.example"} in subjects or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert {"value": "audited.example"} in subjects
