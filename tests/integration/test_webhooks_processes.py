"""The dispatcher as real processes on both engines: killed with SIGKILL while the receiver holds
a delivery in hand, then restarted: every event delivered, the one in hand sent again with the
same delivery id; two ``registry scheduler`` processes on one database delivering each event once
per webhook, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from registry.domain import webhooks as rules
from registry.services import webhooks
from tests.integration.webhook_support import CCIB, emit, org_ids, register
from tests.webhook_receiver import Receiver

REGISTRY = Path(sys.executable).parent / "registry"
# The dispatch loop alone, as the scheduler runs it, with a lease long enough that only the
# dead-holder check (same host, process gone) lets the restarted one in at once.
LOOP = """
import sys
from registry.domain.webhooks import Backoff
from registry.services.dispatch import Dispatcher, Tuning
from registry.storage.db import Database
tuning = Tuning(backoff=Backoff(0.05, 0.2), lease_seconds=600, sweep_seconds=0.3)
Dispatcher(Database(sys.argv[1]), allow_loopback=True, tuning=tuning).run()
"""


@pytest.fixture
def receivers():
    made: list[Receiver] = []
    yield lambda: made.append(Receiver()) or made[-1]
    for receiver in made:
        receiver.close()


def _env(db, tmp_path) -> dict:
    env = {**os.environ, "REGISTRY_DATABASE_URL": db.url, "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance"),
           "REGISTRY_WEBHOOK_ALLOW_LOOPBACK": "true", "REGISTRY_CHECKPOINT_MINUTES": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def _caught_up(db, seq: int, timeout: float = 30) -> None:
    """Wait until every webhook's position has passed ``seq`` (recorded just after the receiver answers)."""
    deadline = time.monotonic() + timeout
    while any(w["position"] < seq for w in webhooks.list_webhooks(db, by=CCIB)):
        assert time.monotonic() < deadline, "the dispatcher did not record the last delivery"
        time.sleep(0.05)


def _started_scheduler(db, tmp_path) -> subprocess.Popen:
    """A `registry scheduler` process, once it says it has started (its SIGTERM handler is in place
    by then: a SIGTERM during a slow start-up would kill it instead of stopping it)."""
    process = subprocess.Popen([str(REGISTRY), "scheduler"], env=_env(db, tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def drain():  # read its log to the end, so a full pipe never blocks it
        with process.stderr:
            for line in process.stderr:
                if line.startswith("scheduler:"):
                    started.set()
        started.set()

    process.drain = threading.Thread(target=drain, daemon=True)
    process.drain.start()
    assert started.wait(90) and process.poll() is None, "the scheduler did not start"
    return process


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.terminate()
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait(timeout=30)
    drain = getattr(process, "drain", None)
    if drain is not None:
        drain.join(10)
    return code


def test_kill_9_mid_delivery_then_restart_delivers_everything_resending_with_the_same_id(db, tmp_path, receivers):
    receiver = receivers()
    ids = org_ids(db)
    hook = register(db, receiver)
    seqs = emit(db, ids["ccib-th"], [f"k{n}.scam.example" for n in range(4)])
    receiver.hold.set()  # the first delivery stays in the receiver's hands
    child = subprocess.Popen([sys.executable, "-c", LOOP, db.url], env=_env(db, tmp_path))
    try:
        assert receiver.holding.wait(60), "the dispatcher never delivered"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        _stop(child)
    receiver.hold.clear()
    receiver.release.set()  # the receiver answers, to a sender that is gone
    [in_hand] = receiver.held
    assert in_hand.seq == seqs[0]
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert shown["position"] < seqs[0]  # never acknowledged to the registry: not past it

    restarted = subprocess.Popen([sys.executable, "-c", LOOP, db.url], env=_env(db, tmp_path))
    try:
        receiver.wait_for(5)  # the one answered to the dead sender, and the four again / onwards
        _caught_up(db, seqs[-1])
    finally:
        _stop(restarted)
    sent = [r.seq for r in receiver.received]
    assert sent == [seqs[0], *seqs]
    assert [r.delivery for r in receiver.received[:2]] == [rules.delivery_id(hook["id"], seqs[0])] * 2
    assert all(r.verified for r in receiver.received)
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert shown["position"] >= seqs[-1] and shown["failures"] == 0


def test_two_schedulers_on_one_database_deliver_each_event_once_per_webhook(db, tmp_path, receivers):
    ids = org_ids(db)
    hooks = []
    for _ in range(3):
        receiver = receivers()
        hooks.append((register(db, receiver), receiver))
    schedulers = [_started_scheduler(db, tmp_path) for _ in range(2)]
    try:
        seqs: list[int] = []
        for batch in range(8):
            seqs += emit(db, ids["ccib-th"], [f"b{batch}-{n}.scam.example" for n in range(3)])
            time.sleep(0.1)
        for _, receiver in hooks:
            receiver.wait_for(len(seqs), timeout=90)
        _caught_up(db, seqs[-1])
        time.sleep(1)  # long enough for a duplicate to arrive, were one on its way
    finally:
        codes = [_stop(process) for process in schedulers]
    assert codes == [0, 0]  # SIGTERM: both stopped cleanly
    for hook, receiver in hooks:
        assert [r.seq for r in receiver.received] == seqs  # once each, in order
        assert Counter(r.delivery for r in receiver.received) == Counter(
            {rules.delivery_id(hook["id"], seq): 1 for seq in seqs})
        assert all(r.verified for r in receiver.received)
