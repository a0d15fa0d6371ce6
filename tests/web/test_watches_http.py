"""Watches over HTTP against a real `registry serve` (SQLite and PostgreSQL): add, list, remove;
the same watch answers the one the org has; every bad input a 400 naming its field; another org's
watch is as unknown as none; who may remove which; the TLP rule over the events a watch routes;
the audit rows (docs/api.md, "Watches")."""

from __future__ import annotations

import time

import pytest
import requests

from registry.domain import events as ev
from registry.domain.kinds import DOMAIN, PHONE
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, RED
from registry.services import events
from registry.services.keys import PREFIX_LEN
from registry.storage import events as event_store

WATCHES = "/api/v1/watches"


def _delete(server, path: str, key: str) -> requests.Response:
    return requests.delete(server.url + path, headers={"Authorization": f"Bearer {server.keys[key]}"}, timeout=30)


def _listed(server, key: str) -> list[dict]:
    answer = server.get(WATCHES, key=key)
    assert answer.status_code == 200, answer.text
    return answer.json()["watches"]


def _audit(server, action: str, expected: int) -> list[dict]:
    """The audit rows of ``action`` (the server writes them a moment after answering)."""
    deadline = time.monotonic() + 10
    while True:
        rows = server.get("/api/v1/audit", key="admin", params={"action": action, "limit": 100}).json()["events"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_add_list_and_remove(server):
    made = server.post(WATCHES, key="ccib-reader", json={
        "value": "+855 97*", "kinds": ["phone"], "labels": ["Call Centre Scam"], "sources": ["pdrm-my"]})
    assert made.status_code == 201, made.text
    watch = made.json()
    assert {k: v for k, v in watch.items() if k not in ("id", "created")} == {
        "value": "+85597*", "kind": "phone", "label": None, "kinds": ["phone"], "labels": ["call-centre-scam"],
        "sources": ["pdrm-my"], "actor": server.keys["ccib-reader"][:PREFIX_LEN]}
    assert len(watch["id"]) == 36 and watch["created"].endswith("Z")

    again = server.post(WATCHES, key="ccib-contrib", json={
        "value": "+85597*", "kinds": ["phone"], "labels": ["call-centre-scam"], "sources": ["pdrm-my"]})
    assert again.status_code == 200 and again.json() == watch  # the one the org has
    label = server.post(WATCHES, key="ccib-contrib", json={"label": "mule-account"})
    assert label.status_code == 201 and (label.json()["value"], label.json()["label"]) == (None, "mule-account")

    assert [w["id"] for w in _listed(server, "ccib-reader")] == [watch["id"], label.json()["id"]]
    assert _listed(server, "pdrm-reader") == []  # another org's

    gone = _delete(server, f"{WATCHES}/{label.json()['id']}", "ccib-contrib")
    assert gone.status_code == 204 and gone.content == b""
    twice = _delete(server, f"{WATCHES}/{label.json()['id']}", "ccib-contrib")
    assert twice.status_code == 404 and twice.json()["error"]["details"]["field"] == "id"
    assert [w["id"] for w in _listed(server, "ccib-contrib")] == [watch["id"]]

    added = _audit(server, "watch-add", 3)  # each worker writes its own rows: in no set order
    assert sorted((r["org"], r["subject"]["id"], r["subject"]["label"], r["subject"]["new"]) for r in added) == sorted([
        ("ccib-th", watch["id"], None, True), ("ccib-th", watch["id"], None, False),
        ("ccib-th", label.json()["id"], "mule-account", True)])
    removed = _audit(server, "watch-remove", 1)
    assert [(r["org"], r["subject"]["id"]) for r in removed] == [("ccib-th", label.json()["id"])]
    read = [(r["org"], r["result_count"]) for r in _audit(server, "watches-read", 3)]
    assert sorted(read) == [("ccib-th", 1), ("ccib-th", 2), ("pdrm-my", 0)]


def test_another_orgs_watch_is_unknown_and_readers_remove_their_own(server):
    contributors = server.post(WATCHES, key="pdrm-contrib", json={"value": "198.51.100.0/24"}).json()
    readers = server.post(WATCHES, key="pdrm-reader", json={"value": "shop.example", "kinds": ["url"]}).json()
    for key in ("ccib-contrib", "admin"):  # an operator's key manages its own org's watches only
        other = _delete(server, f"{WATCHES}/{contributors['id']}", key)
        unknown = _delete(server, f"{WATCHES}/00000000-0000-4000-8000-000000000000", key)
        assert other.status_code == unknown.status_code == 404
        assert other.json()["error"]["message"].replace(contributors["id"], "X") == \
            unknown.json()["error"]["message"].replace("00000000-0000-4000-8000-000000000000", "X")
    refused = _delete(server, f"{WATCHES}/{contributors['id']}", "pdrm-reader")
    assert refused.status_code == 403 and "a reader removes only the watches it made" in refused.json()["error"]["message"]
    assert _delete(server, f"{WATCHES}/{readers['id']}", "pdrm-reader").status_code == 204
    assert _delete(server, f"{WATCHES}/{contributors['id']}", "pdrm-admin").status_code == 204
    assert _listed(server, "pdrm-reader") == []


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, "value", "give the value to watch"),
    ({"value": 7}, "value", "value must be text"),
    ({"value": "evil.example", "label": "phishing"}, "label", "not both"),
    ({"value": "not a value at all"}, "value", "not a recognised indicator"),
    ({"value": "co.th"}, "value", "public suffix"),
    ({"value": "evil.example", "kinds": "domain"}, "kinds", "kinds must be a list of strings"),
    ({"value": "evil.example", "kinds": ["domain", 4]}, "kinds[1]", "kinds[1] must be a string"),
    ({"value": "evil.example", "kinds": ["dns"]}, "kinds", "unknown kind 'dns'"),
    ({"value": "evil.example", "labels": ["no/slash"]}, "labels", "short slug"),
    ({"value": "evil.example", "sources": ["nobody"]}, "sources", "no org 'nobody'"),
    ({"value": "evil.example", "source": ["pdrm-my"]}, "source", "unknown field 'source'"),
    ({"label": "phishing", "labels": ["bank"]}, "labels", "a label watch is the label alone"),
    ({"label": ["phishing"]}, "label", "label must be text"),
    ({"value": "a\x00.example"}, "value", "NUL"),
])
def test_bad_input_is_a_400_naming_the_field(server, body, field, message):
    answer = server.post(WATCHES, key="bank-green", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["details"]["field"] == field and message in error["message"], error


def test_bad_requests_are_json_errors(server):
    assert server.post(WATCHES, key="bank-green", data="value=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    long_id = _delete(server, f"{WATCHES}/{'x' * 37}", "bank-green")
    assert long_id.status_code == 400 and long_id.json()["error"]["details"]["field"] == "id"
    assert requests.get(server.url + WATCHES, timeout=30).status_code == 401
    assert _listed(server, "bank-green") == []


def test_routing_by_an_api_watch_never_reveals_another_orgs_red(server):
    """A watch made over the API routes events to its org, the TLP rule applied: pdrm-my's RED on
    the watched block never reaches ccib-th (watch or not), its AMBER does, with the watch's id, read
    back over GET /api/v1/events by a RED-capped key of ccib-th."""
    watch = server.post(WATCHES, key="ccib-reader", json={"value": "+85598*"}).json()
    domain = server.post(WATCHES, key="ccib-reader", json={"value": "watched.example"}).json()
    with server.db.read() as conn:
        after = event_store.head(conn)

    def event(kind, value, tlp):
        return ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=tlp, source="pdrm-my", org="pdrm-my", kind=kind,
                           value=value)

    with server.db.write() as conn:
        events.emit(conn, [event(PHONE, "+85598111000", RED), event(PHONE, "+85598111001", AMBER),
                           event(DOMAIN, "a.watched.example", RED), event(DOMAIN, "b.watched.example", AMBER)])
    for scope in ("org", "all"):
        got = server.get("/api/v1/events", key="ccib-reader", params={"after": after, "scope": scope})
        assert got.status_code == 200, got.text
        assert [(e["value"], e["watches"]) for e in got.json()["events"]] == [
            ("+85598111001", [watch["id"]]), ("b.watched.example", [domain["id"]])]
    theirs = server.get("/api/v1/events", key="pdrm-reader", params={"after": after}).json()["events"]
    assert theirs == []  # pdrm-my watches none of it, and owns no indicator it touches
