"""One run of a feed: lease, fetch, check, parse, submit in batches, expire, record.

The order of a run, and why:
1. **Lease** (one short transaction): the feed row's lease is taken, so no other process runs
   the feed at the same time, and a ``running`` FeedRun row is written. A lease whose holder
   died on this host (its pid is gone) is taken over at once; one held elsewhere expires
   after ``REGISTRY_FEED_LEASE_SECONDS`` without renewal.
2. **Fetch** to a spool file (``ingest.fetch``): conditional, limited, retried, decoded and
   checked whole. A 304 (or an unchanged file) ends the run here as ``not-modified``.
3. **Check** the body's start against the format: an HTML error page, binary data or a body
   in another format fails the run with that reason before anything is written.
4. **Parse and submit**, streamed: the ``Submitter`` upserts steps of ``UPSERT_STEP`` values,
   and each batch of ``batch_size`` rows commits in its own transaction together with the
   run's counts and the lease's renewal. A run killed mid-way leaves whole batches only (and a run row that
   the next lease-taker marks ``interrupted``); the next run reads the feed again and
   completes the work. On SIGTERM (``should_stop``) the run stops after the batch in hand.
5. **Finish** (one transaction): the anomaly guard compares the row count with the median of
   recent runs; in ``snapshot`` mode, unless the run is anomalous, assertions of the feed
   that the run did not see get ``valid_until`` (they stop counting, and stay for history);
   the fetch state (ETag, Last-Modified, TAXII/MISP position) is saved only now, so a failed
   or interrupted run is fetched again in full next time; the run row gets its figures and
   the lease is released.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from registry import config
from registry.domain.times import iso, utcnow
from registry.ingest import catalogue, detect
from registry.ingest.fetch import Fetched, FetchError, Limits, fetch
from registry.ingest.records import FeedFormatError
from registry.ingest.textio import check_head
from registry.services.errors import Conflict, Invalid, NotFound, RegistryError
from registry.storage import feeds as store
from registry.storage import orgs as org_store
from registry.storage.db import Database

if TYPE_CHECKING:  # the submit path loads normalisation (phonenumbers...): only for runs that read rows
    from registry.services.submit import Provenance, SubmitReport, Submitter

log = logging.getLogger(__name__)

#: The anomaly guard: a run is flagged when its row count is under LOW or over HIGH times
#: the median of the feed's last BASELINE_RUNS complete runs (once they had MIN_MEDIAN rows).
LOW, HIGH, BASELINE_RUNS, MIN_MEDIAN = 0.10, 10.0, 5, 10
DUE_SLACK = timedelta(seconds=5)
_JSON_ARRAY = re.compile(rb'\[\s*[\[{"\]]')  # not a list starting `[2001:db8::1]:443`
MAX_ERROR = 2000
UPSERT_STEP = 20_000  # values per upsert within a batch

Progress = Callable[[str, int, int | None], None]  # (what, done, total)


class FeedBusy(Conflict):
    """Another process holds the feed's lease."""

    code = "feed_running"


class FeedDisabled(Invalid):
    code = "feed_disabled"


class _Stop(Exception):
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
            "rejected": self.rejected, "duration": None if self.duration is None else round(self.duration, 3),
            "error": self.error, "anomaly": self.anomaly, "rejects": self.rejects,
        }

    @classmethod
    def from_row(cls, row, feed: str) -> RunResult:
        return cls(
            id=row.id, feed=feed, trigger=row.trigger, started=row.started, status=row.status,
            finished=row.finished, http_status=row.http_status, bytes=row.bytes, rows=row.rows, new=row.new,
            updated=row.updated, unchanged=row.unchanged, expired=row.expired, allowlisted=row.allowlisted,
            rejected=row.rejected, duration=row.duration, error=row.error, anomaly=row.anomaly,
            rejects=json.loads(row.rejects or "[]"),
        )

    def take(self, report: SubmitReport) -> None:
        for name in ("new", "updated", "unchanged", "allowlisted", "rejected"):
            setattr(self, name, getattr(report, name))
        self.rejects = [r.to_dict() for r in report.rejects]

    def counts(self) -> dict:
        return {name: getattr(self, name) for name in store.RUN_COUNTS} | {
            "http_status": self.http_status, "rejects": self.rejects}


