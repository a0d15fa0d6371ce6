"""A large batch answered in two processes gives exactly the answers of one, on both engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from registry.domain.tlp import Viewer
from registry.services import lookup as lookup_service
from registry.services import lookup_helper
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, submit
from registry.storage.db import Database

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
QUERIES = [
    "1.10.16.77", "1.10.16.0/24", "9.9.9.9", "081-234-5678", "+66 81 234 5679", "sub.evil.example",
    "hxxp://login.evil[.]example/x", "http://1.10.16.5/a", "not a value at all", "191", "user@evil.example",
    "2001:db8:1::5", "+85597123456", "other.example",
]


def _load(db: Database) -> None:
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    with db.write() as conn:
        submit(conn, Provenance(org="ccib-th", confidence=80, tlp="amber", labels=("call-centre-scam",)),
               [Submission(v) for v in ("1.10.16.0/20", "0812345678", "evil.example", "+85597123*")], now=NOW)
        submit(conn, Provenance(org="pdrm-my", confidence=60, tlp="red"),
               [Submission(v) for v in ("1.10.16.77", "evil.example", "2001:db8::/32")], now=NOW)
    add_sighting(db, org="ccib-th", value="0812345678", case_ref="CCIB-2026-114", tlp="amber", seen=NOW)


def test_split_batch_matches_one_process(db):
    _load(db)
    queries = QUERIES * 7  # odd halves, values on both sides of the split
    listed = []
    for viewer in (Viewer.operator(), Viewer("ccib-th", "amber+strict"), Viewer("pdrm-my", "green")):
        with db.read() as conn:
            whole = lookup(conn, queries, viewer, now=NOW, region="TH", split=False)
        with db.read() as conn:
            split = lookup(conn, queries, viewer, now=NOW, region="TH", split=True)
        assert split == whole
        assert [a["query"] for a in split] == queries
        listed.append(sum(1 for a in split if a.get("listed")))
    # The operator sees all 9 listed queries; CCIB not PDRM's RED (1.10.16.77 then rests on its
    # own /20 alone, 2001:db8::5 is unknown); a GREEN cap sees nothing: the TLP rule held in the child.
    assert listed == [9 * 7, 8 * 7, 0]
    assert lookup_helper._helper.answered == 3  # one helper answered its part of all three


def _both(db, queries, viewer=None):
    viewer = viewer or Viewer.operator()
    with db.read() as conn:
        whole = lookup(conn, queries, viewer, now=NOW, region="TH", split=False)
    with db.read() as conn:
        split = lookup(conn, queries, viewer, now=NOW, region="TH", split=True)
    return whole, split


def test_the_helper_is_kept_and_sees_what_was_written_since(sqlite_db):
    _load(sqlite_db)
    queries = [*QUERIES, "203.0.113.9", "new.example"] * 3
    whole, split = _both(sqlite_db, queries)
    assert split == whole
    helper = lookup_helper._helper
    pid, answered = helper.pid, helper.answered
    with sqlite_db.write() as conn:
        submit(conn, Provenance(org="ccib-th", confidence=70), [Submission("203.0.113.0/24"), Submission("new.example")],
               now=NOW)
    whole, split = _both(sqlite_db, queries)
    assert split == whole
    assert lookup_helper._helper is helper and helper.pid == pid and helper.answered == answered + 1
    # Its part (the second half) found what was written after it started.
    assert all(a["listed"] for a in split[len(split) // 2 :] if a["query"] in ("203.0.113.9", "new.example"))


def test_a_dead_helper_is_replaced_and_no_answer_is_lost(sqlite_db):
    _load(sqlite_db)
    queries = QUERIES * 5
    whole, split = _both(sqlite_db, queries)
    assert split == whole
    old = lookup_helper._helper
    os.kill(old.pid, signal.SIGKILL)
    old._process.join()
    whole, split = _both(sqlite_db, queries)  # this process answers the helper's part itself
    assert split == whole
    whole, split = _both(sqlite_db, queries)  # and the next batch has a new helper
    assert split == whole
    assert lookup_helper._helper is not old and lookup_helper._helper.answered >= 1


def test_an_error_on_this_side_retires_the_helper_with_its_unread_answers(sqlite_db, monkeypatch):
    _load(sqlite_db)
    queries = QUERIES * 5
    _both(sqlite_db, queries)
    old = lookup_helper._helper

    def failing(*args, **kwargs):
        raise RuntimeError("this side failed")

    with monkeypatch.context() as patch:
        patch.setattr(lookup_service, "_lookup", failing)
        with sqlite_db.read() as conn, pytest.raises(RuntimeError):
            lookup(conn, queries, Viewer.operator(), now=NOW, region="TH", split=True)
    assert not old._process.is_alive()  # its answers were never read: it cannot serve the next batch
    whole, split = _both(sqlite_db, [*reversed(queries)])
    assert split == whole and lookup_helper._helper is not old


def test_split_only_where_a_child_can_work(sqlite_db):
    memory = Database("sqlite://")
    with memory.engine.connect() as conn:
        assert not lookup_service._can_split(conn)
    memory.dispose()
    # A fresh interpreter: earlier tests in this worker (a browser's asyncio loop) leave threads.
    check = (
        "import sys\n"
        "from registry.services import lookup\n"
        "from registry.storage.db import Database\n"
        "with Database(sys.argv[1]).read() as conn:\n"
        "    print(lookup._can_split(conn))\n"
    )
    url = sqlite_db.engine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-c", check, url], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str((os.cpu_count() or 1) > 1)
    with sqlite_db.read() as conn:
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            assert not lookup_service._can_split(conn)  # never fork beside another thread
        finally:
            stop.set()
            other.join()


def test_a_query_that_cannot_be_sent_is_answered_here(sqlite_db):
    _load(sqlite_db)
    queries = [*QUERIES, lambda: None] * 3  # a library caller's odd value: not picklable
    with sqlite_db.read() as conn:
        split = lookup(conn, queries, Viewer.operator(), now=NOW, region="TH", split=True)
    assert [a.get("error") for a in split if not isinstance(a["query"], str)] == ["a value must be a string"] * 3
    assert [a["query"] for a in split] == queries
