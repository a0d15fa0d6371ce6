"""Two registries on 127.0.0.1 federating by event stream (docs/feeds.md, "Registry streams"), on
SQLite and PostgreSQL: registry A a real `registry serve`, registry B following it with a key of A
(ccib-th's, capped at RED) through a `registry-stream` feed, in a real `registry scheduler`.

What A reports, updates, ends and sights lands on B within seconds, as the TLP rule lets B's key
see it; a follower killed with SIGKILL, a peer restarted or stalled mid-stream: B resumes from its
stored position with nothing missed and nothing applied twice (times_reported and counts tell)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
import requests

from registry import config
from registry.domain import standing
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services import events
from registry.services.access import ON_SERVER
from registry.services.feeds import list_feeds, run_feed
from registry.services.keys import create_key
from registry.services.orgs import add_org
from registry.services.stream_follower import Follower
from registry.storage.db import Database
from tests.feeds import stream_support as s
from tests.feeds.support import add_feed
from tests.web.conftest import (  # noqa: F401 - engine_url: the fixture
    REGISTRY,
    another_database,
    engine_url,
    free_port,
    seed_members,
    start_server,
    stop_server,
)

LANDS = 15.0  # seconds: "within seconds", with room for a loaded 2-core machine
BURST = 200  # reports on A while B follows: B is killed while it applies them


@pytest.fixture(scope="module")
def peer(engine_url, tmp_path_factory):  # noqa: F811 - the fixture imported above
    db = Database(engine_url)
    peer = s.Peer(engine_url, db, tmp_path_factory.mktemp("peer-a"), free_port(), seed_members(db))
    peer.start()
    yield peer
    peer.stop()
    db.dispose()


@pytest.fixture
def b(engine_url, tmp_path, peer, monkeypatch):  # noqa: F811
    """Registry B: has an org ccib-th (A's ccib-th lands there) but none pdrm-my (A's pdrm-my lands
    on the feed's provider, hub-a); follows A from A's head now."""
    url, cleanup = another_database(engine_url, tmp_path)
    db = Database(url)
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_feed(db, s.FEED, peer.url, "registry-stream", provider="hub-a", auth_header_env=s.KEY_ENV,
             heartbeat_seconds=0.5, confidence=40, labels=["via-hub-a"])
    s.set_cursor(db, peer.head())
    monkeypatch.setenv(s.KEY_ENV, f"Bearer {peer.keys['ccib-reader']}")
    yield db
    db.dispose()
    cleanup()


@pytest.fixture
def scheduler(b, tmp_path, peer):
    """Start B's `registry scheduler` (again): each one killed at the end if still running."""
    started = []

    def start():
        started.append(s.start_scheduler(b, tmp_path, peer.keys["ccib-reader"]))
        return started[-1]

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
            child.wait()


def name(tag: str, what: str) -> str:
    return f"{what}-{tag}.fed.example"


def only(rows: list):
    assert len(rows) == 1, rows
    return rows[0]


def test_what_a_reports_updates_ends_and_sights_lands_on_b_within_seconds(peer, b, tmp_path):
    """B is a `registry serve --scheduler` too: its scheduler follows A, its API answers with the copies."""
    tag = uuid.uuid4().hex[:8]
    own, theirs, hidden, red, sighted = (name(tag, w) for w in ("own", "theirs", "hidden", "red", "sighted"))
    b_key = create_key(b, "ccib-th", "reader", "red", by=ON_SERVER)["key"]
    child, b_url, _env = start_server(b.url, tmp_path, scheduler=True, extra_env={
        s.KEY_ENV: f"Bearer {peer.keys['ccib-reader']}", "REGISTRY_SCHEDULER_REFRESH_SECONDS": "0.5"})
    try:
        _lands_and_ends(peer, b, b_url, b_key, own, theirs, hidden, red, sighted)
    finally:
        stop_server(child)
    assert s.runs(b)[0]["status"] == "ok"  # the server stopped its scheduler, which closed the stream
    feed = next(f for f in list_feeds(b, Viewer.operator()) if f["name"] == s.FEED)
    assert not feed["running"]


def _lands_and_ends(peer, b, b_url, b_key, own, theirs, hidden, red, sighted):
    s.following(b)
    until = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    began = time.monotonic()
    s.report(peer, "ccib-th", own, confidence=70, labels=("call-centre-scam",), valid_until=until,
             description="fake KBank page", reliability="B", credibility=2)
    s.report(peer, "pdrm-my", theirs, tlp="amber", confidence=60, feed="pdrm-list")
    s.report(peer, "pdrm-my", hidden, tlp="red")  # another org's RED: B's key may not see it
    s.report(peer, "ccib-th", red, tlp="red")  # its own org's RED: it may
    s.wait_for(lambda: s.copies(b, red), "A's reports on B", LANDS)
    assert time.monotonic() - began < LANDS
    copy = only(s.copies(b, own))
    assert (copy.source, copy.feed, copy.confidence, copy.tlp, copy.description) == (
        "ccib-th", f"stream:{peer.host}", 70, "green", "fake KBank page")
    assert set(copy.labels.strip(",").split(",")) == {"call-centre-scam", "via-hub-a"}
    assert (copy.valid_until, copy.reliability, copy.credibility, copy.times_reported) == (until, "B", 2, 1)
    copy = only(s.copies(b, theirs))  # pdrm-my is no org of B: its provider holds it, naming it
    assert (copy.source, copy.feed, copy.tlp, copy.confidence) == (
        "hub-a", f"stream:{peer.host}/@pdrm-my/pdrm-list", "amber", 60)
    assert only(s.copies(b, red)).tlp == "red"
    assert s.copies(b, hidden) == []  # passed over: B's key never saw it

    s.report(peer, "ccib-th", own, confidence=85, labels=("call-centre-scam",), valid_until=until)
    s.wait_for(lambda: only(s.copies(b, own)).confidence == 85, "the update on B", LANDS)
    assert only(s.copies(b, own)).times_reported == s.times_reported(peer.db, own, "ccib-th") == 2

    s.hit(peer, own)  # a lookup hit on A: read, not applied
    s.expire(peer, "pdrm-my", theirs, feed="pdrm-list")
    s.wait_for(lambda: only(s.copies(b, theirs)).valid_until is not None, "the expiry on B", LANDS)
    copy = only(s.copies(b, theirs))
    assert standing.ended(copy.valid_until, copy.review_at, copy.end_reason, utcnow()) == standing.EXPIRED

    s.delist(peer, own, by_org="ccib-th")
    s.wait_for(lambda: only(s.copies(b, own)).end_reason == standing.DELISTED, "the delisting on B", LANDS)

    s.report(peer, "ccib-th", sighted)
    assert s.sight(peer, "ccib-th", sighted, count=2, case_ref="CCIB-77") == 2
    assert s.sight(peer, "ccib-th", sighted, count=3, case_ref="CCIB-77") == 5
    s.sight(peer, "pdrm-my", sighted, count=1)
    expected = [("ccib-th", f"stream:{peer.host}/CCIB-77", 5), ("hub-a", f"stream:{peer.host}/@pdrm-my", 1)]
    s.wait_for(lambda: s.sightings_of(b, sighted) == expected, "the sightings on B", LANDS)

    with b.read() as conn:  # what B applied became B's own events
        mine, _next = events.read(conn, Viewer.operator(), None, everything=True)
    assert {(e["type"], e["value"]) for e in mine} >= {("indicator.expired", theirs), ("indicator.delisted", own)}

    auth = {"Authorization": f"Bearer {b_key}"}
    feed = next(f for f in requests.get(b_url + "/api/v1/feeds", headers=auth, timeout=30).json()["feeds"]
                if f["name"] == s.FEED)
    assert (feed["format"], feed["health"], feed["running"], feed["next_due"]) == ("registry-stream", "ok", True, None)
    last = feed["last_run"]
    assert (last["status"], last["trigger"], last["http_status"]) == ("running", "stream", 200)
    assert last["new"] >= 5 and last["updated"] >= 1 and last["expired"] == 2
    assert s.cursor(b) == peer.head()
    answer = requests.post(b_url + "/api/v1/lookup", json={"values": [red, theirs]}, headers=auth, timeout=30).json()
    red_answer, theirs_answer = answer["results"]
    assert red_answer["listed"] and red_answer["matches"][0]["assertions"][0]["feed"] == f"stream:{peer.host}"
    assert not theirs_answer["listed"] and theirs_answer["history"][0]["why"] == "expired"


def test_a_killed_follower_resumes_with_nothing_missed_and_nothing_twice(peer, b, scheduler):
    tag = uuid.uuid4().hex[:8]
    kept = name(tag, "kept")
    child = scheduler()
    s.following(b)
    s.report(peer, "ccib-th", kept, confidence=50)
    s.wait_for(lambda: s.copies(b, kept), "the first report on B", LANDS)
    start = s.cursor(b)
    burst = [name(tag, f"burst{n}") for n in range(BURST)]
    for n, value in enumerate(burst):
        s.report(peer, "pdrm-my" if n % 2 else "ccib-th", value)
    s.wait_for(lambda: s.cursor(b) > start + 10, "B to be applying the burst", LANDS)
    child.kill()  # SIGKILL mid-burst: the open run stays "running", the lease held by a dead process
    child.wait()
    assert s.cursor(b) < peer.head()  # killed with events still to apply
    later = [name(tag, f"later{n}") for n in range(6)]
    for n, value in enumerate(later):
        s.report(peer, "pdrm-my" if n % 2 else "ccib-th", value)
    s.report(peer, "ccib-th", kept, confidence=60)
    s.sight(peer, "ccib-th", kept, count=4, case_ref="CCIB-9")
    head = peer.head()
    scheduler()  # taken over at once: the lease's holder is dead on this host
    s.wait_for(lambda: s.cursor(b) >= head, "B to catch up", LANDS * 2)
    assert only(s.copies(b, kept)).times_reported == s.times_reported(peer.db, kept, "ccib-th") == 2
    assert only(s.copies(b, kept)).confidence == 60
    for value in burst + later:
        assert only(s.copies(b, value)).times_reported == 1, value
    assert s.sightings_of(b, kept) == [("ccib-th", f"stream:{peer.host}/CCIB-9", 4)]
    history = s.runs(b)
    assert history[0]["status"] == "running"
    killed = history[1]
    assert killed["status"] == "interrupted" and "stopped before it finished" in killed["error"]


def test_a_peer_restarted_or_stalled_mid_stream_is_followed_again(peer, b, scheduler):
    tag = uuid.uuid4().hex[:8]
    scheduler()
    first = s.following(b)
    peer.stop()  # the open stream ends with the server
    down = [name(tag, f"down{n}") for n in range(3)]
    for value in down:  # written while A serves nothing: in A's database, announced there
        s.report(peer, "ccib-th", value)
    s.wait_for(lambda: any(r["status"] == "failed" for r in s.runs(b)), "a failed attempt while A is down")
    peer.start()
    s.wait_for(lambda: all(s.copies(b, v) for v in down), "the reports made while A was down", LANDS * 2)
    for value in down:
        assert only(s.copies(b, value)).times_reported == 1
    history = s.runs(b)
    dropped = next(r for r in history if r["id"] == first["id"])
    assert dropped["status"] == "interrupted" and "reconnecting from event" in dropped["error"]
    failed = [r for r in history if r["status"] == "failed"]
    assert len(failed) == 1  # the attempts in a row share one run
    assert history[0]["status"] == "running"

    reopened = s.following(b)
    peer.pause(True)  # the connection stays open, nothing comes: stalled after 3 heartbeats
    try:
        s.wait_for(lambda: next(r for r in s.runs(b) if r["id"] == reopened["id"])["status"] == "interrupted",
                   "the stalled connection to be dropped", LANDS)
    finally:
        peer.pause(False)
    stalled = next(r for r in s.runs(b) if r["id"] == reopened["id"])
    assert "stalled" in stalled["error"]
    after = name(tag, "after")
    s.report(peer, "ccib-th", after)
    s.wait_for(lambda: s.copies(b, after), "a report after the stall", LANDS * 2)
    assert only(s.copies(b, after)).times_reported == 1


def test_feeds_run_catches_up_from_the_peers_history_and_returns(peer, b, monkeypatch):
    from registry.services.feed_runners import stream as runner

    monkeypatch.setattr(runner, "PAGE", 7)  # several pages of the peer's events
    monkeypatch.setattr(runner, "CHUNK", 3)
    tag = uuid.uuid4().hex[:8]
    values = [name(tag, f"v{n}") for n in range(10)]
    for value in values:
        s.report(peer, "ccib-th", value)
    s.report(peer, "pdrm-my", name(tag, "hidden"), tlp="red")
    s.hit(peer, values[0])
    s.set_cursor(b, 0)  # never followed: from the peer's kept history
    result = run_feed(b, s.FEED)
    assert result.status == "ok", result.error
    assert s.cursor(b) == peer.head()
    for value in values:
        assert only(s.copies(b, value)).times_reported == 1
    assert s.copies(b, name(tag, "hidden")) == []
    assert result.rows >= len(values) + 1 and result.new >= len(values)
    again = run_feed(b, s.FEED)  # nothing pending
    assert (again.status, again.rows, again.new) == ("ok", 0, 0)
    late = [name(tag, f"late{n}") for n in range(2)]
    for value in late:
        s.report(peer, "pdrm-my", value, tlp="amber")
    done = subprocess.run([str(REGISTRY), "feeds", "run", s.FEED, "--json"], capture_output=True, timeout=120,
                          env={**os.environ, "REGISTRY_DATABASE_URL": b.url}, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert (figures["status"], figures["trigger"], figures["new"], figures["rows"]) == ("ok", "cli", 2, 2)
    assert [only(s.copies(b, v)).source for v in late] == ["hub-a", "hub-a"]

    follower = Follower(b, s.FEED, settings=config.load())  # a scheduler follows it: runs wait
    follower.start()
    try:
        s.following(b)
        from registry.services.feed_runs import FeedBusy

        with pytest.raises(FeedBusy):
            run_feed(b, s.FEED)
    finally:
        follower.stop()
    assert s.runs(b)[0]["status"] == "ok"


def test_two_followers_on_one_database_apply_each_event_once(peer, b):
    settings = config.load({"FEED_LEASE_SECONDS": "4"})
    first, second = (Follower(b, s.FEED, settings=settings) for _ in range(2))
    first.start()
    second.start()
    try:
        s.following(b)
        tag = uuid.uuid4().hex[:8]
        values = [name(tag, f"v{n}") for n in range(4)]
        for value in values:
            s.report(peer, "ccib-th", value)
        s.wait_for(lambda: all(s.copies(b, v) for v in values), "the reports on B", LANDS)
        assert [r["status"] for r in s.runs(b)].count("running") == 1
        holder = first if first.connected else second
        assert not (first.connected and second.connected)
        holder.stop()  # the other takes the lease over and goes on
        more = [name(tag, f"more{n}") for n in range(3)]
        for value in more:
            s.report(peer, "ccib-th", value)
        s.wait_for(lambda: all(s.copies(b, v) for v in more), "the reports after the hand-over", LANDS)
        for value in values + more:
            assert only(s.copies(b, value)).times_reported == 1
    finally:
        first.stop()
        second.stop()
