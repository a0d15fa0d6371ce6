"""One run of a feed: lease, fetch, check, parse, submit in batches, expire, record.

This module holds the run itself: the lease, the run's context, its start and finish, its
figures. Each protocol's runner (one body over http(s) or file, MISP, TAXII) is a module of
``services.feed_runners``; when a feed is due is ``domain.schedules``, and the anomaly rule
``domain.feed_anomaly``.

The order of a run, and why:
1. **Lease** (one short transaction): the feed row's lease is taken, so no other process runs
   the feed at the same time, and a ``running`` FeedRun row is written. A lease whose holder
   died on this host (its pid is gone) is taken over at once; one held elsewhere expires
   after ``REGISTRY_FEED_LEASE_SECONDS`` without renewal.
2. **Fetch** to a spool file (``ingest.fetch``): conditional, limited, retried, decoded and
   checked whole. A 304 (or an unchanged file) ends the run here as ``not-modified``.
3. **Check** the body's start against the format: an HTML error page, binary data or a body
   in another format fails the run with that reason before anything is written.
4. **Parse and submit**, streamed: the ``Submitter`` upserts steps of ``UPSERT_STEP`` values
   (``feed_runners.batches``), and each batch of ``batch_size`` rows commits in its own
   transaction together with the run's counts and the lease's renewal. A run killed mid-way
   leaves whole batches only (and a run row that the next lease-taker marks
   ``interrupted``); the next run reads the feed again and completes the work. On SIGTERM
   (``should_stop``) the run stops after the batch in hand.
5. **Finish** (one transaction): the anomaly guard compares the row count with the median of
   recent runs; in ``snapshot`` mode, unless the run is anomalous, assertions of the feed
   that the run did not see get ``valid_until`` and ``end_reason`` ``snapshot`` (they end, and
   stay as history: docs/design.md, "Listed means in force");
   the fetch state (ETag, Last-Modified, TAXII/MISP position) is saved only now, so a failed
   or interrupted run is fetched again in full next time; the run row gets its figures and
   the lease is released.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from registry import config
from registry.config import Settings
from registry.domain.feed_anomaly import BASELINE_RUNS, anomaly
from registry.domain.schedules import is_due
from registry.domain.times import iso, utcnow
from registry.ingest.fetch import Fetched, FetchError, Limits
from registry.ingest.records import FeedFormatError
from registry.services import leases
from registry.services.errors import Conflict, Invalid, NotFound, RegistryError
from registry.services.feed_runners import runner_for
from registry.storage import feeds as store
from registry.storage import orgs as org_store
from registry.storage.db import Database

if TYPE_CHECKING:  # the submit path loads normalisation (phonenumbers...): only for runs that read rows
    from registry.services.submit import SubmitReport

log = logging.getLogger(__name__)

MAX_ERROR = 2000
SUBMIT_COUNTS = ("new", "updated", "unchanged", "allowlisted", "rejected", "held")  # a run's, from its SubmitReport

Progress = Callable[[str, int, int | None], None]  # (what, done, total)


class FeedBusy(Conflict):
    """Another process holds the feed's lease."""

    code = "feed_running"


class FeedDisabled(Invalid):
    code = "feed_disabled"


class StopRun(Exception):
    """SIGTERM (or a lost lease) between batches: end the run after the committed batch."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class RunResult:
    """A run's figures, as stored in its FeedRun row (``to_dict`` is the JSON shape of the
    CLI's ``feeds run --json`` and of the API)."""

    id: int
    feed: str
    trigger: str
    started: datetime
    status: str = store.RUNNING
    finished: datetime | None = None
    http_status: int | None = None
    bytes: int = 0
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    expired: int = 0
    allowlisted: int = 0
    rejected: int = 0
    held: int = 0  # reports of values delisted less than REGISTRY_RELIST_DAYS ago: not relisted
    duration: float | None = None
    error: str | None = None
    anomaly: str | None = None
    rejects: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in (store.FAILED, store.INTERRUPTED)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "feed": self.feed, "trigger": self.trigger, "status": self.status,
            "started": iso(self.started), "finished": iso(self.finished), "http_status": self.http_status,
            "bytes": self.bytes, "rows": self.rows, "read": self.rows, "new": self.new, "updated": self.updated,
            "unchanged": self.unchanged, "expired": self.expired, "allowlisted": self.allowlisted,
            "rejected": self.rejected, "held": self.held, "duration": None if self.duration is None else round(self.duration, 3),
            "error": self.error, "anomaly": self.anomaly, "rejects": self.rejects,
        }

    @classmethod
    def from_row(cls, row, feed: str) -> RunResult:
        return cls(
            id=row.id, feed=feed, trigger=row.trigger, started=row.started, status=row.status,
            finished=row.finished, http_status=row.http_status, bytes=row.bytes, rows=row.rows, new=row.new,
            updated=row.updated, unchanged=row.unchanged, expired=row.expired, allowlisted=row.allowlisted,
            rejected=row.rejected, held=row.held, duration=row.duration, error=row.error, anomaly=row.anomaly,
            rejects=json.loads(row.rejects or "[]"),
        )

    def take(self, report: SubmitReport) -> None:
        for name in SUBMIT_COUNTS:
            setattr(self, name, getattr(report, name))
        self.rejects = [r.to_dict() for r in report.rejects]

    def counts(self) -> dict:
        return {name: getattr(self, name) for name in store.RUN_COUNTS} | {
            "http_status": self.http_status, "rejects": self.rejects}


