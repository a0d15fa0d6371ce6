"""A batch is answered in the process that was asked, with exactly the answers of its values
looked up one at a time, on both engines (docs/design.md, "The processes that run")."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime

import pytest

from registry.domain.tlp import Viewer
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


def _batch(db: Database, queries, viewer) -> list[dict]:
    with db.read() as conn:
        return lookup(conn, queries, viewer, now=NOW, region="TH")


def test_a_batch_answers_as_its_values_one_at_a_time(db):
    _load(db)
    queries = QUERIES * 7
    listed = []
    for viewer in (Viewer.operator(), Viewer("ccib-th", "amber+strict"), Viewer("pdrm-my", "green")):
        batch = _batch(db, queries, viewer)
        assert batch == [_batch(db, [q], viewer)[0] for q in QUERIES] * 7
        assert [a["query"] for a in batch] == queries
        listed.append(sum(1 for a in batch if a.get("listed")))
    # The operator sees all 9 listed queries; CCIB not PDRM's RED (1.10.16.77 then rests on its
    # own /20 alone, 2001:db8::5 is unknown); a GREEN cap sees nothing: the TLP rule held.
    assert listed == [9 * 7, 8 * 7, 0]


def test_a_large_batch_is_answered_in_the_process_asked(sqlite_db, monkeypatch):
    _load(sqlite_db)

    def no_second_process(*args, **kwargs):
        raise AssertionError("a lookup started a process")

    monkeypatch.setattr(os, "fork", no_second_process)
    monkeypatch.setattr(multiprocessing.Process, "start", no_second_process)
    queries = QUERIES * 1500  # 21,000 values: the size the forked helper once took half of
    answers = _batch(sqlite_db, queries, Viewer.operator())
    assert answers == _batch(sqlite_db, QUERIES, Viewer.operator()) * 1500
    assert multiprocessing.active_children() == []
    with pytest.raises(ImportError):
        __import__("registry.services.lookup_helper")


def test_the_next_batch_sees_what_was_written_since(sqlite_db):
    _load(sqlite_db)
    queries = [*QUERIES, "203.0.113.9", "new.example"] * 3
    before = _batch(sqlite_db, queries, Viewer.operator())
    assert not any(a["listed"] for a in before if a["query"] in ("203.0.113.9", "new.example"))
    with sqlite_db.write() as conn:
        submit(conn, Provenance(org="ccib-th", confidence=70), [Submission("203.0.113.0/24"), Submission("new.example")],
               now=NOW)
    after = _batch(sqlite_db, queries, Viewer.operator())
    assert all(a["listed"] for a in after if a["query"] in ("203.0.113.9", "new.example"))


def test_a_query_that_is_not_a_string_is_answered_in_place(sqlite_db):
    _load(sqlite_db)
    queries = [*QUERIES, lambda: None] * 3  # a library caller's odd value
    answers = _batch(sqlite_db, queries, Viewer.operator())
    assert [a.get("error") for a in answers if not isinstance(a["query"], str)] == ["a value must be a string"] * 3
    assert [a["query"] for a in answers] == queries
