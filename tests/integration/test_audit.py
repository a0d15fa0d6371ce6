"""The audit log on SQLite and PostgreSQL: the chain verifies, tampering in the database is
named, concurrent writers keep one chain, and the buffered writer neither blocks nor loses."""

from __future__ import annotations

import json
import logging
import threading
import time as clock
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, event, func, select, text, update

from registry.domain.audit_chain import (
    GENESIS,
    HASHED_FIELDS,
    canonical_json,
    canonical_time,
    event_hash,
)
from registry.services import audit as service
from registry.services.audit import AuditLog, subject_json, verify
from registry.services.errors import Invalid
from registry.storage import audit as store
from registry.storage import tables as t
from registry.storage.db import Database

A = t.audit_event
T0 = datetime(2026, 11, 22, 6, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def audit_log(db):
    """A buffered log that only writes when told (long interval, big buffer)."""
    log = AuditLog(db, flush_interval=60, max_buffer=100_000)
    yield log
    log.close()


def _fill(log: AuditLog, n: int = 10) -> None:
    for i in range(n):
        log.record(
            "lookup",
            org="ccib-th" if i % 2 else "pdrm-my",
            actor=f"rk_{i:04d}",
            subject=[f"203.0.113.{i}", "+66812345678"],
            result_count=i,
            client="192.0.2.10",
            status=200,
            time=T0 + timedelta(seconds=i),
        )
    assert log.flush() == n


def _count(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(A)).scalar_one()


def _ids(db) -> list[int]:
    with db.read() as conn:
        return list(conn.execute(select(A.c.id).order_by(A.c.id)).scalars())


def events(db, **filters) -> list[dict]:
    """Stored rows as the storage layer returns them (typed times), oldest first."""
    with db.read() as conn:
        return store.query(conn, **{"limit": 10_000, **filters})


def _broken(db, row_id: int, words: str) -> None:
    result = verify(db)
    assert not result.ok
    assert result.row_id == row_id, result.problem
    assert words in result.problem


# -- the chain ---------------------------------------------------------------------------------


def test_append_and_verify_ok(db, audit_log):
    assert verify(db).ok and verify(db).checked == 0  # an empty log is a valid log
    _fill(audit_log, 10)
    audit_log.record("key-change", org="ccib-th", actor="admin", subject={"key": "rk_ab12", "role": "reader"})
    audit_log.record("login", actor="somchai", client="2001:db8::1", subject="ผู้ใช้")  # Thai text survives
    assert audit_log.flush() == 2
    result = verify(db)
    assert result.ok and result.checked == 12 and result.problem is None
    rows = events(db)
    assert [r["action"] for r in rows[-3:]] == ["lookup", "key-change", "login"]
    assert rows[0]["subject"] == ["203.0.113.0", "+66812345678"] and rows[0]["time"] == T0
    assert rows[0]["prev_hash"] == GENESIS and rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[-2]["subject"] == {"key": "rk_ab12", "role": "reader"}
    assert rows[-1]["subject"] == "ผู้ใช้"


def test_every_value_of_a_big_batch_is_recorded(db, audit_log):
    values = [f"bad-{i}.example" for i in range(10_000)]
    audit_log.record("lookup", org="ccib-th", subject=values, result_count=10_000)
    values.clear()  # the caller reusing its list must not change what was recorded
    audit_log.flush()
    (row,) = events(db)
    assert len(row["subject"]) == 10_000 and row["subject"][-1] == "bad-9999.example"
    assert verify(db).ok


def test_odd_input_is_stored_so_that_it_still_verifies(db, audit_log):
    # Values PostgreSQL would refuse (NUL, too long) or that do not survive a round trip
    # unchanged would otherwise fail every flush or break the chain.
    audit_log.record(
        "search\x00" + "x" * 100,
        org="o" * 500,
        actor="a\x00b",
        client="\ud800bad",
        subject={"cidr": "203.0.113.0/24", "nested": {"labels": {"phishing"}}, "big": "u" * 10_000},
        result_count="not a number",
        status=2**40,
    )
    assert audit_log.flush() == 1
    assert verify(db).ok
    (row,) = events(db)
    assert len(row["org"]) == 64 and row["actor"] == "ab" and row["result_count"] is None
    assert len(row["subject"]["big"]) == 2049 and row["subject"]["nested"] == {"labels": ["phishing"]}


# -- tampering ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"subject": '["198.51.100.1"]'},
        {"result_count": 0},
        {"org": "someone-else"},
        {"time": T0 + timedelta(days=1)},
        {"subject": None},
    ],
    ids=["subject", "result_count", "org", "time", "subject-null"],
)
def test_an_altered_row_is_named(db, audit_log, change):
    _fill(audit_log, 10)
    target = _ids(db)[4]
    with db.write() as conn:
        conn.execute(update(A).where(A.c.id == target).values(**change))
    _broken(db, target, f"row {target} was altered: its hash does not match its contents")
    assert verify(db).checked == 4  # it stopped there