# -- due, lease ------------------------------------------------------------------------------
def next_due(schedule: str, after: datetime) -> datetime | None:
    """When a feed last run at ``after`` falls due again by its schedule."""
    parsed = catalogue.parse_schedule(schedule)
    if parsed.seconds is not None:
        return after + timedelta(seconds=parsed.seconds)
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(parsed.cron, timezone="UTC")
    return trigger.get_next_fire_time(None, after + timedelta(seconds=1))


def is_due(schedule: str, last_started: datetime | None, now: datetime, *, firing: bool = False) -> bool:
    """Whether a feed last run at ``last_started`` is due by its schedule at ``now``.

    ``firing``: a scheduler's job fired for it, perhaps late (busy threads, a paused process)
    or for a time another scheduler already served. Then it is due once half a period has
    passed since the last run: a late job is never skipped, and a second scheduler firing
    for the same time finds the run that just started."""
    if last_started is None:
        return True
    following = next_due(schedule, last_started)
    if following is None:
        return False
    if not firing:
        return following <= now + DUE_SLACK
    after = next_due(schedule, following)
    period = (after - following) if after is not None else (following - last_started)
    return now - last_started >= period / 2


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _holder_is_dead(owner: str | None) -> bool:
    """A lease held by a process of this host that no longer exists (killed, crashed)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _lease_seconds(settings: dict | None) -> float:
    return float(config.get("FEED_LEASE_SECONDS", settings))


# -- the run ---------------------------------------------------------------------------------
@dataclass
class _Context:
    db: Database
    feed: store.FeedRow
    run: RunResult
    owner: str
    settings: dict | None
    progress: Progress | None
    should_stop: Callable[[], bool] | None
    state: dict = field(default_factory=dict)  # etag, last_modified, cursor to save on success

    @property
    def lease_until(self) -> datetime:
        return utcnow() + timedelta(seconds=_lease_seconds(self.settings))


def run_feed(db: Database, name: str, *, trigger: str = "cli", progress: Progress | None = None,
             should_stop: Callable[[], bool] | None = None, only_if_due: bool = False,
             settings: dict | None = None) -> RunResult | None:
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

    ctx: _Context

    @property
    def run(self) -> RunResult:
        return self.ctx.run

    def finish(self) -> RunResult:
        ctx = self.ctx
        clock = time.monotonic()
        try:
            _run(ctx)
        except _Stop as stop:
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
              settings: dict | None = None) -> StartedRun | None:
    """Step 1 of a run (see the module docstring): the lease and the run row."""
    owner = lease_owner()
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
        until = started + timedelta(seconds=_lease_seconds(settings))
        taken = store.take_lease(conn, feed.id, owner, started, until)
        if not taken and _holder_is_dead(feed.lease_owner):
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
    return StartedRun(_Context(db, feed, RunResult(id=run_id, feed=name, trigger=trigger, started=started), owner,
                               settings, progress, should_stop))


def _fail(ctx: _Context, status: str, message: str, clock: float) -> None:
    run = ctx.run
    run.status, run.error = status, " ".join(str(message).split())[:MAX_ERROR]
    run.finished = utcnow()
    run.duration = time.monotonic() - clock
    with ctx.db.write() as conn:
        store.update_run(conn, run.id, status=run.status, error=run.error, finished=run.finished,
                         duration=run.duration, **run.counts())
        store.release_lease(conn, ctx.feed.id, ctx.owner)


def _provenance(feed: store.FeedRow) -> Provenance:
    from registry.services.submit import Provenance, clean_labels

    options = feed.options
    return Provenance(
        org=feed.provider, feed=feed.name, tlp=feed.tlp, confidence=feed.confidence,
        labels=clean_labels(feed.labels), region=options.get("region", "").upper() or None,
        kind=options.get("kind"),
        external_ref=feed.url if feed.url.startswith(("http://", "https://")) else None,
    )


def _headers(feed: store.FeedRow) -> dict:
    env = feed.options.get("auth_header_env")
    if not env:
        return {}
    value = os.environ.get(env)
    if not value:
        raise Invalid(f"feed {feed.name!r} needs the environment variable {env} (auth_header_env), which is not set")
    return {feed.options.get("auth_header", "Authorization"): value}


def _limits(feed: store.FeedRow, settings: dict | None) -> Limits:
    o = feed.options
    default = Limits()
    max_mb = o.get("max_mb", float(config.get("FEED_MAX_MB", settings)))
    return Limits(
        connect_timeout=float(o.get("connect_timeout", default.connect_timeout)),
        read_timeout=float(o.get("read_timeout", default.read_timeout)),
        total_timeout=float(o.get("total_timeout", default.total_timeout)),
        max_bytes=int(max_mb * (1 << 20)), retries=int(o.get("retries", default.retries)),
        backoff=float(o.get("backoff", default.backoff)),
    )


def _run(ctx: _Context) -> None:
    feed = ctx.feed
    with ctx.db.read() as conn:
        if org_store.get(conn, feed.provider) is None:
            raise NotFound(f"feed {feed.name!r}: its provider org {feed.provider!r} does not exist "
                           "(`registry feeds sync` adds it)")
    if feed.format == "taxii":
        _run_taxii(ctx)
    elif feed.format == "misp":
        _run_misp(ctx)
    else:
        _run_body(ctx)


def _not_modified(ctx: _Context, fetched: Fetched) -> None:
    run = ctx.run
    run.status, run.http_status, run.finished = store.NOT_MODIFIED, fetched.http_status, utcnow()
    run.duration = (run.finished - run.started).total_seconds()
    with ctx.db.write() as conn:
        store.update_run(conn, run.id, status=run.status, finished=run.finished, duration=run.duration,
                         **run.counts())
        store.release_lease(conn, ctx.feed.id, ctx.owner)


def check_body(head: bytes, fmt: str, *, name: str) -> None:
    """Refuse a body that is not in the feed's format (``FeedFormatError`` saying what it is)."""
    check_head(head, name=name)  # binary data, UTF-16, an HTML page
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    looks_json = text[:1] == b"{" or _JSON_ARRAY.match(text) is not None
    if fmt in ("text", "csv"):
        if looks_json:
            raise FeedFormatError(f"the body is JSON, not a {fmt} feed", name=name)
        if text[:1] == b"<":
            raise FeedFormatError(f"the body is XML or markup, not a {fmt} feed", name=name)
        return
    if fmt in ("json", "jsonl", "stix") and text and not looks_json:
        raise FeedFormatError(f"the body is not JSON, so not a {fmt} feed", name=name)
    if fmt == "stix" and text:
        detected = detect.detect_format(head, name=name)
        if detected != "stix":
            raise FeedFormatError(f"the body is {detected}, not a STIX bundle", name=name)


