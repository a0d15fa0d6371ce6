"""APScheduler 3 jobs built from the feed table: ``registry scheduler``, or ``serve --scheduler``.

The database is the source of truth: every ``REGISTRY_SCHEDULER_REFRESH_SECONDS`` the job
list is rebuilt from the feed table, so ``registry feeds sync`` (a new feed, a changed
schedule, a feed disabled) takes effect without a restart. One job per enabled feed, with
``coalesce`` (runs missed while the process was paused become one), ``max_instances=1`` and
a misfire grace time.

Several schedulers may run against one database (one per host, or by mistake): each run takes
the feed's lease and, under it, checks that the feed is still due, so a feed runs once per
due time however many schedulers fire it. A feed overdue at start-up (never run, or the
scheduler was down past its time) runs at once.

A ``registry-stream`` feed is followed, not run: one ``services.stream_follower.Follower`` thread
per enabled feed of that format, started and stopped as the feed table changes (a changed
definition restarts it, one that died is started again), each under the feed's lease, so several
schedulers on one database follow each feed once (docs/feeds.md, "Registry streams").

Every ``REGISTRY_CHECKPOINT_MINUTES`` (0: never) it also signs a checkpoint of the audit chain's
head (``services.audit_checkpoints``; docs/security.md, "Audit checkpoints"), unless another
scheduler sharing the database took one within the interval. Daily it records the assertions
whose review date passed and purges history older than ``REGISTRY_RETENTION_DAYS``
(``services.review``; docs/design.md, "Listed means in force"); hourly it flags overdue
disputes (``services.disputes``). A thread of its own delivers webhooks (``services.dispatch``:
woken by new events, retrying with back-off; several schedulers share the work by leases).

On SIGTERM the running feeds stop after the batch in hand (that batch is committed), the
followers after the event in hand, then the process exits.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from registry import config
from registry.config import Settings
from registry.domain.schedules import is_due, parse_schedule
from registry.domain.times import utcnow
from registry.ingest.catalogue import STREAM
from registry.services import audit_checkpoints
from registry.services.dispatch import Dispatcher
from registry.services.feed_runs import run_feed
from registry.services.stream_follower import Follower
from registry.storage import feeds as store
from registry.storage.db import Database

log = logging.getLogger(__name__)
REFRESH_JOB = "registry:refresh-feeds"
REVIEW_JOB = "registry:review"  # daily: review ends recorded, ended history purged (services.review)
CHECKPOINT_JOB = "registry:audit-checkpoint"
DISPUTES_JOB = "registry:flag-disputes"
DISPUTES_SECONDS = 3600  # how often overdue disputes are looked for (REGISTRY_DISPUTE_DAYS counts days)
WORKERS = 2  # feeds run at once (SQLite serialises their batches anyway)


def trigger_for(schedule: str, last_started: datetime | None):
    parsed = parse_schedule(schedule)
    if parsed.seconds is not None:
        # Aligned on the last run, so a restart keeps the rhythm instead of starting it anew.
        start = last_started or utcnow()
        return IntervalTrigger(seconds=parsed.seconds, start_date=start + timedelta(seconds=parsed.seconds),
                               timezone=UTC)
    return CronTrigger.from_crontab(parsed.cron, timezone=UTC)


def _job(failure: str):
    """A periodic job: an exception (a database hiccup) is logged as ``failure`` and the job
    answers None; its next run tries again."""
    def decorate(method):
        @functools.wraps(method)
        def job(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception:
                log.exception(failure)
        return job
    return decorate


class FeedScheduler:
    def __init__(self, db: Database, *, settings: Settings | None = None) -> None:
        self.db = db
        self.settings = settings = config.given_or_loaded(settings)
        self.stopping = threading.Event()
        self.refresh_seconds = settings.scheduler_refresh_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(WORKERS)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(settings.scheduler_misfire_seconds)},
        )
        self._jobs: dict[str, str] = {}  # feed name → the schedule its job was built with
        self._followers: dict[str, tuple[Follower, str]] = {}  # registry-stream feed → (follower, definition)
        self._lock = threading.Lock()
        self.dispatcher = Dispatcher.from_settings(db, settings, on_disabled=self._webhook_disabled)

    # -- jobs from the feed table --------------------------------------------------------------
    def refresh(self) -> dict[str, list[str]]:
        """Bring the jobs in line with the feed table; what was added, changed, removed."""
        with self.db.read() as conn:
            feeds = [(f, store.last_started(conn, f.id)) for f in store.all_feeds(conn) if f.enabled]
        now = utcnow()
        changes: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
        with self._lock:
            self._follow([f for f, _ in feeds if f.format == STREAM], changes)
            feeds = [(f, last) for f, last in feeds if f.format != STREAM]
            wanted = {f.name for f, _ in feeds}
            for name in sorted(set(self._jobs) - wanted):
                self.scheduler.remove_job(name)
                del self._jobs[name]
                changes["removed"].append(name)
            for feed, last in feeds:
                if self._jobs.get(feed.name) == feed.schedule:
                    continue
                changes["changed" if feed.name in self._jobs else "added"].append(feed.name)
                kwargs = {}
                if is_due(feed.schedule, last, now):
                    kwargs["next_run_time"] = now
                self.scheduler.add_job(self._run, trigger_for(feed.schedule, last), args=(feed.name,), id=feed.name,
                                       name=f"feed {feed.name}", replace_existing=True, **kwargs)
                self._jobs[feed.name] = feed.schedule
        for what, names in changes.items():
            if names:
                log.info("scheduler: %s %s", what, ", ".join(names))
        return changes

    def _follow(self, feeds: list[store.FeedRow], changes: dict[str, list[str]]) -> None:
        """One follower per enabled registry-stream feed: a changed definition (or a follower that
        died) restarts it, a feed gone or disabled stops it."""
        wanted = {f.name: f.definition_hash for f in feeds}
        restarted = set()
        for name in sorted(self._followers):
            follower, digest = self._followers[name]
            if wanted.get(name) == digest and follower.alive:
                continue
            follower.stop()
            del self._followers[name]
            if name in wanted:
                restarted.add(name)
            else:
                changes["removed"].append(name)
        for name, digest in wanted.items():
            if name in self._followers or self.stopping.is_set():
                continue
            follower = Follower(self.db, name, settings=self.settings)
            follower.start()
            self._followers[name] = (follower, digest)
            changes["changed" if name in restarted else "added"].append(name)

    @_job("scheduler: the daily review job failed")
    def review(self) -> dict | None:
        """The daily review job (``services.review.daily``): record the assertions ended by their
        review date, and with REGISTRY_RETENTION_DAYS purge old history, audited."""
        from registry.services.audit import AuditLog
        from registry.services.review import daily

        audit = AuditLog(self.db, synchronous=True)
        try:
            return daily(self.db, retention_days=self.settings.retention_days, relist_days=self.settings.relist_days,
                         record=lambda subject, n: audit.record("review-purge", actor="scheduler", subject=subject,
                                                                result_count=n, client="scheduler"))
        finally:
            audit.close()

    # keep the jobs we have on a database hiccup
    _refresh_quietly = _job("scheduler: could not read the feed table")(refresh)

    def _run(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            result = run_feed(self.db, name, trigger="schedule", only_if_due=True, should_stop=self.stopping.is_set,
                              settings=self.settings)
        except Exception:
            log.exception("feed %s: the scheduled run could not start", name)
            return
        if result is None:
            log.debug("feed %s: not run (disabled, running elsewhere, or run elsewhere since it fell due)", name)
            return
        log.info("feed %s: %s, %s rows, %s new, %s updated, %s unchanged, %s expired, %s rejected%s%s", name,
                 result.status, result.rows, result.new, result.updated, result.unchanged, result.expired,
                 result.rejected, f" ({result.error})" if result.error else "",
                 f" [anomaly: {result.anomaly}]" if result.anomaly else "")

    # -- signed audit checkpoints ---------------------------------------------------------------
    @_job("audit checkpoint: could not be taken")
    def checkpoint(self, now: datetime | None = None) -> dict | None:
        """The checkpoint job: sign the audit chain's head if one is due; the checkpoint, or
        None when none was due (or it failed: logged, tried again at the next interval)."""
        taken = audit_checkpoints.take_if_due(self.db, self.settings.instance_path,
                                              self.settings.checkpoint_minutes, now=now)
        if taken is not None:
            log.info("audit checkpoint: row %s, hash %s", taken["seq"], taken["hash"])
        return taken

    @_job("scheduler: could not flag overdue disputes")
    def _flag_disputes(self) -> None:
        """Flag overdue disputes to the orgs still to decide (``registry disputes flag``)."""
        from registry.services.audit import AuditLog
        from registry.services.disputes import flag_overdue, record_flags

        result = flag_overdue(self.db, self.settings.dispute_days)
        if result["flagged"] or result["closed"]:
            audit = AuditLog(self.db, synchronous=True)
            record_flags(audit, result, actor="scheduler")
            audit.close()
            log.info("disputes: %s flagged overdue, %s closed", len(result["flagged"]), len(result["closed"]))

    def _webhook_disabled(self, hook, reason: str) -> None:
        """Audit a webhook the dispatcher disabled (its org hears of it by a webhook.disabled event)."""
        from registry.services.audit import AuditLog

        audit = AuditLog(self.db, synchronous=True)
        try:
            audit.record("webhook-disabled", org=hook.org, actor="scheduler", client="scheduler",
                         subject={"id": hook.uid, "url": hook.url, "reason": reason})
        finally:
            audit.close()

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> int:
        """Start the jobs; how many feeds are scheduled."""
        self.scheduler.start()
        self.refresh()
        self.scheduler.add_job(self._refresh_quietly, IntervalTrigger(seconds=self.refresh_seconds, timezone=UTC),
                               id=REFRESH_JOB, name="re-read the feed table", replace_existing=True)
        self.scheduler.add_job(self.review, IntervalTrigger(days=1, timezone=UTC), id=REVIEW_JOB,
                               name="review dates and retention", replace_existing=True, next_run_time=utcnow())
        minutes = self.settings.checkpoint_minutes
        if minutes:  # the first at once when due (none yet, or the last is an interval old)
            self.scheduler.add_job(self.checkpoint, IntervalTrigger(minutes=minutes, timezone=UTC), id=CHECKPOINT_JOB,
                                   name="sign the audit chain's head", replace_existing=True, next_run_time=utcnow())
        self.scheduler.add_job(self._flag_disputes, IntervalTrigger(seconds=DISPUTES_SECONDS, timezone=UTC),
                               id=DISPUTES_JOB, name="flag overdue disputes", replace_existing=True,
                               next_run_time=utcnow())
        self.dispatcher.start()
        return len(self._jobs) + len(self._followers)

    def stop(self) -> None:
        """Ask running feeds to stop after their current batch, the followers after the event in
        hand, and wait for them."""
        self.stopping.set()
        self.dispatcher.stop()
        with self._lock:
            followers = [follower for follower, _ in self._followers.values()]
            self._followers.clear()
        for follower in followers:  # all asked first: they stop together
            follower.stopped.set()
        for follower in followers:
            follower.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
