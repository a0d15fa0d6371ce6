"""The event feed and the SSE stream of a real `registry serve` (SQLite and PostgreSQL), read with
a real SSE client (sseclient-py over requests): order, resume with Last-Event-ID with nothing
missed and nothing twice, heartbeats, the TLP rule, a revoked key's stream ending."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
import sseclient

from registry.domain import events as ev
from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED
from registry.services import events
from registry.services.access import ON_SERVER
from registry.services.keys import create_key, revoke_key
from registry.storage import orgs as org_store
from registry.storage import watches as watch_store
from registry.storage.db import Database
from tests.web.conftest import seed_members, start_server, stop_server


@pytest.fixture(scope="module")
def live(engine_url, tmp_path_factory):
    db = Database(engine_url)
    keys = seed_members(db)
    tmp = tmp_path_factory.mktemp("stream")
    process, url, _ = start_server(engine_url, tmp, extra_env={"REGISTRY_STREAM_HEARTBEAT_SECONDS": "0.5"})
    with db.write() as conn:  # ccib-th and bank-x watch everything under stream.example
        for slug in ("ccib-th", "bank-x"):
            value = normalize("stream.example")[0]
            watch_store.insert(conn, uid=f"w-{slug}", org_id=org_store.get(conn, slug).id, key=value.value,
                               kind=value.kind, kinds="", labels="", sources="", created=utcnow())
    yield url, db, keys
    stop_server(process)
    db.dispose()


def _emit(db, host: str, tlp: str = GREEN, source: str = "pdrm-my") -> int:
    with db.write() as conn:
        return events.emit(conn, [ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=tlp, source=source, org=source,
                                              kind="domain", value=f"{host}.stream.example")])[0]


def _stream(url, key, **headers):
    response = requests.get(url + "/api/v1/events/stream", headers={"Authorization": f"Bearer {key}", **headers},
                            stream=True, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response, sseclient.SSEClient(response)


def _take(client, n: int, seconds: float = 10.0) -> list:
    got: list = []
    done = threading.Event()

    def read():
        for message in client.events():
            got.append(message)
            if len(got) >= n:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(seconds)
    return got


def test_feed_pages_in_order_with_next(live):
    url, db, keys = live
    seqs = [_emit(db, f"page{i}-{uuid.uuid4().hex[:6]}") for i in range(5)]
    auth = {"Authorization": f"Bearer {keys['ccib-reader']}"}
    first = requests.get(url + "/api/v1/events", params={"after": seqs[0] - 1, "limit": 2}, headers=auth, timeout=30)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["seq"] for e in body["events"]] == seqs[:2] and body["next"] == seqs[1]
    rest = requests.get(url + "/api/v1/events", params={"after": body["next"], "limit": 1000}, headers=auth,
                        timeout=30).json()
    assert [e["seq"] for e in rest["events"]][:3] == seqs[2:]
    assert rest["events"][0]["watches"] == ["w-ccib-th"] and rest["events"][0]["type"] == "indicator.reported"
    assert rest["next"] >= seqs[-1]
    for params, name in (({"after": "x"}, "after"), ({"limit": "0"}, "limit"), ({"scope": "world"}, "scope")):
        bad = requests.get(url + "/api/v1/events", params=params, headers=auth, timeout=30)
        assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == name, bad.text
    assert requests.get(url + "/api/v1/events", timeout=30).status_code == 401


def test_stream_delivers_live_and_resumes_without_gaps_or_repeats(live):
    url, db, keys = live
    start = _emit(db, f"before-{uuid.uuid4().hex[:6]}")
    response, client = _stream(url, keys["ccib-reader"], **{"Last-Event-ID": str(start)})
    sent = [_emit(db, f"live{i}-{uuid.uuid4().hex[:6]}") for i in range(3)]
    got = [m for m in _take(client, 3) if m.event != "message"]
    assert [int(m.id) for m in got] == sent
    assert all(m.event == "indicator.reported" for m in got)
    response.close()  # the connection drops; events keep coming meanwhile
    missed = [_emit(db, f"missed{i}-{uuid.uuid4().hex[:6]}") for i in range(2)]
    response, client = _stream(url, keys["ccib-reader"], **{"Last-Event-ID": got[-1].id})
    again = [m for m in _take(client, 2) if m.event != "message"]
    response.close()
    assert [int(m.id) for m in again] == missed  # nothing missed, nothing twice


def test_heartbeat_while_quiet(live):
    url, _, keys = live
    response = requests.get(url + "/api/v1/events/stream", headers={"Authorization": f"Bearer {keys['ccib-reader']}"},
                            stream=True, timeout=30)
    seen = b""
    deadline = time.monotonic() + 5
    for chunk in response.iter_content(chunk_size=None):
        seen += chunk
        if b": heartbeat" in seen or time.monotonic() > deadline:
            break
    response.close()
    assert b": heartbeat" in seen


def test_tlp_rule_on_the_stream(live):
    url, db, keys = live
    start = _emit(db, f"mark-{uuid.uuid4().hex[:6]}")
    response, client = _stream(url, keys["bank-green"], **{"Last-Event-ID": str(start)})
    hidden = [_emit(db, f"amber-{uuid.uuid4().hex[:6]}", AMBER), _emit(db, f"red-{uuid.uuid4().hex[:6]}", RED)]
    shown = _emit(db, f"green-{uuid.uuid4().hex[:6]}", GREEN)
    got = [m for m in _take(client, 1) if m.event != "message"]
    response.close()
    assert [int(m.id) for m in got] == [shown] and not set(hidden) & {int(m.id) for m in got}
    everything = requests.get(url + "/api/v1/events", params={"after": start, "scope": "all"},
                              headers={"Authorization": f"Bearer {keys['pdrm-reader']}"}, timeout=30).json()
    # pdrm's own key (AMBER+STRICT cap) sees its AMBER but not even its own RED
    assert [e["seq"] for e in everything["events"]][:2] == [hidden[0], shown]


def test_revoked_key_stream_ends_within_seconds(live):
    url, db, _ = live
    made = create_key(db, "ccib-th", "reader", "amber", by=ON_SERVER)
    response, client = _stream(url, made["key"])
    ended = threading.Event()

    def read():
        for _ in client.events():
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.5)
    assert not ended.is_set()
    revoke_key(db, made["prefix"], by=ON_SERVER)
    assert ended.wait(10), "the stream of a revoked key went on"
    response.close()
