"""Large exports over a real `registry serve` (SQLite and PostgreSQL): one that outlives the
server's timeout finishes whole; one that cannot finish (a database error, a killed worker, a
restart, a client that stopped reading) ends as an error in requests, urllib and curl, and a
gzip one without its trailer, never as a short body that looks complete."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from registry.domain.tlp import Viewer
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage.db import Database
from tests.exports.support import export_bytes
from tests.web import stream_clients
from tests.web.conftest import seed_members, start_server, stop_server

# Clients cut mid-stream on purpose may leave a pipe for the collector to close.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

INDICATORS = 20_000
# Random descriptions keep gzip from shrinking the bundle (27 MB, 11 MB gzipped) below what
# the sockets' buffers hold (about 3 MB on the server's side here), so a paused client
# leaves the server mid-export.
DESCRIPTION_BYTES = 450
TIMEOUT = 3  # REGISTRY_WEB_TIMEOUT of the short-timeout server, seconds
STIX = "/api/v1/export/stix"
READER = Viewer("ccib-th", "red")


@pytest.fixture(scope="module")
def bulk(engine_url):
    """The module's database holding INDICATORS assertions of ccib-th; returns (url, keys)."""
    db = Database(engine_url)
    keys = seed_members(db)
    rng = random.Random(6)
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", tlp="amber", confidence=70, labels=("bulk",)))
        for i in range(INDICATORS):
            submitter.add(Submission(f"45.{i // 65536 + 60}.{i // 256 % 256}.{i % 256}",
                                     description=rng.randbytes(DESCRIPTION_BYTES).hex()))
        assert submitter.finish().new == INDICATORS
    db.dispose()
    return engine_url, keys


@pytest.fixture(scope="module")
def whole(bulk):
    """The reader's whole bundle, written in this process."""
    db = Database(bulk[0])
    try:
        return export_bytes(db, "stix", READER)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def short_timeout(bulk, tmp_path_factory):
    """One gunicorn worker with a 3 s timeout (and stall limit) and a 1 s grace period."""
    process, url, _env = start_server(bulk[0], tmp_path_factory.mktemp("short"), workers=1, extra_env={
        "REGISTRY_WEB_TIMEOUT": str(TIMEOUT), "REGISTRY_WEB_GRACEFUL_TIMEOUT": "1", "REGISTRY_WEB_THREADS": "4"})
    yield process, url, bulk[1]["ccib-reader"]
    stop_server(process)


def _workers(arbiter: subprocess.Popen) -> list[int]:
    """The arbiter's worker pids, once it has one (a worker an earlier test cut may still be
    being replaced)."""
    deadline = time.monotonic() + 30
    while True:
        children = Path(f"/proc/{arbiter.pid}/task/{arbiter.pid}/children").read_text().split()
        if children or time.monotonic() > deadline:
            return [int(pid) for pid in children]
        time.sleep(0.1)


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
            return True  # exited, not yet reaped
        time.sleep(0.1)
    return False


def test_an_export_that_outlives_the_worker_timeout_arrives_whole(short_timeout, whole):
    """The client reads at a pace that makes the export last several times the server's
    timeout (a sync worker was killed mid-body there)."""
    _process, url, key = short_timeout
    started = time.monotonic()
    outcome = stream_clients.steady(url + STIX, key, bytes_per_second=len(whole) / (3 * TIMEOUT))
    assert outcome.error is None
    assert time.monotonic() - started > 2 * TIMEOUT
    bundle = orjson.loads(outcome.body)
    expected = orjson.loads(whole)
    assert {o["id"] for o in bundle["objects"]} == {o["id"] for o in expected["objects"]}
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == INDICATORS


def test_a_client_that_stops_reading_is_cut_off(short_timeout, whole):
    _process, url, key = short_timeout
    download = stream_clients.RequestsPlain(url + STIX, key)
    time.sleep(2 * TIMEOUT + 1)  # the server gives up on this client after TIMEOUT
    outcome = download.finish()
    assert outcome.error and len(outcome.body) < len(whole)


def test_a_killed_worker_is_an_error_to_every_client(short_timeout, whole):
    process, url, key = short_timeout
    downloads = stream_clients.start_all(url + STIX, key)
    (worker,) = _workers(process)
    os.kill(worker, signal.SIGKILL)
    stream_clients.assert_every_client_failed(downloads, len(whole))


def test_a_restart_cuts_a_long_export_visibly_then_serves_whole_ones(short_timeout, whole):
    """SIGHUP: new workers start, the old one has its grace period (1 s) to finish, then its
    export is cut; the client is reading all along, so only the restart can end it."""
    process, url, key = short_timeout
    reading = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(stream_clients.steady, url + STIX, key, bytes_per_second=1 << 20,
                           until=time.monotonic() + 30, reading=reading)
        assert reading.wait(timeout=30)
        (old,) = _workers(process)  # the one worker, serving the export
        os.kill(process.pid, signal.SIGHUP)
        outcome = slow.result()
    assert outcome.error and outcome.error != "deadline", outcome.error
    assert len(outcome.body) < len(whole)
    assert _gone(old, within=5)
    again = stream_clients.steady(url + STIX, key, bytes_per_second=1 << 30)
    # Objects only: the server keys the bundle's id with its secret, this process has none.
    assert again.error is None and orjson.loads(again.body)["objects"] == orjson.loads(whole)["objects"]


@pytest.fixture
def breakable(bulk, tmp_path):
    """A server on a database the test may break: on SQLite a copy of the module's file, on
    PostgreSQL the module's schema reached under an application name of its own."""
    url = bulk[0]
    if url.startswith("sqlite"):
        copy = tmp_path / "breakable.db"
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source, \
                closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        url, name = f"sqlite:///{copy}", None
    else:
        name = f"export-break-{uuid.uuid4().hex[:8]}"
        url = f"{url}&application_name={name}"
    process, base, _env = start_server(url, tmp_path, workers=1)
    yield base, url, name, bulk[1]["ccib-reader"]
    stop_server(process)


def _break_database(url: str, application_name: str | None) -> None:
    """SQLite: every page but the first zeroed (the export's next page read finds a malformed
    file). PostgreSQL: the server's connections terminated, as a restart of PostgreSQL would."""
    if application_name is None:
        path = Path(url.removeprefix("sqlite:///"))
        with path.open("r+b") as file:
            header = file.read(100)
            page = int.from_bytes(header[16:18], "big") or 65536
            size = file.seek(0, os.SEEK_END)
            file.seek(page)
            file.write(bytes(size - page))
        return
    admin = Database(url)
    try:
        with admin.engine.connect() as conn:
            ended = conn.execute(text(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()) AS t"), {"name": application_name}).scalar()
            conn.commit()
        assert ended >= 4  # one per download at least
    finally:
        admin.dispose()


def test_a_database_error_midway_is_an_error_to_every_client(breakable, whole):
    base, url, application_name, key = breakable
    downloads = stream_clients.start_all(base + STIX, key)
    _break_database(url, application_name)
    stream_clients.assert_every_client_failed(downloads, len(whole))

