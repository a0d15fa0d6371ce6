"""Feed runs as real processes: killed with SIGKILL mid-run, a scheduler stopped with SIGTERM,
a catalogue change picked up by a running scheduler, and two schedulers against one
PostgreSQL database running a feed once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.domain.tlp import Viewer
from registry.services.feeds import feed_runs, run_feed, sync_catalogue
from registry.storage import migrate
from registry.storage.db import Database
from tests.feeds.support import add_feed
from tests.feeds.test_golden_runs import stored
from tests.helpers import PG_SKIP, PG_URL, create_pg_schema, drop_pg_schema

REGISTRY = Path(sys.executable).parent / "registry"
BIG = 150_000  # lines: a few seconds of work, so a signal lands mid-run


def big_list(path: Path, count: int = BIG) -> str:
    with path.open("w") as fh:
        fh.write("# a large partner list\n")
        for n in range(count):
            fh.write(f"k{n}.scam-{n % 97}.example\n")
    return "file://" + str(path)


def env_for(url: str, tmp_path: Path, **extra) -> dict:
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance"), **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def latest_run(db, name: str) -> dict | None:
    runs = feed_runs(db, name, Viewer.operator(), limit=1)["runs"]
    return runs[0] if runs else None


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_mid_run_leaves_whole_batches_and_the_next_run_completes(sqlite_db, tmp_path):
    add_feed(sqlite_db, "big", big_list(tmp_path / "big.txt"), "text", batch_size=1000)
    child = subprocess.Popen([REGISTRY, "feeds", "run", "big", "--json"], env=env_for(sqlite_db.url, tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (latest_run(sqlite_db, "big") or {}).get("new", 0) >= 3000, 60, "three batches")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    killed = latest_run(sqlite_db, "big")
    kept = len(stored(sqlite_db, "big"))
    assert killed["status"] == "running" and 3000 <= kept < BIG
    assert kept % 1000 == 0 and killed["new"] == kept  # whole batches, each with the run's counts
    # The next run takes over the dead process's lease at once and completes the work.
    run = run_feed(sqlite_db, "big")
    assert (run.status, run.rows, run.new, run.unchanged, run.expired) == ("ok", BIG, BIG - kept, kept, 0)
    assert len(stored(sqlite_db, "big")) == BIG
    history = feed_runs(sqlite_db, "big", Viewer.operator())["runs"]
    assert [r["status"] for r in history] == ["ok", "interrupted"]


CATALOGUE = """\
name = "big"
provider = "partner"
url = "{url}"
format = "text"
schedule = "every 1h"
batch_size = 500
enabled = {enabled}
"""


def test_scheduler_picks_up_a_synced_feed_and_stops_on_sigterm_after_the_batch(sqlite_db, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    url = big_list(tmp_path / "big.txt")
    (folder / "big.toml").write_text(CATALOGUE.format(url=url, enabled="false"))
    sync_catalogue(sqlite_db, folder)
    log = (tmp_path / "scheduler.log").open("wb")
    child = subprocess.Popen([REGISTRY, "scheduler"], stdout=log, stderr=subprocess.STDOUT,
                             env=env_for(sqlite_db.url, tmp_path, REGISTRY_SCHEDULER_REFRESH_SECONDS="0.5"))
    try:
        wait_for(lambda: b"0 feeds scheduled" in (tmp_path / "scheduler.log").read_bytes(), 60, "the scheduler")
        assert latest_run(sqlite_db, "big") is None  # disabled: not run
        (folder / "big.toml").write_text(CATALOGUE.format(url=url, enabled="true"))
        assert sync_catalogue(sqlite_db, folder).changed == ["big"]  # no restart
        wait_for(lambda: (latest_run(sqlite_db, "big") or {}).get("new", 0) >= 1000, 60, "two batches")
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    run = latest_run(sqlite_db, "big")
    kept = len(stored(sqlite_db, "big"))
    assert run["status"] == "interrupted" and run["trigger"] == "schedule", run
    assert kept < BIG and kept % 500 == 0 and run["new"] == kept
    assert "stopped on request" in run["error"]


@pytest.mark.postgres
def test_two_schedulers_on_one_postgresql_database_run_a_feed_once(tmp_path):
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema, url = create_pg_schema()
    db = Database(url)
    try:
        migrate.upgrade(db)
        add_feed(db, "shared", big_list(tmp_path / "shared.txt", 3000), "text", batch_size=500)
        env = env_for(url, tmp_path, REGISTRY_SCHEDULER_REFRESH_SECONDS="0.5")
        logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
        children = []
        for path in logs:
            with path.open("wb") as log:
                children.append(subprocess.Popen([REGISTRY, "scheduler"], stdout=log, stderr=subprocess.STDOUT,
                                                 env=env))
        try:
            wait_for(lambda: all(b"1 feeds scheduled" in p.read_bytes() for p in logs), 60, "both schedulers")
            wait_for(lambda: (latest_run(db, "shared") or {}).get("status") == "ok", 60, "the run")
            time.sleep(2)  # several refreshes and due checks in both processes
            for child in children:
                child.send_signal(signal.SIGTERM)
            assert [child.wait(timeout=60) for child in children] == [0, 0]
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
        runs = feed_runs(db, "shared", Viewer.operator())["runs"]
        assert [(r["status"], r["new"]) for r in runs] == [("ok", 3000)], runs
        assert len(stored(db, "shared")) == 3000
    finally:
        db.dispose()
        drop_pg_schema(schema)


def test_serve_with_scheduler_runs_feeds_beside_the_web_workers(sqlite_db, tmp_path):
    import requests

    from tests.web.conftest import free_port

    add_feed(sqlite_db, "served", big_list(tmp_path / "served.txt", 500), "text")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([REGISTRY, "serve", "--scheduler", "--port", str(port), "--workers", "1"], stdout=log,
                              stderr=subprocess.STDOUT, env=env_for(sqlite_db.url, tmp_path,
                                                                    REGISTRY_SECRET_KEY="test-secret-" + "x" * 32))
    try:
        wait_for(lambda: (latest_run(sqlite_db, "served") or {}).get("status") == "ok", 90, "the scheduled run")
        assert requests.get(f"http://127.0.0.1:{port}/-/health", timeout=10).status_code == 200
        server.terminate()
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "scheduler: 1 feeds scheduled" in text and "scheduler: stopping" in text
    assert latest_run(sqlite_db, "served")["trigger"] == "schedule"
