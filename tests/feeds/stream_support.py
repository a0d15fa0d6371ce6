"""Two registries for the registry-stream tests: peer A, a real `registry serve` on 127.0.0.1 on a
port it keeps across restarts, and the changes made on it; registry B's database, its feed of A,
its `registry scheduler` process, and what B holds.

The changes on A go through the services that make them (submit, sightings, disputes), which
announce them once event emission is wired; until then (main as this was written) a helper emits
the event those services will, with the body ``services.lookup.assertion_dict`` shapes, so the
tests hold either way: an event is emitted here only when the change announced none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.normalize import normalize_one
from registry.domain.rows import label_tuple
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services import disputes, events
from registry.services.feeds import feed_runs
from registry.services.keys import Principal
from registry.services.lookup import assertion_dict
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, submit
from registry.storage import events as event_store
from registry.storage import feeds as feed_store
from registry.storage import orgs as org_store
from registry.storage import standing as standing_store
from registry.storage.db import Database
from registry.storage.indicator_reads import assertions_for
from registry.storage.indicators import indicator_ids
from tests.web.conftest import REGISTRY, start_server, stop_server

FEED = "hub-a-stream"
KEY_ENV = "HUB_A_KEY"
A_ENV = {"REGISTRY_STREAM_HEARTBEAT_SECONDS": "0.5", "REGISTRY_RATE_LIMIT": "1000000 per minute"}


@dataclass
class Peer:
    """Registry A: its database, its server, the keys of its members."""

    db_url: str
    db: Database
    tmp: Path
    port: int
    keys: dict
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process, _url, _env = start_server(self.db_url, self.tmp, extra_env=A_ENV, port=self.port)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)
            self.process = None

    def head(self) -> int:
        with self.db.read() as conn:
            return event_store.head(conn)

    def pause(self, paused: bool) -> None:
        """SIGSTOP (or SIGCONT) the server and its workers: a peer that stalls, connections open."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP if paused else signal.SIGCONT)


# -- changes on A ------------------------------------------------------------------------------
def _own_row(conn, value: str, org: str, feed: str | None):
    found = indicator_ids(conn, [value])[value]
    return next(a for a in assertions_for(conn, [found]) if a.source == org and a.feed == (feed or ""))


def _announce(conn, type_: str, value: str, org: str, feed: str | None, now: datetime | None = None) -> None:
    row = _own_row(conn, value, org, feed)
    kind = normalize_one(value).kind
    events.emit(conn, [ev.NewEvent(type=type_, time=utcnow(), tlp=row.tlp, source=org, org=org, kind=kind,
                                   value=value, labels=label_tuple(row.labels),
                                   body={"assertion": assertion_dict(row, now)})])


def report(peer: Peer, org: str, value: str, *, tlp: str = "green", confidence: int = 70, feed: str | None = None,
           **fields) -> str:
    """``org`` reports ``value`` on A (a new report, or one that changes it); new or updated."""
    with peer.db.write() as conn:
        before = event_store.head(conn)
        done = submit(conn, Provenance(org=org, feed=feed, tlp=tlp, confidence=confidence, region="TH"),
                      [Submission(value=value, **fields)])
        status = "new" if done.new else "updated" if done.updated else "unchanged"
        assert status != "unchanged", "the tests report changes only: an unchanged report may announce nothing"
        if event_store.head(conn) == before:
            _announce(conn, ev.REPORTED if status == "new" else ev.UPDATED, value, org, feed)
    return status


def expire(peer: Peer, org: str, value: str, feed: str | None = None) -> None:
    """``org``'s assertion of ``value`` on A reaches its end (its valid_until, now)."""
    now = utcnow()
    with peer.db.write() as conn:
        row = _own_row(conn, value, org, feed)
        before = event_store.head(conn)
        assert standing_store.end(conn, row.indicator_id, org_store.get(conn, org).id, feed or "", now, None, now)
        if event_store.head(conn) == before:
            _announce(conn, ev.EXPIRED, value, org, feed, now)