class _Batches:
    """Per-batch commits on the run's connection: each batch lands with the run's counts so
    far and the lease renewed, in one transaction."""

    def __init__(self, ctx: _Context, conn, size: int) -> None:
        self.ctx, self.conn, self.size = ctx, conn, size
        self.rows = 0
        self.committed = 0  # rows read when the last batch committed

    def count(self, rows: int) -> None:
        self.rows += rows

    def __call__(self, submitter: Submitter):
        """After the Submitter's flush: when a batch's worth of rows has been read since the last
        commit, the counts, taken now, and the commit, to run once the writes are done."""
        if self.rows - self.committed < self.size:
            return None
        self.committed = self.rows
        ctx, run = self.ctx, self.ctx.run
        report = submitter.report
        counts = {name: getattr(report, name) for name in ("new", "updated", "unchanged", "allowlisted", "rejected")}
        rejects = [r.to_dict() for r in report.rejects]
        rows = self.rows

        def commit() -> None:
            if not store.renew_lease(self.conn, ctx.feed.id, ctx.owner, ctx.lease_until):
                raise _Stop(store.FAILED, "the feed's lease was taken over by another process (this one was "
                                          "thought dead): its last batch was not committed")
            for name, value in counts.items():
                setattr(run, name, value)
            run.rejects, run.rows = rejects, rows
            store.update_run(self.conn, run.id, **run.counts())
            self.conn.commit()  # the next statement begins the next batch's transaction
            if ctx.should_stop is not None and ctx.should_stop():
                raise _Stop(store.INTERRUPTED, f"stopped on request after {rows:,} rows (the batches read are "
                                               "kept; the next run reads the feed again)")

        return commit


def _batch_size(ctx: _Context) -> int:
    return int(ctx.feed.options.get("batch_size") or config.get("FEED_BATCH_SIZE", ctx.settings))