def test_a_deleted_middle_row_is_named(db, audit_log):
    _fill(audit_log, 10)
    ids = _ids(db)
    with db.write() as conn:
        conn.execute(delete(A).where(A.c.id == ids[4]))
    _broken(db, ids[5], f"row {ids[5]} does not follow row {ids[3]}: a row is missing between them")


def test_a_deleted_first_row_is_named(db, audit_log):
    _fill(audit_log, 5)
    ids = _ids(db)
    with db.write() as conn:
        conn.execute(delete(A).where(A.c.id == ids[0]))
    _broken(db, ids[1], "does not start from the genesis hash")


def test_deleted_newest_rows_are_reported(db, audit_log):
    _fill(audit_log, 10)
    ids = _ids(db)
    with db.write() as conn:
        conn.execute(delete(A).where(A.c.id >= ids[8]))
    result = verify(db)
    assert not result.ok and result.checked == 8 and result.row_id == ids[7]
    assert result.problem == "the newest 2 rows are missing: expected 10 rows, found 8"


def test_a_cut_tail_stays_visible_after_more_appends(db, audit_log):
    # The chain continues from the surviving head, so only the counter can tell.
    _fill(audit_log, 5)
    with db.write() as conn:
        conn.execute(delete(A).where(A.c.id == _ids(db)[-1]))
    _fill(audit_log, 3)
    result = verify(db)
    assert not result.ok and "expected 8 rows, found 7" in result.problem


def test_a_consistently_rewritten_row_is_caught_at_the_next_row(db, audit_log):
    _fill(audit_log, 10)
    ids = _ids(db)
    target, following = ids[4], ids[5]
    with db.read() as conn:
        row = conn.execute(select(A).where(A.c.id == target)).mappings().one()
    forged = dict(row, subject='["198.51.100.1"]')
    with db.write() as conn:
        conn.execute(update(A).where(A.c.id == target).values(subject=forged["subject"], hash=event_hash(row["prev_hash"], forged)))
    _broken(db, following, f"row {following} does not follow row {target}: row {target} was altered")


def test_a_forged_row_outside_the_log_is_reported(db, audit_log):
    _fill(audit_log, 3)
    with db.write() as conn:
        head = conn.execute(select(A.c.hash).order_by(A.c.id.desc()).limit(1)).scalar_one()
        forged = {"time": T0, "action": "lookup", "org": "x"}
        conn.execute(A.insert().values(**forged, prev_hash=head, hash=event_hash(head, forged)))
    result = verify(db)
    assert not result.ok and "1 rows were added outside the audit log" in result.problem


def test_iter_rows_pages_through_every_row_in_order(db, audit_log):
    _fill(audit_log, 10)
    with db.read() as conn:
        assert [r["id"] for r in store.iter_rows(conn, batch=3)] == _ids(db)
        assert store.expected_count(conn) == 10


# -- writing -----------------------------------------------------------------------------------


