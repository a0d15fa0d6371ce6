"""The Alerts page's stream on a real `registry serve` (SQLite and PostgreSQL), read with a real SSE
client over a signed-in session: the org's new alerts in words, resumed from Last-Event-ID, the TLP
rule, and the stream ending when the user signs out or is disabled (docs/web.md, "Alerts")."""

from __future__ import annotations

import json
import re
import threading
import uuid
from html import unescape

import pytest
import requests
import sseclient
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN
from registry.services import events
from registry.services.access import ON_SERVER
from registry.services.users import set_disabled
from registry.storage.db import Database
from tests.web.conftest import seed_members, start_server, stop_server
from tests.web.ui_support import PASSWORD, add_users, csrf_from

USERS = {"somchai": ("ccib-th", "contributor", "red"), "ccib-green": ("ccib-th", "reader", "green"),
         "leaver": ("ccib-th", "reader", "red")}


@pytest.fixture(scope="module")
def live(engine_url, tmp_path_factory):
    db = Database(engine_url)
    seed_members(db)
    add_users(db, USERS)
    process, url, _ = start_server(engine_url, tmp_path_factory.mktemp("alerts"),
                                   extra_env={"REGISTRY_STREAM_HEARTBEAT_SECONDS": "0.5"})
    with db.read() as conn:
        th = conn.execute(text("SELECT id FROM organization WHERE slug = 'ccib-th'")).scalar_one()
    yield url, db, th
    stop_server(process)
    db.dispose()


def _signed_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    token = csrf_from(session.get(url + "/login", timeout=30).text)
    done = session.post(url + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                        timeout=30, allow_redirects=False)
    assert done.status_code == 302, done.text
    return session


def _hit(db, th: int, value: str, tlp: str = AMBER) -> int:
    with db.write() as conn:
        return events.emit(conn, [ev.NewEvent(type=ev.LOOKUP_HIT, time=utcnow(), tlp=tlp, source="ccib-th", org=None,
                                              kind="domain", value=value, body={"count": 2}, to_org_id=th)])[0]


def _open(session: requests.Session, url: str, **headers):
    page = session.get(url + "/alerts", timeout=30)
    stream = unescape(re.search(r'data-stream="([^"]+)"', page.text).group(1))
    response = session.get(url + stream, stream=True, timeout=30, headers=headers)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
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


def _ends(client, seconds: float) -> bool:
    ended = threading.Event()

    def read():
        for _ in client.events():
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    return ended.wait(seconds)


def test_new_alerts_stream_in_words_and_resume(live):
    url, db, th = live
    session = _signed_in(url, "somchai")
    response, client = _open(session, url)
    tag = uuid.uuid4().hex[:8]
    sent = [_hit(db, th, f"one-{tag}.alerts.example"), _hit(db, th, f"two-{tag}.alerts.example")]
    got = _take(client, 2)
    response.close()
    assert [int(m.id) for m in got] == sent and {m.event for m in got} == {"lookup.hit"}
    first = json.loads(got[0].data)
    assert first["org"] is None and first["count"] == 2
    assert {k: first["shown"][k] for k in ("what", "value", "by", "tlp", "matched", "href")} == {
        "what": "Looked up 2 times", "value": f"one-{tag}.alerts.example", "by": "an agency", "tlp": "amber",
        "matched": "your indicator", "href": f"/indicator?value=one-{tag}.alerts.example"}
    missed = _hit(db, th, f"missed-{tag}.alerts.example")  # while disconnected
    response, client = _open(session, url, **{"Last-Event-ID": got[-1].id})
    assert [int(m.id) for m in _take(client, 1)] == [missed]
    response.close()


def test_the_tlp_rule_on_the_page_stream(live):
    url, db, th = live
    response, client = _open(_signed_in(url, "ccib-green"), url)
    tag = uuid.uuid4().hex[:8]
    _hit(db, th, f"amber-{tag}.alerts.example", AMBER)
    shown = _hit(db, th, f"green-{tag}.alerts.example", GREEN)
    got = _take(client, 1)
    response.close()
    assert [int(m.id) for m in got] == [shown]


def test_the_stream_ends_on_signing_out_and_on_disabling(live):
    url, db, _ = live
    session = _signed_in(url, "somchai")
    response, client = _open(session, url)
    page = session.get(url + "/", timeout=30).text
    assert session.post(url + "/logout", data={"csrf_token": csrf_from(page)}, timeout=30).status_code == 200
    assert _ends(client, 10), "the stream went on after signing out"
    response.close()
    assert session.get(url + "/alerts/stream", timeout=30).status_code == 401  # a reconnecting EventSource stops

    leaver = _signed_in(url, "leaver")
    response, client = _open(leaver, url)
    set_disabled(db, "leaver", by=ON_SERVER)
    assert _ends(client, 10), "a disabled user's stream went on"
    response.close()