def _submitter(ctx: _Context, conn, batches: _Batches, *, parallel: bool) -> Submitter:
    from registry.services.submit import Submitter

    # Upserts go in steps of at most UPSERT_STEP values (memory stays flat); a transaction
    # holds a whole batch: each commit writes the index pages its rows touched to the WAL
    # again, which at 20,000-value commits cost a feed run a sixth of its time.
    return Submitter(conn, _provenance(ctx.feed), now=ctx.run.started, batch_size=min(batches.size, UPSERT_STEP),
                     on_batch=batches, background_writes=parallel)


def _finish(ctx: _Context, conn, report: SubmitReport | None, rows: int) -> None:
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
    run.status, run.finished = store.OK, utcnow()
    run.duration = (run.finished - run.started).total_seconds()
    store.update_run(conn, run.id, status=run.status, finished=run.finished, duration=run.duration,
                     anomaly=run.anomaly, **run.counts())
    store.save_state(conn, feed.id, **ctx.state)
    store.release_lease(conn, feed.id, ctx.owner)
    conn.commit()


def anomaly(rows: int, baseline: list[int]) -> str | None:
    """Why ``rows`` looks wrong beside the recent runs' counts, or None."""
    if not baseline:
        return None
    median = statistics.median(baseline)
    if median < MIN_MEDIAN:
        return None
    if rows < LOW * median:
        what = "an empty feed" if rows == 0 else f"{rows:,} rows"
        return f"{what} against a median of {median:,.0f} over the last {len(baseline)} runs: nothing expired"
    if rows > HIGH * median:
        return f"{rows:,} rows against a median of {median:,.0f} over the last {len(baseline)} runs"
    return None


def _write_conn(db: Database):
    """A connection whose transactions are write transactions (BEGIN IMMEDIATE on SQLite)."""
    return db.engine.connect().execution_options(registry_write=True)


def _run_body(ctx: _Context) -> None:
    """text, csv, jsonl, json and stix: one body."""
    feed, run = ctx.feed, ctx.run
    options = feed.options
    with fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified, headers=_headers(feed),
               limits=_limits(feed, ctx.settings), member=options.get("member")) as fetched:
        run.http_status, run.bytes = fetched.http_status, fetched.wire_bytes
        if fetched.not_modified:
            ctx.state = {"etag": feed.etag, "last_modified": feed.last_modified, "cursor": feed.cursor}
            _not_modified(ctx, fetched)
            return
        check_body(fetched.head(), feed.format, name=feed.name)
        ctx.state = {"etag": fetched.etag, "last_modified": fetched.last_modified, "cursor": feed.cursor}
        if feed.format == "stix":
            _submit_stix(ctx, fetched)
            return
        from registry.services import imports

        parallel = fetched.size > imports.PARALLEL_BYTES and (os.cpu_count() or 1) > 1
        on_bytes = None
        if ctx.progress is not None:
            done = [0]

            def on_bytes(n: int) -> None:
                done[0] += n
                ctx.progress("rows", done[0], fetched.size)

        csv_options = {k: options[k] for k in ("columns", "delimiter", "has_header", "value_path") if k in options}
        with fetched.open() as raw, _write_conn(ctx.db) as conn:
            stream = io.BufferedReader(imports.CountingReader(raw, on_bytes), 1 << 16)
            batches = _Batches(ctx, conn, _batch_size(ctx))
            with _submitter(ctx, conn, batches, parallel=parallel) as submitter:
                report = imports.run_import(submitter, stream, feed.format, name=feed.name, column=options.get("column"),
                                            parallel=parallel, kinds=options.get("kinds"), on_rows=batches.count,
                                            **csv_options)
            _finish(ctx, conn, report, batches.rows)


def _submit_stix(ctx: _Context, fetched: Fetched) -> None:
    """A STIX bundle, read whole, through the STIX importer in the run's final transaction.
    Objects naming no org of this registry are the provider's; orgs are never created from
    feed data."""
    from registry.services.submit import clean_labels
    from registry.stix.importer import import_bundle

    feed = ctx.feed
    data = fetched.path.read_bytes()
    with _write_conn(ctx.db) as conn:
        try:
            report = import_bundle(conn, data, default_org=feed.provider, tlp=feed.tlp, confidence=feed.confidence,
                                   labels=clean_labels(feed.labels), feed=feed.name, create_orgs=False,
                                   keep_results=False, now=ctx.run.started)
        except Invalid as exc:
            raise FeedFormatError(exc.message, name=feed.name) from None
        _finish(ctx, conn, report, report.indicators or report.read)


