"""Signed audit checkpoints on SQLite and PostgreSQL, through the real `registry` command: a
checkpoint taken before catches a cut-off tail and a history rewritten with its chain recomputed
(both of which the chain check alone passes), passes on an untouched log, and refuses a forged
signature; the scheduler's job takes one at its interval."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import delete, func, select, update

from registry import config
from registry.domain.audit_chain import event_hash
from registry.scheduler import CHECKPOINT_JOB, FeedScheduler
from registry.services import audit_checkpoints
from registry.services.audit import AuditLog, verify
from registry.storage import audit as store
from registry.storage import tables as t

A = t.audit_event
T0 = datetime(2026, 11, 22, 6, 0, 0, 123456, tzinfo=UTC)


def write_events(db, n: int, start: int = 0) -> None:
    log = AuditLog(db, synchronous=True)
    for i in range(start, start + n):
        log.record("lookup", org="ccib-th", actor=f"rk_{i:04d}", subject=[f"203.0.113.{i % 250}"], result_count=1,
                   client="192.0.2.10", status=200, time=T0 + timedelta(seconds=i))
    log.close()


def rows(db) -> list[dict]:
    with db.read() as conn:
        return list(store.iter_rows(conn))


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"  # the cli fixture's (tests/integration/conftest.py)


@pytest.fixture
def kept(db, cli, tmp_path):
    """Ten rows, a checkpoint of them kept in a file (as a member keeps it), then two more rows."""
    write_events(db, 10)
    checkpoint = json.loads(cli("audit", "checkpoint", "--json").stdout)
    path = tmp_path / "checkpoint-1.json"
    path.write_text(json.dumps(checkpoint))
    write_events(db, 2, start=10)
    return path


def test_the_checkpoint_command_signs_the_head_as_documented(db, cli, instance):
    write_events(db, 5)
    head = rows(db)[-1]
    checkpoint = json.loads(cli("audit", "checkpoint", "--json").stdout)
    assert (checkpoint["seq"], checkpoint["hash"], checkpoint["algorithm"]) == (head["id"], head["hash"], "Ed25519")
    # The byte string docs/security.md gives, built here by hand: what any Ed25519 tool checks.
    signed = f"registry-audit-checkpoint-v1\nseq={head['id']}\nhash={head['hash']}\ntime={checkpoint['time']}\n"
    assert checkpoint["signed"] == signed
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint["public_key"]))
    public.verify(bytes.fromhex(checkpoint["signature"]), signed.encode("ascii"))  # raises if it does not
    key_file = instance / "audit_signing_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert private.public_key().public_bytes_raw().hex() == checkpoint["public_key"]
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_checkpoint)).scalar_one() == 1
    assert audit_checkpoints.latest(db) == checkpoint  # what GET /-/audit/checkpoint serves
    human = cli("audit", "checkpoint").stdout
    assert f"row {head['id']}, hash {head['hash']}" in human and checkpoint["public_key"] in human
    assert json.loads(cli("audit", "checkpoint", "--json").stdout)["public_key"] == checkpoint["public_key"]  # one key


def test_an_untouched_log_passes(db, cli, kept):
    result = cli("audit", "verify", "--checkpoint", kept)
    assert "OK: 12 rows checked" in result.stdout
    assert f"OK: checkpoint {kept} (row {rows(db)[9]['id']}," in result.stdout
    report = json.loads(cli("audit", "verify", "--json", "--checkpoint", kept, "--public-key",
                            json.loads(kept.read_text())["public_key"]).stdout)
    assert report["ok"] and report["checked"] == 12 and report["checkpoints"][0]["ok"]


def test_a_truncated_log_fails_against_a_checkpoint_taken_before(db, cli, kept):
    ids = [r["id"] for r in rows(db)]
    with db.write() as conn:  # the newest five rows cut off, and the counter set to match
        conn.execute(delete(A).where(A.c.id >= ids[7]))
        conn.execute(update(t.counter).where(t.counter.c.name == "audit").values(value=7))
    assert verify(db).ok  # the chain alone cannot tell
    result = cli("audit", "verify", "--checkpoint", kept, code=1)
    assert "OK: 7 rows checked" in result.stdout
    assert (f"BROKEN: checkpoint {kept} (row {ids[9]}, " in result.stdout
            and f"the log no longer holds row {ids[9]}, the head it signed: the log ends at row {ids[6]} "
                "(rows were cut off)" in result.stdout)


def test_a_cut_log_grown_again_fails(db, cli, kept):
    ids = [r["id"] for r in rows(db)]
    with db.write() as conn:
        conn.execute(delete(A).where(A.c.id >= ids[5]))
        conn.execute(update(t.counter).where(t.counter.c.name == "audit").values(value=5))
    write_events(db, 10, start=100)  # the real writer chains on from the surviving head
    assert verify(db).ok
    result = cli("audit", "verify", "--checkpoint", kept, code=1)
    # SQLite hands the freed ids out again (the row is there, with another hash); PostgreSQL's
    # sequence does not (the row is gone): either way the signed head is not in the log.
    assert f"BROKEN: checkpoint {kept}" in result.stdout
    assert (f"row {ids[9]} has hash " in result.stdout and "the log was rewritten beneath it" in result.stdout) or \
        f"the log no longer holds row {ids[9]}, the head it signed: that row was deleted" in result.stdout


def test_a_rewritten_and_rechained_log_fails_against_a_checkpoint_taken_before(db, cli, kept):
    chain = rows(db)
    target = chain[3]
    forged = dict(target, subject='["198.51.100.1"]')
    with db.write() as conn:  # one row edited, then every hash from it on recomputed
        prev = target["prev_hash"]
        for row in [forged, *chain[4:]]:
            new_hash = event_hash(prev, row)
            conn.execute(update(A).where(A.c.id == row["id"]).values(subject=row["subject"], prev_hash=prev, hash=new_hash))
            prev = new_hash
    assert verify(db).ok  # the chain alone cannot tell
    result = cli("audit", "verify", "--checkpoint", kept, code=1)
    head = chain[9]
    assert f"BROKEN: checkpoint {kept} (row {head['id']}, " in result.stdout
    assert f"row {head['id']} has hash " in result.stdout and f"not the {head['hash']} it signed: " \
        "the log was rewritten beneath it" in result.stdout


def test_a_forged_signature_fails(db, cli, kept, tmp_path):
    good = json.loads(kept.read_text())
    flipped = tmp_path / "flipped.json"
    flipped.write_text(json.dumps(good | {"signature": ("0" if good["signature"][0] != "0" else "1") + good["signature"][1:]}))
    result = cli("audit", "verify", "--checkpoint", flipped, code=1)
    assert f"BROKEN: checkpoint {flipped} " in result.stdout
    assert f"its signature does not verify under public key {good['public_key']}" in result.stdout

    # Someone else's key signing a head of their choosing: a valid signature, but not the registry's.
    other = Ed25519PrivateKey.generate()
    from registry.domain.audit_checkpoint import sign

    forged = tmp_path / "other-key.json"
    forged.write_text(json.dumps(sign(other, good["seq"], "f" * 64, T0).to_json()))
    result = cli("audit", "verify", "--checkpoint", forged, code=1)
    assert f"it names public key {other.public_key().public_bytes_raw().hex()}, not a key trusted here " \
           f"({good['public_key']})" in result.stdout

    # The fields changed under a genuine signature.
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(good | {"hash": "f" * 64}))
    result = cli("audit", "verify", "--checkpoint", moved, code=1)
    assert "not a checkpoint: its signed text is not the one its seq, hash and time make" in result.stdout
    moved.write_text(json.dumps({k: v for k, v in good.items() if k != "signed"} | {"hash": "f" * 64}))
    result = cli("audit", "verify", "--checkpoint", moved, code=1)
    assert "its signature does not verify under public key" in result.stdout


def test_public_keys_given_and_several_files(db, cli, kept, instance, tmp_path):
    published = audit_checkpoints.public_key(instance)
    pem = tmp_path / "registry-audit.pem"
    pem.write_text(published["public_key_pem"])
    second = tmp_path / "kept.jsonl"  # JSON lines, as `curl … >> FILE` collects them
    second.write_text(kept.read_text() + "\n" + json.dumps(audit_checkpoints.take(db, instance)) + "\n")
    result = cli("audit", "verify", "--public-key", pem, "--checkpoint", kept, second)
    assert result.stdout.count("OK: checkpoint") == 3 and f"{second} (line 2)" in result.stdout

    # A checkpoint checked against a key the caller trusts instead of the instance's.
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    result = cli("audit", "verify", "--public-key", other, "--checkpoint", kept, code=1)
    assert f"not a key trusted here ({other})" in result.stdout

    # One bad line among good ones fails, named by its line.
    second.write_text(kept.read_text() + "\n{not json\n")
    result = cli("audit", "verify", "--json", "--checkpoint", second, code=1)
    report = json.loads(result.stdout)
    assert not report["ok"] and report["problem"] is None  # the chain is fine; a checkpoint is not
    assert [c["ok"] for c in report["checkpoints"]] == [True, False]
    assert report["checkpoints"][1]["checkpoint"] == f"{second} (line 2)"
    assert report["checkpoints"][1]["problem"].startswith("not a checkpoint: not JSON")


def test_bad_keys_and_a_missing_key_are_named(db, cli, kept, instance):
    result = cli("audit", "verify", "--checkpoint", kept, "--public-key", "abc", code=2)
    assert "--public-key 'abc': neither 64 hex digits nor a readable file" in result.output
    (instance / "audit_signing_key").unlink()  # checking elsewhere than the server, without a key
    result = cli("audit", "verify", "--checkpoint", kept, code=2)
    assert "no public key to check the checkpoints' signatures against" in result.output and "--public-key" in result.output
    result = cli("audit", "verify", kept, code=2)
    assert "give the first with --checkpoint" in result.output


def test_the_scheduler_job_takes_one_at_its_interval(db, instance):
    settings = config.load({"DATABASE_URL": db.url, "INSTANCE_PATH": str(instance), "CHECKPOINT_MINUTES": "60"})
    scheduler = FeedScheduler(db, settings=settings)
    write_events(db, 3)
    first = scheduler.checkpoint(now=T0)
    assert first is not None and first["seq"] == rows(db)[-1]["id"] and first["time"] == "2026-11-22T06:00:00.123456Z"
    write_events(db, 2, start=3)
    assert scheduler.checkpoint(now=T0 + timedelta(minutes=30)) is None  # not due yet
    other = FeedScheduler(db, settings=settings)  # a second scheduler on the database agrees
    assert other.checkpoint(now=T0 + timedelta(minutes=40)) is None
    second = scheduler.checkpoint(now=T0 + timedelta(minutes=60))
    assert second is not None and second["seq"] == rows(db)[-1]["id"] and second["seq"] > first["seq"]
    assert audit_checkpoints.latest(db) == second
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_checkpoint)).scalar_one() == 2


@pytest.mark.parametrize("minutes", [0, 15])
def test_the_scheduler_runs_the_job_only_when_set(db, instance, minutes):
    settings = config.load({"DATABASE_URL": db.url, "INSTANCE_PATH": str(instance), "CHECKPOINT_MINUTES": str(minutes)})
    scheduler = FeedScheduler(db, settings=settings)
    scheduler.start()
    try:
        job = scheduler.scheduler.get_job(CHECKPOINT_JOB)
        if minutes:
            assert job.trigger.interval == timedelta(minutes=minutes) and job.func == scheduler.checkpoint
        else:
            assert job is None
    finally:
        scheduler.stop()
