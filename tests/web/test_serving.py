"""How `registry serve` runs its workers (SQLite and PostgreSQL): bad web settings stop it with
a message, and a worker whose threads answer several large batches at once stays near the
memory of one (they take turns, and its threads share two malloc arenas)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import orjson
import pytest

from registry.services.submit import Provenance, Submission, Submitter
from registry.storage.db import Database
from tests.web.conftest import REGISTRY, free_port, seed_members, start_server, stop_server

BATCH = 10_000
AT_ONCE = 8


def test_bad_web_settings_stop_serve_with_a_message(tmp_path):
    for name, value in (("WEB_THREADS", "0"), ("WEB_TIMEOUT", "soon"), ("WEB_GRACEFUL_TIMEOUT", "-1")):
        env = {**os.environ, "REGISTRY_INSTANCE_PATH": str(tmp_path), f"REGISTRY_{name}": value}
        done = subprocess.run([str(REGISTRY), "serve", "--port", str(free_port())], env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 2 and f"REGISTRY_{name}" in done.stderr, done.stderr


@pytest.fixture(scope="module")
def listed(engine_url):
    """BATCH values, each listed by two agencies: their answers are large (about 1.5 KB each)."""
    db = Database(engine_url)
    keys = seed_members(db)
    values = [f"{i * 7919 % 223 + 1}.{i // 256 % 256}.{i % 256}.{i % 200 + 1}" for i in range(BATCH)]
    for org in ("ccib-th", "pdrm-my"):
        with db.write() as conn:
            submitter = Submitter(conn, Provenance(org=org, tlp="amber", confidence=70, labels=("phishing",)))
            for value in values:
                submitter.add(Submission(value))
            submitter.finish()
    db.dispose()
    return engine_url, keys["admin"], values


def _anonymous_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("RssAnon:")[1].split()[0]) // 1024


class PeakMemory:
    """The most anonymous memory a process held while the block ran (sampled every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def __enter__(self):
        self.peak = _anonymous_mb(self.pid)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _anonymous_mb(self.pid))

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anonymous_mb(self.pid))


def test_large_batches_at_once_keep_a_worker_near_one_batchs_memory(listed, tmp_path):
    url, key, values = listed
    process, base, _env = start_server(url, tmp_path, workers=1)
    body = tmp_path / "batch.json"
    body.write_bytes(orjson.dumps({"values": values}))

    def batches(count: int) -> None:  # curl: clients that read their answers at once
        clients = [subprocess.Popen(
            ["curl", "--silent", "--fail", "--output", "/dev/null", "-H", f"Authorization: Bearer {key}",
             "-H", "Content-Type: application/json", "--data-binary", f"@{body}", base + "/api/v1/lookup"])
            for _ in range(count)]
        assert [client.wait(timeout=120) for client in clients] == [0] * count

    try:
        (worker,) = (int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split())
        idle = _anonymous_mb(worker)
        with PeakMemory(worker) as one:
            batches(1)
        time.sleep(0.2)
        settled = _anonymous_mb(worker)
        with PeakMemory(worker) as many:
            batches(AT_ONCE)
    finally:
        stop_server(process)
    footprint = one.peak - idle  # what one batch takes at its peak
    assert many.peak - settled < 2 * footprint, (idle, one.peak, settled, many.peak)