def test_concurrent_writers_keep_one_chain(db):
    # Two processes' worth of writers: on SQLite BEGIN IMMEDIATE and the busy timeout queue
    # them, on PostgreSQL the counter row lock does.
    logs = [AuditLog(db, flush_interval=0.005, max_buffer=20) for _ in range(2)]

    def work(n: int) -> None:
        for i in range(500):
            logs[n].record("lookup", org=f"org-{n}", subject=[f"v{i}"], result_count=i)
            if i % 50 == 0:
                clock.sleep(0.001)  # let the other writer's flushes interleave with ours

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()
    assert all(log.pending == 0 and log.failures == 0 for log in logs)
    assert _count(db) == 1000
    result = verify(db)
    assert result.ok and result.checked == 1000
    for n in range(2):  # each writer's events stay in its own order
        mine = [r["result_count"] for r in events(db, org=f"org-{n}", limit=1000)]
        assert mine == list(range(500))


def test_the_buffer_is_flushed_on_its_interval(db):
    log = AuditLog(db, flush_interval=0.05)
    try:
        log.record("lookup", org="ccib-th", subject=["203.0.113.7"], result_count=1)
        log.record("export", org="ccib-th", subject={"format": "csv"})
        deadline = clock.monotonic() + 10
        while _count(db) < 2 and clock.monotonic() < deadline:
            clock.sleep(0.02)
        assert _count(db) == 2 and log.pending == 0
    finally:
        log.close()
    assert verify(db).ok


def test_a_full_buffer_is_flushed_before_the_interval(db):
    log = AuditLog(db, flush_interval=60, max_buffer=5)
    try:
        for i in range(5):
            log.record("lookup", subject=[str(i)])
        deadline = clock.monotonic() + 10
        while _count(db) < 5 and clock.monotonic() < deadline:
            clock.sleep(0.02)
        assert _count(db) == 5
    finally:
        log.close()


def test_synchronous_mode_writes_in_record(db):
    log = AuditLog(db, synchronous=True)
    log.record("key-change", org="ccib-th", actor="cli", subject={"key": "rk_1234"})
    assert _count(db) == 1 and log.pending == 0
    log.close()
    assert verify(db).ok


def test_close_writes_what_is_left_and_later_records_too(db):
    log = AuditLog(db, flush_interval=60)
    log.record("lookup", subject=["a"])
    log.close()
    assert _count(db) == 1
    log.record("lookup", subject=["late"])  # after shutdown began: written at once, not lost
    assert _count(db) == 2 and verify(db).ok


def _impatient(db: Database) -> Database:
    """The same database with a 100 ms lock wait instead of 30 s, so a held lock fails fast."""
    other = Database(db.url)

    @event.listens_for(other.engine, "connect")
    def _short_wait(dbapi_conn, _record):  # runs after Database's own listener
        cur = dbapi_conn.cursor()
        if other.is_sqlite:
            cur.execute("PRAGMA busy_timeout=100")
        else:
            cur.execute("SET lock_timeout = 100")
            dbapi_conn.commit()
        cur.close()

    return other


def test_a_failed_flush_keeps_the_events_and_a_later_flush_writes_them(db, caplog):
    impatient = _impatient(db)
    log = AuditLog(impatient, flush_interval=60)
    try:
        with db.write() as blocker:
            # Holds the write lock on SQLite (BEGIN IMMEDIATE) and the counter row on PostgreSQL.
            blocker.execute(text("UPDATE counter SET value = value WHERE name = 'audit'"))
            for i in range(3):
                log.record("lookup", subject=[f"v{i}"], result_count=i)
            with caplog.at_level(logging.ERROR, logger="registry.audit"):
                assert log.flush() == 0  # no exception reaches the caller
            assert log.pending == 3 and log.failures == 1 and log.last_error is not None
            assert "audit flush failed" in caplog.text
        assert log.flush() == 3
        assert log.pending == 0 and log.failures == 0
        assert [r["result_count"] for r in events(db)] == [0, 1, 2]
        assert verify(db).ok
    finally:
        log.close()
        impatient.dispose()


