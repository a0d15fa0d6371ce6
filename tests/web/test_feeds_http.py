"""The feeds API through the real server (`registry serve`): readers list feeds and runs,
feed-admins start a run, TLP limits who sees a feed, every call is audited."""

from __future__ import annotations

import time

from registry.services.access import ON_SERVER
from tests.feeds.support import add_feed
from tests.helpers import FIXTURES

DROP = "file://" + str(FIXTURES / "spamhaus/spamhaus_drop_2025-01-17.txt")


def test_feeds_api(server):
    from registry.services.keys import create_key

    add_feed(server.db, "http-drop", DROP, "text", provider="spamhaus", tlp="clear", confidence=80)
    add_feed(server.db, "http-amber", DROP, "text", provider="spamhaus", tlp="amber")
    feed_admin = create_key(server.db, "registry-ops", "feed-admin", "red", by=ON_SERVER)["key"]

    assert server.get("/api/v1/feeds").status_code == 401
    forbidden = server.post("/api/v1/feeds/http-drop/run", "ccib-contrib")
    assert forbidden.status_code == 403 and forbidden.json()["error"]["details"]["needed_role"] == "feed-admin"

    started = server.post("/api/v1/feeds/http-drop/run", feed_admin)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running" and started.headers["Location"] == "/api/v1/feeds/http-drop/runs"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = server.get("/api/v1/feeds/http-drop/runs", "pdrm-reader").json()["runs"][0]
        if body["status"] != "running":
            break
        time.sleep(0.05)
    assert (body["id"], body["status"], body["trigger"], body["rows"], body["new"]) == (
        started.json()["id"], "ok", "api", 1385, 1385)
    again = server.post("/api/v1/feeds/http-drop/run?wait=true", feed_admin)
    assert again.status_code == 200 and again.json()["status"] == "not-modified"

    listed = server.get("/api/v1/feeds", "bank-green").json()["feeds"]  # a GREEN-capped key
    assert [f["name"] for f in listed] == ["http-drop"]
    assert listed[0]["last_run"]["status"] == "not-modified" and listed[0]["last_ok_run"]["new"] == 1385
    assert server.get("/api/v1/feeds/http-amber/runs", "bank-green").status_code == 404
    assert server.get("/api/v1/feeds/http-amber/runs", "pdrm-reader").status_code == 200

    runs = server.get("/api/v1/feeds/http-drop/runs?limit=1", "pdrm-reader").json()
    assert runs["feed"] == "http-drop" and [r["status"] for r in runs["runs"]] == ["not-modified"]
    older = server.get(f"/api/v1/feeds/http-drop/runs?before={runs['next']}", "pdrm-reader").json()
    assert [r["status"] for r in older["runs"]] == ["ok"] and older["next"] is None

    assert server.get("/api/v1/feeds/nope/runs", "pdrm-reader").json()["error"]["code"] == "not_found"
    bad = server.get("/api/v1/feeds/http-drop/runs?limit=0", "pdrm-reader")
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "limit"
    assert server.post("/api/v1/feeds/BAD NAME/run", feed_admin).status_code == 400

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        actions = [e["action"] for e in server.get("/api/v1/audit?limit=200", "admin").json()["events"]]
        if {"feed-run", "feeds-read", "feed-runs-read"} <= set(actions):
            break
        time.sleep(0.1)
    assert {"feed-run", "feeds-read", "feed-runs-read"} <= set(actions)


def test_a_taxii_feed_polls_from_its_added_after_position(server, sqlite_db, monkeypatch):
    """This registry's TAXII server as a partner's: a local registry polls its collection as a
    feed, with the key in an environment variable, from the position the last run reached."""
    from registry.domain.tlp import Viewer
    from registry.services.feeds import feed_runs, run_feed
    from registry.storage import feeds as store
    from tests.feeds.test_golden_runs import stored

    def submit(*values):
        answer = server.post("/api/v1/indicators", "ccib-contrib",
                             json={"indicators": [{"value": v, "tlp": "green"} for v in values]})
        assert answer.status_code == 200, answer.text

    submit("taxii-feed-1.example", "taxii-feed-2.example")
    monkeypatch.setenv("HUB_KEY", f"Bearer {server.keys['pdrm-reader']}")
    add_feed(sqlite_db, "hub", server.url + "/taxii2/api/", "taxii", provider="hub", collection="indicators",
             auth_header_env="HUB_KEY", tlp="amber")
    first = run_feed(sqlite_db, "hub")
    assert first.status == "ok" and first.new >= 2, first.error
    with sqlite_db.read() as conn:
        cursor = store.get(conn, "hub").cursor
    assert cursor and {"taxii-feed-1.example", "taxii-feed-2.example"} <= set(stored(sqlite_db, "hub"))
    submit("taxii-feed-3.example")
    second = run_feed(sqlite_db, "hub")
    assert (second.status, second.new) == ("ok", 1)  # only what was added after the position
    assert stored(sqlite_db, "hub")[-1] == "taxii-feed-3.example"
    monkeypatch.setenv("HUB_KEY", "Bearer reg_not-a-key")
    refused = run_feed(sqlite_db, "hub")
    assert refused.status == "failed" and "401" in refused.error
    with sqlite_db.read() as conn:
        assert store.get(conn, "hub").cursor > cursor  # kept from the last complete run
    assert [r["status"] for r in feed_runs(sqlite_db, "hub", Viewer.operator())["runs"]] == ["failed", "ok", "ok"]
