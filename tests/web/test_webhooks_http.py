"""Webhooks over HTTP against a real `registry serve` (SQLite and PostgreSQL) with
REGISTRY_WEBHOOK_ALLOW_LOOPBACK=true: register (the secret once), list (never the secret), the URL
checks and their 400s, unknown watches, roles, another org's webhook a 404, deliveries with the
receiver's answers after a real delivery, enable, delete, and every step audited without the
secret (docs/api.md, "Webhooks")."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain import webhooks as rules
from registry.domain.kinds import DOMAIN
from registry.domain.times import utcnow
from registry.domain.tlp import GREEN
from registry.services import events
from registry.services.dispatch import Dispatcher
from registry.storage.db import Database
from tests.web.conftest import Server, seed_members, start_server, stop_server
from tests.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def server(engine_url, tmp_path_factory):
    db = Database(engine_url)
    keys = seed_members(db)
    process, url, env = start_server(engine_url, tmp_path_factory.mktemp("hooks"),
                                     extra_env={"REGISTRY_WEBHOOK_ALLOW_LOOPBACK": "true"})
    yield Server(url=url, db=db, process=process, env=env, keys=keys)
    stop_server(process)
    db.dispose()


@pytest.fixture
def receiver():
    got = Receiver()
    yield got
    got.close()


def _delete(server, path, key):
    return requests.delete(server.url + path, headers={"Authorization": f"Bearer {server.keys[key]}"}, timeout=30)


def _audit(server, action: str, expected: int) -> list[dict]:
    """The audit rows of ``action`` (the server writes them a moment after answering)."""
    deadline = time.monotonic() + 10
    while True:
        rows = server.get("/api/v1/audit", key="admin", params={"action": action, "limit": 100}).json()["events"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _org_id(server, slug: str) -> int:
    with server.db.read() as conn:
        return conn.execute(text("SELECT id FROM organization WHERE slug = :s"), {"s": slug}).scalar_one()


@pytest.mark.parametrize(("url", "why"), [
    ("http://93.184.216.34/hook", "must be https"),
    ("https://10.1.1.1/hook", "private address"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://[fd00::1]/hook", "private address"),
    ("https://no-such-host.invalid/hook", "does not resolve"),
    ("https://user:pw@93.184.216.34/", "credentials"),
    (["https://93.184.216.34/"], "https URL"),
])
def test_refused_urls_answer_400_naming_url(server, url, why):
    answer = server.post("/api/v1/webhooks", key="ccib-contrib", json={"url": url})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["details"]["field"] == "url" and why in error["message"]


def test_bad_requests(server):
    assert server.post("/api/v1/webhooks", json={"url": "https://93.184.216.34/"}).status_code == 401
    refused = server.post("/api/v1/webhooks", key="ccib-reader", json={"url": "https://93.184.216.34/"})
    assert refused.status_code == 403 and refused.json()["error"]["details"]["needed_role"] == "contributor"
    assert server.post("/api/v1/webhooks", key="ccib-contrib", data="url=x").status_code == 415
    for watches in (["no-such-watch"], [], "some", [1]):
        answer = server.post("/api/v1/webhooks", key="ccib-contrib",
                             json={"url": "https://93.184.216.34/", "watches": watches})
        assert answer.status_code == 400 and answer.json()["error"]["details"]["field"] == "watches", answer.text
    assert server.get("/api/v1/webhooks/" + "x" * 37 + "/deliveries", key="ccib-contrib").status_code == 400


def test_register_list_deliver_enable_delete(server, receiver):
    made = server.post("/api/v1/webhooks", key="ccib-contrib", json={"url": receiver.url(), "watches": "all"})
    assert made.status_code == 201, made.text
    hook = made.json()
    receiver.secret = hook["secret"]
    assert hook["secret"].startswith("whsec_") and hook["watches"] == "all" and hook["max_tlp"] == "red"
    listed = server.get("/api/v1/webhooks", key="ccib-contrib").json()["webhooks"]
    mine = [w for w in listed if w["id"] == hook["id"]]
    assert mine and "secret" not in mine[0] and mine[0]["url"] == receiver.url()
    assert all(w["id"] != hook["id"] for w in server.get("/api/v1/webhooks", key="pdrm-contrib").json()["webhooks"])

    with server.db.write() as conn:  # two events for ccib-th, as a hit on its indicator is
        seqs = events.emit(conn, [ev.NewEvent(type=ev.LOOKUP_HIT, time=utcnow(), tlp=GREEN, source="ccib-th",
                                              kind=DOMAIN, value=f"h{n}.scam.example", body={"count": 1},
                                              to_org_id=_org_id(server, "ccib-th")) for n in range(2)])
    receiver.answer = lambda r: (200, b"got it", {}) if r.seq == seqs[0] else (500, b"try later", {})
    Dispatcher(server.db, allow_loopback=True).round()
    attempts = server.get(f"/api/v1/webhooks/{hook['id']}/deliveries", key="ccib-contrib").json()["deliveries"]
    assert [(a["seq"], a["attempt"], a["status"], a["acknowledged"], a["answer"]) for a in attempts] == [
        (seqs[1], 1, 500, False, "try later"), (seqs[0], 1, 200, True, "got it")]
    assert [a["delivery"] for a in attempts] == [rules.delivery_id(hook["id"], s) for s in reversed(seqs)]
    assert receiver.received[0].headers["X-Registry-Event"] == "lookup.hit" and receiver.received[0].event["count"] == 1
    one = server.get(f"/api/v1/webhooks/{hook['id']}/deliveries", key="ccib-contrib", params={"limit": 1}).json()
    assert len(one["deliveries"]) == 1
    assert server.get(f"/api/v1/webhooks/{hook['id']}/deliveries", key="ccib-contrib",
                      params={"limit": 0}).status_code == 400
    for path in (f"/api/v1/webhooks/{hook['id']}/deliveries",):
        assert server.get(path, key="pdrm-contrib").status_code == 404  # another org's: unknown
    assert server.post(f"/api/v1/webhooks/{hook['id']}/enable", key="pdrm-admin").status_code == 404

    with server.db.write() as conn:
        conn.execute(text("UPDATE webhook SET enabled = :no, disabled_reason = 'failing' WHERE uid = :u"),
                     {"no": False, "u": hook["id"]})
    enabled = server.post(f"/api/v1/webhooks/{hook['id']}/enable", key="ccib-contrib")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] is None and enabled.json()["position"] == seqs[0]

    assert _delete(server, f"/api/v1/webhooks/{hook['id']}", "pdrm-contrib").status_code == 404
    gone = _delete(server, f"/api/v1/webhooks/{hook['id']}", "ccib-contrib")
    assert gone.status_code == 204 and gone.content == b""
    assert _delete(server, f"/api/v1/webhooks/{hook['id']}", "ccib-contrib").status_code == 404
    assert server.get(f"/api/v1/webhooks/{hook['id']}/deliveries", key="ccib-contrib").status_code == 404

    added = [e for e in _audit(server, "webhook-add", 1) if e["subject"]["id"] == hook["id"]]
    assert [(e["org"], e["subject"]["url"]) for e in added] == [("ccib-th", receiver.url())]
    for action in ("webhook-enable", "webhook-remove", "webhook-deliveries-read", "webhooks-read"):
        assert _audit(server, action, 1), action
    assert all(hook["secret"] not in str(e) for e in _audit(server, "webhook-add", 1))