def test_a_busy_database_does_not_raise_from_a_synchronous_record(db, caplog):
    impatient = _impatient(db)
    log = AuditLog(impatient, synchronous=True)
    try:
        with db.write() as blocker:
            blocker.execute(text("UPDATE counter SET value = value WHERE name = 'audit'"))
            with caplog.at_level(logging.ERROR, logger="registry.audit"):
                log.record("key-change", actor="cli", subject={"key": "rk_1"})
            assert log.pending == 1
        log.close()  # the CLI's exit: what failed is written now
        assert log.pending == 0 and _count(db) == 1
    finally:
        log.close()
        impatient.dispose()


# -- canonical text (pure) -----------------------------------------------------------------------


def test_the_hashed_text_is_the_canonical_json_the_docs_describe():
    fields = {"time": T0, "org": "ccib-th", "actor": None, "action": "lookup", "subject": '["\u0e01", "x\\"]',
              "result_count": 3, "client": "2001:db8::1", "status": None, "id": 7, "hash": "ignored"}
    doc = {name: fields[name] for name in HASHED_FIELDS} | {"time": "2026-11-22T06:00:00.123456Z"}
    assert canonical_json(fields) == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical_time(T0.astimezone(timezone(timedelta(hours=7)))) == "2026-11-22T06:00:00.123456Z"
    assert canonical_time(T0.replace(tzinfo=None)) == "2026-11-22T06:00:00.123456Z"


def test_the_fast_subject_encoding_matches_json():
    values = ["203.0.113.7", "ตัวอย่าง.ไทย", 'quote" and \\ and \n', ""]
    assert subject_json(values) == json.dumps(values, ensure_ascii=True, separators=(",", ":"))
    assert json.loads(subject_json(("a", 1, None))) == ["a", 1, None]


# -- listing -----------------------------------------------------------------------------------


def test_query_filters_and_pages(db, audit_log):
    _fill(audit_log, 10)
    ids = _ids(db)
    assert [r["org"] for r in events(db, org="ccib-th")] == ["ccib-th"] * 5
    assert len(events(db, action="lookup", actor="rk_0003")) == 1
    window = events(db, since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=5))
    assert [r["result_count"] for r in window] == [2, 3, 4]
    first = events(db, limit=4)
    second = events(db, after_id=first[-1]["id"], limit=4)
    assert [r["id"] for r in first + second] == ids[:8]
    newest = events(db, newest_first=True, limit=3)
    assert [r["id"] for r in newest] == ids[::-1][:3]
    assert events(db, before_id=2**62, limit=3) == newest  # a wild cursor is clamped
    assert events(db, after_id=2**62) == []
    older = events(db, before_id=newest[-1]["id"], limit=3)
    assert [r["id"] for r in older] == ids[::-1][3:6]


def test_the_api_page_parses_its_parameters_and_pages_newest_first(db, audit_log):
    _fill(audit_log, 10)
    ids = _ids(db)
    first = service.events(db, {"limit": "4"})
    assert [e["id"] for e in first["events"]] == ids[::-1][:4] and first["next"] == str(ids[-4])
    assert first["events"][-1]["time"] == "2026-11-22T06:00:06.123456Z"
    rest = service.events(db, {"limit": "4", "cursor": first["next"]})
    last = service.events(db, {"limit": "4", "cursor": rest["next"]})
    assert [e["id"] for e in rest["events"] + last["events"]] == ids[::-1][4:]
    assert last["next"] is None
    window = service.events(db, {"org": "ccib-th", "since": "2026-11-22T06:00:02Z", "until": "2026-11-22 06:00:06"})
    assert [e["result_count"] for e in window["events"]] == [5, 3]
    assert service.events(db, org="pdrm-my", limit=2)["events"][0]["subject"] == ["203.0.113.0", "+66812345678"]
    for bad, field in ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"cursor": "-1"}, "cursor"), \
            ({"since": "yesterday"}, "since"), ({"sort": "id"}, "sort"):
        with pytest.raises(Invalid) as caught:
            service.events(db, bad)
        assert caught.value.field == field