# -- the run ---------------------------------------------------------------------------------
@dataclass
class RunContext:
    """What a run's steps share: the feed row, the run's figures, the lease's owner, and the
    fetch state to save when the run succeeds."""

    db: Database
    feed: store.FeedRow
    run: RunResult
    owner: str
    settings: Settings
    progress: Progress | None
    should_stop: Callable[[], bool] | None
    state: dict = field(default_factory=dict)  # etag, last_modified, cursor to save on success

    @property
    def lease_until(self) -> datetime:
        return utcnow() + timedelta(seconds=self.settings.feed_lease_seconds)

    def headers(self) -> dict:
        """The request header holding the feed's credential, from the environment variable
        the catalogue names (secrets never live in the feed table)."""
        feed = self.feed
        env = feed.options.get("auth_header_env")
        if not env:
            return {}
        value = os.environ.get(env)
        if not value:
            raise Invalid(f"feed {feed.name!r} needs the environment variable {env} (auth_header_env), which is not set")
        return {feed.options.get("auth_header", "Authorization"): value}

    def limits(self) -> Limits:
        """The fetch's timeouts, size cap and retries: the feed's options over the defaults."""
        o = self.feed.options
        default = Limits()
        max_mb = o.get("max_mb", self.settings.feed_max_mb)
        return Limits(
            connect_timeout=float(o.get("connect_timeout", default.connect_timeout)),
            read_timeout=float(o.get("read_timeout", default.read_timeout)),
            total_timeout=float(o.get("total_timeout", default.total_timeout)),
            max_bytes=int(max_mb * (1 << 20)), retries=int(o.get("retries", default.retries)),
            backoff=float(o.get("backoff", default.backoff)),
        )


def run_feed(db: Database, name: str, *, trigger: str = "cli", progress: Progress | None = None,
             should_stop: Callable[[], bool] | None = None, only_if_due: bool = False,
             settings: Settings | None = None) -> RunResult | None:
    """Run one feed now; its RunResult (also when it failed: ``status`` says so).

    ``only_if_due`` (the scheduler): do nothing, and return None, when the feed is disabled
    or another process ran it since it fell due. Raises NotFound for an unknown feed,
    FeedDisabled for a disabled one (unless ``only_if_due``), FeedBusy when another process
    holds its lease.
    """
    started = start_run(db, name, trigger=trigger, progress=progress, should_stop=should_stop,
                        only_if_due=only_if_due, settings=settings)
    return None if started is None else started.finish()


@dataclass
class StartedRun:
    """A run whose lease is taken and whose row is written (``run``: status running);
    ``finish()`` does the work, here or on another thread (the API answers at once)."""

    ctx: RunContext

    @property
    def run(self) -> RunResult:
        return self.ctx.run

    def finish(self) -> RunResult:
        ctx = self.ctx
        clock = time.monotonic()
        try:
            _run(ctx)
        except StopRun as stop:
            _fail(ctx, stop.status, stop.message, clock)
        except (FetchError, FeedFormatError, RegistryError) as exc:
            if isinstance(exc, FetchError):
                ctx.run.http_status = exc.http_status or ctx.run.http_status
                ctx.run.bytes = max(ctx.run.bytes, exc.wire_bytes)
            _fail(ctx, store.FAILED, exc.message if isinstance(exc, RegistryError) else str(exc), clock)
        except Exception as exc:  # a bug or a database outage: recorded, never a half-written batch
            log.exception("feed %s: run %s failed", ctx.feed.name, ctx.run.id)
            _fail(ctx, store.FAILED, f"internal error: {type(exc).__name__}: {exc}", clock)
        except KeyboardInterrupt:
            _fail(ctx, store.INTERRUPTED, "interrupted (Ctrl-C); the batches committed are kept", clock)
            raise
        return ctx.run


