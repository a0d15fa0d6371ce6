"""Following a registry-stream feed's peer without end: ``registry scheduler`` keeps one
``Follower`` thread per enabled feed of that format (docs/feeds.md, "Registry streams").

A follower holds the feed's lease while it follows (renewed with each event it applies and, while
none comes, as the peer's heartbeats arrive), so of several schedulers on one database one follows
each feed. It reads the peer's ``GET /api/v1/events/stream?scope=all`` from the stored position
(``Last-Event-ID``) and applies each event as it arrives, in one transaction with the new position
(``feed_runners.stream.commit``): after a restart or a dropped connection it resumes with nothing
missed and nothing applied twice.

Runs: one run row per connection (trigger ``stream``): ``running`` while it is open, with the
counts so far; ``ok`` when the follower closed it (stopping, or the feed changed); ``interrupted``
when it dropped (the peer closed it or went away, or sent nothing for three of its heartbeats: a
stalled connection); ``failed`` when applying failed or the lease was lost. A connection that
cannot be opened is a ``failed`` run; while that goes on, the one row says how many attempts since
when, so an unreachable peer leaves one row, not one per attempt. After a steady connection drops
it connects again ``BACKOFF`` seconds later; after a failed attempt (or a connection that failed
or dropped at once) it waits twice as long as the last time, up to ``MAX_BACKOFF``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import orjson
import requests
import sseclient
from urllib3.exceptions import ReadTimeoutError

from registry.config import Settings
from registry.domain.times import iso, utcnow
from registry.ingest.catalogue import STREAM, STREAM_PATH, stream_base
from registry.services import leases
from registry.services.errors import RegistryError
from registry.services.feed_runners.stream import commit, position, refusal, session, take_counts
from registry.services.feed_runs import (
    MAX_ERROR,
    RunContext,
    RunResult,
    StopRun,
    audit_held,
)
from registry.services.stream_apply import Applier
from registry.storage import feeds as store
from registry.storage import orgs as org_store
from registry.storage.db import Database

log = logging.getLogger(__name__)

TRIGGER = "stream"
BACKOFF = 1.0  # seconds before connecting again after a failed attempt, doubled each time
MAX_BACKOFF = 60.0
STEADY_SECONDS = 5.0  # a connection that lasted less (or failed applying) counts as a failed attempt
HEARTBEAT = 15.0  # the peer's REGISTRY_STREAM_HEARTBEAT_SECONDS unless the feed says (heartbeat_seconds)
STALL_BEATS = 3  # a connection silent for this many heartbeats has stalled
READ_BYTES = 4096  # at most per read: a chunk comes as soon as the peer sends it


class Follower:
    """One feed followed on a thread of its own until ``stop()``."""

    def __init__(self, db: Database, name: str, *, settings: Settings) -> None:
        self.db, self.name, self.settings = db, name, settings
        self.owner = leases.owner()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"registry-stream {name}", daemon=True)
        self._response: requests.Response | None = None
        self._failing: tuple[int, datetime, int] | None = None  # the failed attempts' run: id, since, attempts
        self._renewed = 0.0

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    @property
    def connected(self) -> bool:
        """Whether it holds a connection to the peer now."""
        return self._response is not None

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following: the connection is shut, the run ends ``ok``, the lease is released."""
        self.stopped.set()
        response = self._response
        if response is not None:  # wakes the thread blocked reading it
            with contextlib.suppress(Exception):
                response.raw.connection.sock.shutdown(socket.SHUT_RDWR)
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self) -> None:
        delay = BACKOFF
        try:
            while not self.stopped.is_set():
                feed = self._take_lease()
                if feed is None:  # followed elsewhere, or disabled: ask again in a while
                    self._failing = None
                    self.stopped.wait(min(self.settings.feed_lease_seconds / 2, 30.0))
                    continue
                steady = self._follow(feed)
                delay = BACKOFF if steady else min(delay * 2, MAX_BACKOFF)
                self.stopped.wait(delay)
        except Exception:  # a database outage: the scheduler starts a new follower at its next refresh
            log.exception("feed %s: the follower stopped", self.name)
        finally:
            with contextlib.suppress(Exception), self.db.write() as conn:
                feed = store.get(conn, self.name)
                if feed is not None:
                    store.release_lease(conn, feed.id, self.owner)

    def _take_lease(self) -> store.FeedRow | None:
        now = utcnow()
        until = self._until(now)
        with self.db.write() as conn:
            feed = store.get(conn, self.name)
            if feed is None or not feed.enabled or feed.format != STREAM:
                return None
            taken = store.take_lease(conn, feed.id, self.owner, now, until, replacing=self.owner)
            if not taken and leases.holder_is_dead(feed.lease_owner):
                taken = store.take_lease(conn, feed.id, self.owner, now, until, replacing=feed.lease_owner)
        self._renewed = time.monotonic()
        return feed if taken else None

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.feed_lease_seconds)

    def _follow(self, feed: store.FeedRow) -> bool:
        """One connection: whether it was steady (opened, lasted ``STEADY_SECONDS`` and did not
        fail), so the next may come after ``BACKOFF`` rather than after a growing wait."""
        heartbeat = float(feed.options.get("heartbeat_seconds", HEARTBEAT))
        url = stream_base(feed.url) + STREAM_PATH
        ctx = RunContext(self.db, feed, RunResult(id=0, feed=feed.name, trigger=TRIGGER, started=utcnow()),
                         self.owner, self.settings, None, self.stopped.is_set)
        try:
            with self.db.read() as conn:
                if org_store.get(conn, feed.provider) is None:
                    raise RegistryError(f"feed {feed.name!r}: its provider org {feed.provider!r} does not exist "
                                        "(`registry feeds sync` adds it)")
            headers = ctx.headers()
        except RegistryError as exc:
            self._attempt_failed(feed, exc.message)
            return False
        with session(headers) as client:
            return self._connect(ctx, client, url, heartbeat)

    def _connect(self, ctx: RunContext, client: requests.Session, url: str, heartbeat: float) -> bool:
        feed = ctx.feed
        try:
            response = client.get(url, params={"scope": "all"}, stream=True,
                                  headers={"Last-Event-ID": str(position(feed)), "Accept": "text/event-stream"},
                                  timeout=(ctx.limits().connect_timeout, STALL_BEATS * heartbeat))
        except requests.RequestException as exc:
            self._attempt_failed(feed, f"{url}: {type(exc).__name__}: {exc}")
            return False
        if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith("text/event-stream"):
            refused = refusal(response)
            response.close()
            self._attempt_failed(feed, refused.message, refused.http_status)
            return False
        self._failing = None
        self._response = response
        ctx.run = self._open_run(feed)
        log.info("feed %s: following %s from event %s", feed.name, url, position(feed))
        applier = Applier(feed, self.settings)
        opened = time.monotonic()
        status, error = self._read(ctx, applier, response, heartbeat)
        self._response = None
        with contextlib.suppress(Exception):
            response.close()
        self._close_run(ctx, applier, status, error)
        return status != store.FAILED and time.monotonic() - opened >= STEADY_SECONDS

    def _read(self, ctx: RunContext, applier: Applier, response: requests.Response,
              heartbeat: float) -> tuple[str, str | None]:
        """Apply what the connection brings until it ends; the run's status and error."""
        at = position(ctx.feed)
        try:
            for message in sseclient.SSEClient(self._chunks(ctx, response)).events():
                seq = int(message.id) if message.id and message.id.isdigit() else None
                try:
                    data = orjson.loads(message.data)
                except orjson.JSONDecodeError:
                    data = message.data  # rejected by the applier, with its text
                if seq is None and isinstance(data, dict) and isinstance(data.get("seq"), int):
                    seq = data["seq"]
                if seq is not None and seq <= at:
                    continue  # applied already (a peer repeating itself): never twice
                at = max(at, seq or 0)
                ctx.run.bytes += len(message.data)
                commit(ctx, applier, [(data, seq)], at)
                if self.stopped.is_set():
                    break
        except StopRun as stop:
            return stop.status, stop.message
        except requests.RequestException as exc:
            if self.stopped.is_set():
                return store.OK, None
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, ReadTimeoutError) or "timed out" in str(exc):
                return store.INTERRUPTED, (f"the connection stalled: nothing for {STALL_BEATS * heartbeat:g} s "
                                           f"({STALL_BEATS} of the peer's heartbeats); reconnecting from event {at}")
            return store.INTERRUPTED, f"the connection dropped ({type(exc).__name__}: {exc}); reconnecting from event {at}"
        except Exception as exc:  # applying failed (a database outage, a bug): nothing of that event landed
            if self.stopped.is_set():
                return store.OK, None
            log.exception("feed %s: following failed", ctx.feed.name)
            return store.FAILED, f"internal error: {type(exc).__name__}: {exc}; reconnecting from event {at}"
        if self.stopped.is_set():
            return store.OK, None
        return store.INTERRUPTED, f"the peer ended the stream; reconnecting from event {at}"

    def _chunks(self, ctx: RunContext, response: requests.Response) -> Iterator[bytes]:
        """The body as it comes; the lease renewed as bytes (events, heartbeats) arrive."""
        for chunk in response.iter_content(chunk_size=READ_BYTES):
            if self.stopped.is_set():
                return
            if time.monotonic() - self._renewed >= self.settings.feed_lease_seconds / 3:
                with self.db.write() as conn:
                    if not store.renew_lease(conn, ctx.feed.id, self.owner, ctx.lease_until):
                        raise StopRun(store.FAILED, "the feed's lease was taken over by another process")
                self._renewed = time.monotonic()
            yield chunk

    # -- run rows ------------------------------------------------------------------------------
    def _open_run(self, feed: store.FeedRow) -> RunResult:
        now = utcnow()
        with self.db.write() as conn:
            store.interrupt_stale_runs(conn, feed.id, now)
            run_id = store.insert_run(conn, feed.id, TRIGGER, now)
            store.update_run(conn, run_id, http_status=200)
        self._renewed = time.monotonic()
        return RunResult(id=run_id, feed=feed.name, trigger=TRIGGER, started=now, http_status=200)

    def _close_run(self, ctx: RunContext, applier: Applier, status: str, error: str | None) -> None:
        run = ctx.run
        take_counts(run, applier)
        run.status, run.finished = status, utcnow()
        run.duration = (run.finished - run.started).total_seconds()
        run.error = " ".join(error.split())[:MAX_ERROR] if error else None
        with self.db.write() as conn:
            store.update_run(conn, run.id, status=run.status, finished=run.finished, duration=run.duration,
                             error=run.error, **run.counts())
        if applier.report.held_values:
            audit_held(ctx, applier.report.held_values)
        log.info("feed %s: connection closed (%s), %s events, %s new, %s updated, %s ended%s", ctx.feed.name, status,
                 run.rows, run.new, run.updated, run.expired, f": {run.error}" if run.error else "")

    def _attempt_failed(self, feed: store.FeedRow, message: str, http_status: int | None = None) -> None:
        """A connection that could not be opened: the failed run of the attempts in a row."""
        now = utcnow()
        with self.db.write() as conn:
            if self._failing is None:
                store.interrupt_stale_runs(conn, feed.id, now)
                self._failing = (store.insert_run(conn, feed.id, TRIGGER, now), now, 0)
            run_id, since, attempts = self._failing
            attempts += 1
            self._failing = (run_id, since, attempts)
            error = message if attempts == 1 else f"{message} ({attempts} attempts since {iso(since)})"
            store.update_run(conn, run_id, status=store.FAILED, finished=now, duration=(now - since).total_seconds(),
                             error=" ".join(error.split())[:MAX_ERROR], http_status=http_status)
        log.warning("feed %s: could not follow: %s", feed.name, message)
