"""`registry events list` (Click's runner) and `registry events tail` (a real process, stopped by
SIGINT or SIGTERM) on SQLite and PostgreSQL: the org's events only, read as the org at its widest
(TLP:RED of its own, never another org's RED), `next`, following live, --json, --all, audit."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED
from registry.services import events
from registry.services.audit import events as audit_events
from tests.helpers import add_member_orgs

REGISTRY = Path(sys.executable).parent / "registry"


def _ids(db) -> dict[str, int]:
    with db.read() as conn:
        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def _emit(db, *new: ev.NewEvent) -> list[int]:
    with db.write() as conn:
        return events.emit(conn, list(new))


def hit(to: int, value: str, *, tlp: str = AMBER, source: str = "ccib-th", org: str | None = None,
        count: int = 1) -> ev.NewEvent:
    """A lookup.hit as emission writes it: addressed to the owner of the indicator hit, the
    looking org named or not (null: it shares anonymously)."""
    return ev.NewEvent(type=ev.LOOKUP_HIT, time=utcnow(), tlp=tlp, source=source, org=org, kind="domain",
                       value=value, body={"count": count}, to_org_id=to)


@pytest.fixture
def orgs(db):
    add_member_orgs(db)
    return _ids(db)


def test_events_list_pages_the_orgs_events_with_next(cli, db, orgs):
    th, my = orgs["ccib-th"], orgs["pdrm-my"]
    mine = _emit(db, hit(th, "a.cli-events.example"), hit(th, "b.cli-events.example", org="pdrm-my", tlp=GREEN),
                 hit(th, "own-red.cli-events.example", tlp=RED))  # ccib's own RED: the org at its widest sees it
    _emit(db, hit(th, "their-red.cli-events.example", tlp=RED, source="pdrm-my"),  # pdrm's RED: never
          hit(my, "theirs.cli-events.example", source="pdrm-my"))  # pdrm's own event
    listing = json.loads(cli("events", "list", "--org", "ccib-th", "--json").stdout)
    assert [e["seq"] for e in listing["events"]] == mine
    assert listing["events"][0]["type"] == "lookup.hit" and listing["events"][0]["count"] == 1
    assert listing["next"] == mine[-1] + 2  # past what it may not see and what is not its own
    first = json.loads(cli("events", "list", "--org", "ccib-th", "--limit", "2", "--json").stdout)
    assert [e["seq"] for e in first["events"]] == mine[:2] and first["next"] == mine[1]
    lines = cli("events", "list", "--org", "ccib-th", "--after", first["next"]).stdout.splitlines()
    assert lines[0].split() == [str(mine[2]), listing["events"][2]["time"], "lookup.hit",
                                "own-red.cli-events.example", "an", "agency", "TLP:RED"]
    assert lines[-1] == f"next {mine[-1] + 2}"
    text_lines = cli("events", "list", "--org", "ccib-th").stdout.splitlines()
    assert "  pdrm-my  TLP:GREEN" in text_lines[1]  # named when it shares its name
    assert cli("events", "list", "--org", "ccib-th", "--after", listing["next"]).stdout == f"next {listing['next']}\n"
    assert "unknown org 'nobody'" in cli("events", "list", "--org", "nobody", code=2).output
    assert "--org" in cli("events", "list", code=2).output
    rows = audit_events(db, {"action": "events-read", "limit": "10"})["events"]
    assert rows[-1]["subject"]["seqs"] == mine and rows[-1]["actor"].startswith("cli:")


class Tail:
    """``registry events tail`` as a process; its lines read on a thread."""

    def __init__(self, db, *args: str) -> None:
        env = {**os.environ, "REGISTRY_DATABASE_URL": db.url}
        self.process = subprocess.Popen([str(REGISTRY), "events", "tail", *args], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors = ""
        banner = self.process.stderr.readline()  # printed once it follows: nothing emitted after is missed
        if not banner.startswith("following "):
            self.stop(signal.SIGKILL)
            raise AssertionError(banner + self.errors)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def take(self, n: int, seconds: float = 15.0) -> list[str]:
        got, deadline = [], time.monotonic() + seconds
        while len(got) < n and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                got.append(self.lines.get(timeout=0.1))
        return got

    def stop(self, signum: int) -> int:
        """Send ``signum``; its exit status (its stderr in ``errors``)."""
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.reader.join(5)
        self.errors += self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return code


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_events_tail_follows_live_and_stops_cleanly(db, orgs, signum):
    th, my = orgs["ccib-th"], orgs["pdrm-my"]
    earlier = _emit(db, hit(th, "before.tail.example"))[0]  # before it starts: not printed
    tail = Tail(db, "--org", "ccib-th")
    try:
        tag = uuid.uuid4().hex[:8]
        sent = _emit(db, hit(th, f"one-{tag}.tail.example"), hit(my, f"not-mine-{tag}.tail.example", source="pdrm-my"))
        sent += _emit(db, hit(th, f"two-{tag}.tail.example", org="pdrm-my", count=4))
        lines = tail.take(2)
        assert [line.split()[0] for line in lines] == [str(sent[0]), str(sent[2])]
        assert lines[0].split()[2:] == ["lookup.hit", f"one-{tag}.tail.example", "an", "agency", "TLP:AMBER"]
        assert lines[1].split()[4] == "pdrm-my" and str(earlier) not in [line.split()[0] for line in lines]
        time.sleep(0.3)  # now waiting on the event signal
        later = _emit(db, hit(th, f"three-{tag}.tail.example", tlp=GREEN))[0]
        assert [line.split()[0] for line in tail.take(1)] == [str(later)]
    finally:
        code = tail.stop(signum)
    assert code == 0, tail.errors
    assert "Traceback" not in tail.errors
    rows = audit_events(db, {"action": "events-stream", "limit": "10"})["events"]
    assert rows and rows[0]["subject"]["org"] == "ccib-th"


def test_events_tail_json_after_and_all(db, orgs):
    th, my = orgs["ccib-th"], orgs["pdrm-my"]
    start = _emit(db, hit(th, "start.tail-json.example"))[0]
    past = _emit(db, hit(th, "past.tail-json.example"), hit(my, "their-green.tail-json.example", source="pdrm-my",
                                                            tlp=GREEN))
    tail = Tail(db, "--org", "ccib-th", "--json", "--after", str(start))
    everything = Tail(db, "--org", "ccib-th", "--all", "--after", str(start))
    try:
        got = [json.loads(line) for line in tail.take(1)]
        assert [(e["seq"], e["value"], e["org"], e["count"]) for e in got] == [(past[0], "past.tail-json.example", None, 1)]
        assert set(got[0]) >= {"seq", "type", "time", "kind", "value", "org", "tlp", "watches"}
        # --all: every event the org may see, pdrm's event addressed to pdrm not among them
        undirected = ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=GREEN, source="pdrm-my", org="pdrm-my",
                                 kind="domain", value="open.tail-json.example")
        live = _emit(db, undirected)[0]
        assert [line.split()[0] for line in everything.take(2)] == [str(past[0]), str(live)]
    finally:
        assert tail.stop(signal.SIGINT) == 0
        assert everything.stop(signal.SIGINT) == 0


def test_events_tail_refuses_an_unknown_org(db, orgs):
    done = subprocess.run([str(REGISTRY), "events", "tail", "--org", "nobody"], env={**os.environ,
                          "REGISTRY_DATABASE_URL": db.url}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown org 'nobody'" in done.stderr