def delist(peer: Peer, value: str, *, by_org: str, disputer: str = "bank-x") -> None:
    """A dispute on A, decided by ``by_org``: its assertion of ``value`` delisted."""
    before = peer.head()
    made = disputes.open_dispute(peer.db, value, reason="the customer's own account",
                                 by=Principal(org=disputer, role="reader", max_tlp="amber", actor="t"))
    disputes.decide(peer.db, made["id"], "delist", by=Principal(org=by_org, role="contributor", max_tlp="red",
                                                                actor="t"))
    if peer.head() == before:
        with peer.db.write() as conn:
            _announce(conn, ev.DELISTED, value, by_org, None, utcnow())


def sight(peer: Peer, org: str, value: str, *, count: int, case_ref: str | None = None, tlp: str = "green") -> int:
    """``org`` sights ``value`` on A; the sighting's count now."""
    before = peer.head()
    done = add_sighting(peer.db, org=org, value=value, count=count, case_ref=case_ref, tlp=tlp)
    if peer.head() == before:
        shown = {"source": org, "count": done["count"], "tlp": done["tlp"], "first_seen": done["first_seen"],
                 "last_seen": done["last_seen"]}
        if case_ref:
            shown["case_ref"] = case_ref  # shown to its own org only: B follows with a key of ccib-th
        with peer.db.write() as conn:
            events.emit(conn, [ev.NewEvent(type=ev.SIGHTED, time=utcnow(), tlp=tlp, source=org, org=org,
                                           kind=done["kind"], value=done["value"], body={"sighting": shown})])
    return done["count"]


def hit(peer: Peer, value: str, *, owner: str = "ccib-th", looker: str = "pdrm-my") -> None:
    """A lookup of ``value`` by ``looker`` hit ``owner``'s assertion: an event B reads, not applies."""
    with peer.db.write() as conn:
        row = _own_row(conn, value, owner, None)
        events.emit(conn, [ev.NewEvent(type=ev.LOOKUP_HIT, time=utcnow(), tlp=row.tlp, source=owner, org=looker,
                                       kind=normalize_one(value).kind, value=value, body={"count": 1})])


def times_reported(db: Database, value: str, org: str, feed: str | None = None) -> int:
    with db.read() as conn:
        return _own_row(conn, value, org, feed).times_reported


# -- registry B --------------------------------------------------------------------------------
def copies(db: Database, value: str) -> list:
    """B's assertions of ``value`` (source, feed, confidence, tlp, labels, valid_until, …)."""
    with db.read() as conn:
        found = indicator_ids(conn, [value]).get(value)
        return assertions_for(conn, [found]) if found is not None else []


def sightings_of(db: Database, value: str) -> list[tuple[str, str, int]]:
    with db.read() as conn:
        rows = conn.execute(text(
            "SELECT o.slug, s.case_ref, s.count FROM sighting s JOIN indicator i ON i.id = s.indicator_id "
            "JOIN organization o ON o.id = s.org_id WHERE i.value = :value"), {"value": value}).all()
    return sorted((r[0], r[1], r[2]) for r in rows)


def cursor(db: Database) -> int:
    with db.read() as conn:
        return int(feed_store.get(conn, FEED).cursor or 0)


def set_cursor(db: Database, seq: int) -> None:
    with db.write() as conn:
        feed_store.save_cursor(conn, feed_store.get(conn, FEED).id, str(seq))


def runs(db: Database) -> list[dict]:
    return feed_runs(db, FEED, Viewer.operator(), limit=50)["runs"]


def start_scheduler(db: Database, tmp: Path, key: str, name: str = "scheduler") -> subprocess.Popen:
    """B's `registry scheduler`, following A with ``key``."""
    env = {**os.environ, "REGISTRY_DATABASE_URL": db.url, "REGISTRY_INSTANCE_PATH": str(tmp / "b-instance"),
           "REGISTRY_SCHEDULER_REFRESH_SECONDS": "0.5", "REGISTRY_CHECKPOINT_MINUTES": "0", KEY_ENV: f"Bearer {key}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with (tmp / f"{name}.log").open("ab") as log:
        return subprocess.Popen([str(REGISTRY), "scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def following(db: Database) -> dict:
    """B's open connection to A (its run), once there is one."""
    return wait_for(lambda: next((r for r in runs(db)[:1] if r["status"] == "running"), None), "B to follow A")


def only_copy(db: Database, value: str):
    rows = copies(db, value)
    assert len(rows) == 1, rows
    return rows[0]