def _run_misp(ctx: _Context) -> None:
    """A MISP feed: the manifest, then the new or changed events (see ingest.misp)."""
    from registry.ingest import misp
    from registry.services.imports import to_submission

    feed, run = ctx.feed, ctx.run
    url = feed.url if feed.url.endswith(".json") else feed.url.rstrip("/") + "/manifest.json"
    root = url.rsplit("/", 1)[0] + "/"
    limits, headers = _limits(feed, ctx.settings), _headers(feed)
    with fetch(url, etag=feed.etag, last_modified=feed.last_modified, headers=headers, limits=limits) as fetched:
        run.http_status, run.bytes = fetched.http_status, fetched.wire_bytes
        if fetched.not_modified:
            ctx.state = {"etag": feed.etag, "last_modified": feed.last_modified, "cursor": feed.cursor}
            _not_modified(ctx, fetched)
            return
        check_head(fetched.head(), name="manifest.json")
        entries = misp.parse_manifest(fetched.path.read_bytes())
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    seen = json.loads(feed.cursor or "{}").get("events", {})
    todo = [e for e in entries if seen.get(e.uuid) != e.timestamp]
    done = {e.uuid: e.timestamp for e in entries if seen.get(e.uuid) == e.timestamp}
    to_ids_only = feed.options.get("to_ids_only", True)
    with _write_conn(ctx.db) as conn:
        batches = _Batches(ctx, conn, _batch_size(ctx))
        with _submitter(ctx, conn, batches, parallel=False) as submitter:
            for n, entry in enumerate(todo, start=1):
                try:
                    with fetch(root + entry.uuid + ".json", headers=headers, limits=limits) as event_file:
                        run.bytes += event_file.wire_bytes
                        event = misp.parse_event(event_file.path.read_bytes(), name=f"{entry.uuid}.json",
                                                 to_ids_only=to_ids_only)
                except (FetchError, FeedFormatError) as exc:
                    submitter.reject(None, f"event {entry.uuid}", str(exc))  # retried next run
                    continue
                batches.count(len(event.records))
                for record in event.records:
                    sub = to_submission(record)
                    sub.tlp = event.tlp
                    submitter.add(sub)
                done[entry.uuid] = entry.timestamp
                if ctx.progress is not None:
                    ctx.progress("events", n, len(todo))
            report = submitter.finish()
        ctx.state = {**validators, "cursor": json.dumps({"events": done}, separators=(",", ":"))}
        _finish(ctx, conn, report, batches.rows)


def _run_taxii(ctx: _Context) -> None:
    """A TAXII 2.1 collection from the stored ``added_after`` position (services.federation)."""
    from registry.services.federation import PullFailed, pull_collection
    from registry.services.submit import SubmitReport

    feed, run = ctx.feed, ctx.run
    headers = _headers(feed)

    def on_page(counts: dict) -> None:
        run.rows, run.new, run.updated = counts["read"], counts["new"], counts["updated"]
        run.unchanged, run.allowlisted, run.rejected = counts["unchanged"], counts["allowlisted"], counts["rejected"]
        with ctx.db.write() as conn:
            store.update_run(conn, run.id, **run.counts())
            store.renew_lease(conn, feed.id, ctx.owner, ctx.lease_until)
        if ctx.should_stop is not None and ctx.should_stop():
            raise _Stop(store.INTERRUPTED, "stopped on request; the next run pulls again from the saved position")

    try:
        counts, cursor = pull_collection(ctx.db, feed.url, feed.options["collection"], since=feed.cursor,
                                         org=feed.provider, feed=feed.name, headers=headers, on_page=on_page)
    except PullFailed as exc:
        raise FetchError(exc.message) from None
    run.http_status = 200
    ctx.state = {"etag": None, "last_modified": None, "cursor": cursor}
    with _write_conn(ctx.db) as conn:
        report = SubmitReport(read=counts["read"], new=counts["new"], updated=counts["updated"],
                              unchanged=counts["unchanged"], allowlisted=counts["allowlisted"],
                              rejected=counts["rejected"])
        _finish(ctx, conn, report, counts["read"])