def start_run(db: Database, name: str, *, trigger: str = "cli", progress: Progress | None = None,
              should_stop: Callable[[], bool] | None = None, only_if_due: bool = False,
              settings: Settings | None = None) -> StartedRun | None:
    """Step 1 of a run (see the module docstring): the lease and the run row. ``settings``:
    the caller's (the app's, the scheduler's), else the environment's."""
    settings = config.given_or_loaded(settings)
    owner = leases.owner()
    started = utcnow()
    with db.write() as conn:
        feed = store.get(conn, name)
        if feed is None:
            raise NotFound(f"no feed {name!r}: `registry feeds list` shows them; `registry feeds sync` loads "
                           "the catalogue", field="name")
        if not feed.enabled:
            if only_if_due:
                return None
            raise FeedDisabled(f"feed {name!r} is disabled: set enabled = true in its TOML and run "
                               "`registry feeds sync`", field="name")
        until = started + timedelta(seconds=settings.feed_lease_seconds)
        taken = store.take_lease(conn, feed.id, owner, started, until)
        if not taken and leases.holder_is_dead(feed.lease_owner):
            taken = store.take_lease(conn, feed.id, owner, started, until, replacing=feed.lease_owner)
        if not taken:
            if only_if_due:
                return None
            raise FeedBusy(f"feed {name!r} is being run by {feed.lease_owner} (lease until "
                           f"{iso(feed.lease_until)})", details={"lease_owner": feed.lease_owner})
        if only_if_due and not is_due(feed.schedule, store.last_started(conn, feed.id), started, firing=True):
            store.release_lease(conn, feed.id, owner)
            return None
        store.interrupt_stale_runs(conn, feed.id, started)
        run_id = store.insert_run(conn, feed.id, trigger, started)
    return StartedRun(RunContext(db, feed, RunResult(id=run_id, feed=name, trigger=trigger, started=started), owner,
                               settings, progress, should_stop))


def _fail(ctx: RunContext, status: str, message: str, clock: float) -> None:
    ctx.run.error = " ".join(str(message).split())[:MAX_ERROR]
    with ctx.db.write() as conn:
        _record_end(ctx, conn, status, duration=time.monotonic() - clock, error=ctx.run.error)


def _record_end(ctx: RunContext, conn, status: str, *, duration: float | None = None, **values) -> None:
    """The run row's status, end, duration and figures; the lease released."""
    run = ctx.run
    run.status, run.finished = status, utcnow()
    run.duration = (run.finished - run.started).total_seconds() if duration is None else duration
    store.update_run(conn, run.id, status=run.status, finished=run.finished, duration=run.duration,
                     **values, **run.counts())
    store.release_lease(conn, ctx.feed.id, ctx.owner)


def _run(ctx: RunContext) -> None:
    feed = ctx.feed
    with ctx.db.read() as conn:
        if org_store.get(conn, feed.provider) is None:
            raise NotFound(f"feed {feed.name!r}: its provider org {feed.provider!r} does not exist "
                           "(`registry feeds sync` adds it)")
    runner_for(feed.format)(ctx)


def ended_not_modified(ctx: RunContext, fetched: Fetched) -> bool:
    """Take the response's status and size into the run; on a 304 (or an unchanged file) end
    the run as ``not-modified`` (step 2 of the module docstring) and say so."""
    run = ctx.run
    run.http_status, run.bytes = fetched.http_status, fetched.wire_bytes
    if not fetched.not_modified:
        return False
    with ctx.db.write() as conn:
        _record_end(ctx, conn, store.NOT_MODIFIED)
    return True


def write_conn(db: Database):
    """A connection whose transactions are write transactions (BEGIN IMMEDIATE on SQLite)."""
    return db.engine.connect().execution_options(registry_write=True)


def finish_run(ctx: RunContext, conn, report: SubmitReport | None, rows: int) -> None:
    """The run's last transaction (see the module docstring, step 5)."""
    run, feed = ctx.run, ctx.feed
    if report is not None:
        run.take(report)
    run.rows = rows
    # Incremental feeds bring changes, whose number varies by nature: only a snapshot's row
    # count is the feed's size, comparable from run to run.
    if feed.mode == "snapshot":
        run.anomaly = anomaly(rows, store.recent_row_counts(conn, feed.id, limit=BASELINE_RUNS))
    if feed.mode == "snapshot" and run.anomaly is None:
        org = org_store.get(conn, feed.provider)
        run.expired = store.expire_vanished(conn, org.id, feed.name, run.started)
    store.save_state(conn, feed.id, **ctx.state)
    _record_end(ctx, conn, store.OK, anomaly=run.anomaly)
    conn.commit()
    if report is not None and report.held_values:
        audit_held(ctx, report.held_values)


def audit_held(ctx: RunContext, values: list[str]) -> None:
    """The reports the run held (docs/feeds.md, "Held reports"): one ``held`` event in the
    provider's audit rows, written now (after the run's commit: on SQLite a second writer would
    wait for it), whatever started the run."""
    from registry.services.audit import AuditLog

    log = AuditLog(ctx.db, synchronous=True)
    log.record("held", org=ctx.feed.provider, actor=f"feed:{ctx.feed.name}", result_count=len(values),
               subject={"feed": ctx.feed.name, "run": ctx.run.id, "values": values}, client=ctx.run.trigger)
    log.close()
