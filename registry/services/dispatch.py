"""The webhook dispatcher (docs/design.md, "Webhooks and the dispatcher"), run by ``registry
scheduler`` (and so ``serve --scheduler``).

Per webhook, at least once and in sequence order: an event is posted only after the one before it
was acknowledged (a 2xx), and ``position`` moves past it in the same transaction that records the
acknowledged attempt. A failed attempt (no answer, a status other than 2xx, a redirect) waits its
back-off (``domain.webhooks.Backoff``) and is tried again with the same delivery id; past
``REGISTRY_WEBHOOK_RETRY_HOURS`` of failing the webhook is disabled and a ``webhook.disabled``
event goes to its org.

Several dispatchers (schedulers) may share a database: each delivers a webhook only while it
holds the webhook's lease, and every record it makes is conditional on still holding it, so
each event is delivered once between them. A dispatcher killed mid-delivery leaves its lease to
run out (or to be taken over at once by a process of the same host that finds it dead): the next
holder resumes after ``position``, sending the unacknowledged event again with the same id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from registry.config import Settings
from registry.domain import events as ev
from registry.domain import webhooks as rules
from registry.domain.times import iso, utcnow
from registry.domain.tlp import GREEN, Viewer
from registry.services import events, leases, webhook_http
from registry.services.webhooks import KEPT_DELIVERIES
from registry.storage import events as event_store
from registry.storage import webhooks as store
from registry.storage.db import Database
from registry.storage.event_signal import signal_of
from registry.storage.webhooks import DeliveryRow, WebhookRow

log = logging.getLogger(__name__)

REASON_CHARS = 500  # webhook.disabled_reason, as stored
POKE_SECONDS = 0.1  # while waiting for events, how often the loop looks whether a worker finished or stop came


@dataclass(frozen=True)
class Tuning:
    """How the dispatcher paces itself; tests pass shorter times."""

    backoff: rules.Backoff = field(default_factory=rules.Backoff)
    timeout: float = 10.0  # seconds one attempt may take, connection to answer
    lease_seconds: float = 60.0  # renewed at every attempt: longer than one attempt takes
    sweep_seconds: float = 2.0  # longest wait between looks at the webhook table (retries, dead holders)
    batch: int = 100  # events read at once per webhook
    workers: int = 4  # webhooks delivered at once (each by one thread, in order)
    kept: int = KEPT_DELIVERIES  # attempts kept per webhook


class Dispatcher:
    def __init__(self, db: Database, *, retry_hours: float = 24.0, allow_loopback: bool = False,
                 tuning: Tuning | None = None, clock: Callable[[], datetime] = utcnow,
                 on_disabled: Callable[[WebhookRow, str], None] | None = None) -> None:
        """``clock``: the time attempts are stamped and back-offs counted with (tests move it);
        ``on_disabled(webhook, reason)``: called after a webhook was disabled (the scheduler
        audits it)."""
        self.db = db
        self.retry_hours = retry_hours
        self.allow_loopback = allow_loopback
        self.tuning = tuning or Tuning()
        self.clock = clock
        self.on_disabled = on_disabled
        self.owner = leases.owner()
        self.stopping = threading.Event()
        self._poke = threading.Event()  # wakes the loop: a stop, or a webhook finished
        self._busy: set[int] = set()
        self._busy_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **kwargs) -> Dispatcher:
        return cls(db, retry_hours=settings.webhook_retry_hours, allow_loopback=settings.webhook_allow_loopback,
                   **kwargs)

    # -- one webhook -------------------------------------------------------------------------
    def deliver(self, webhook_id: int, *, now: datetime | None = None, replacing: str | None = None) -> int:
        """Take the webhook's lease and deliver its events in order until it has caught up, an
        attempt fails, or its retry is not due; how many were acknowledged. 0 at once when
        another dispatcher holds the lease (``replacing``: a holder known dead, taken over)."""
        at = now or self.clock()
        with self.db.write() as conn:
            if not store.take_lease(conn, webhook_id, self.owner, at, self._until(at), replacing=replacing):
                return 0
            hook = store.get(conn, webhook_id)
        sent = 0
        try:
            while hook is not None and hook.enabled and (hook.next_attempt is None or hook.next_attempt <= at):
                with self.db.read() as conn:
                    page, next_position = events.read(conn, Viewer(hook.org, hook.max_tlp), hook.org_id,
                                                      after=hook.position, limit=self.tuning.batch)
                for event in page:
                    if self.stopping.is_set():  # stopping: the attempt in hand was the last
                        return sent
                    if not rules.wanted(event["watches"], hook.watches):
                        continue
                    hook = self._attempt(hook, event, now)
                    if hook is None or hook.position < event["seq"]:
                        return sent  # failed (retried later), or the lease was lost
                    sent += 1
                at = now or self.clock()
                with self.db.write() as conn:
                    if not store.advance(conn, hook.id, self.owner, next_position, self._until(at)):
                        return sent
                hook = hook._replace(position=max(hook.position, next_position))
                if len(page) < self.tuning.batch:
                    break
        finally:
            with self.db.write() as conn:
                store.release_lease(conn, webhook_id, self.owner)
        return sent

    def _until(self, at: datetime) -> datetime:
        return at + timedelta(seconds=self.tuning.lease_seconds)

    def _attempt(self, hook: WebhookRow, event: dict, now: datetime | None) -> WebhookRow | None:
        """Post one event and record the attempt; the webhook as it then stands, or None when
        its lease was lost (nothing recorded)."""
        seq = event["seq"]
        body = orjson.dumps(event)
        delivery = rules.delivery_id(hook.uid, seq)
        outcome = webhook_http.post(hook.url, body, {
            rules.EVENT: event["type"], rules.DELIVERY: delivery, rules.SIGNATURE: rules.signature(hook.secret, body),
        }, allow_loopback=self.allow_loopback, timeout=self.tuning.timeout)
        at = now or self.clock()
        attempt = DeliveryRow(delivery, seq, hook.attempt + 1, at, outcome.status, outcome.answer, outcome.error,
                              outcome.duration)
        disabled: str | None = None
        if outcome.acknowledged:
            state = {"position": seq, "attempt": 0, "failing_since": None, "next_attempt": None}
        else:
            failures = hook.attempt + 1
            since = hook.failing_since or at
            state = {"attempt": failures, "failing_since": since,
                     "next_attempt": at + self.tuning.backoff.delay(failures)}
            if rules.gives_up(since, at, self.retry_hours):
                last = outcome.error or f"HTTP {outcome.status}"
                disabled = (f"no delivery acknowledged since {iso(since)}: {failures} attempts at event {seq} "
                            f"failed, the last: {last}")[:REASON_CHARS]
                state.update(enabled=False, disabled_reason=disabled, next_attempt=None)
        with self.db.write() as conn:
            if not store.record(conn, hook.id, self.owner, attempt, keep=self.tuning.kept,
                                lease_until=self._until(at), **state):
                return None
            if disabled is not None:
                events.emit(conn, [self._disabled_event(hook, disabled, seq, at)])
        if disabled is not None:
            log.warning("webhook %s of %s disabled: %s", hook.uid, hook.org, disabled)
            if self.on_disabled is not None:
                self.on_disabled(hook, disabled)
        return hook._replace(**state)

    @staticmethod
    def _disabled_event(hook: WebhookRow, reason: str, seq: int, at: datetime) -> ev.NewEvent:
        """``webhook.disabled``, addressed to the webhook's org alone; its own (``source``) at
        TLP:GREEN, so every key of the org may read it."""
        return ev.NewEvent(type=ev.WEBHOOK_DISABLED, time=at, tlp=GREEN, source=hook.org, to_org_id=hook.org_id,
                           body={"webhook": hook.uid, "url": hook.url, "reason": reason, "stopped_at": seq})

    # -- every webhook ---------------------------------------------------------------------------
    def _candidates(self, at: datetime) -> tuple[int, list[tuple[int, str | None]], datetime | None]:
        """(the event counter, the webhooks to deliver now with the dead holder each replaces,
        when the earliest retry falls due)."""
        with self.db.read() as conn:
            head = event_store.head(conn)
            due: list[tuple[int, str | None]] = [(hook_id, None) for hook_id in store.due(conn, at, head)]
            due += [(hook_id, holder) for hook_id, holder in store.leased(conn, at, head)
                    if holder != self.owner and leases.holder_is_dead(holder)]
            return head, due, store.next_retry(conn, head)

    def round(self, now: datetime | None = None) -> int:
        """Deliver every webhook that has something due, one after another; how many events were
        acknowledged. What the loop does on each wake-up, in the caller's thread."""
        _, due, _ = self._candidates(now or self.clock())
        return sum(self.deliver(hook_id, now=now, replacing=holder) for hook_id, holder in due)

    def run(self) -> None:
        """Deliver until ``stopping`` is set: wake on new events, when a retry falls due, when a
        worker finishes, and every ``sweep_seconds`` (a dead dispatcher's expired leases, a
        webhook enabled again); each webhook on a worker thread of its own."""
        pool = ThreadPoolExecutor(self.tuning.workers, thread_name_prefix="webhook")
        try:
            while not self.stopping.is_set():
                self._poke.clear()
                wait = self.tuning.sweep_seconds
                try:
                    at = self.clock()
                    head, due, retry = self._candidates(at)
                    for hook_id, holder in due:
                        with self._busy_lock:
                            if hook_id in self._busy:
                                continue
                            self._busy.add(hook_id)
                        pool.submit(self._task, hook_id, holder)
                    if retry is not None:
                        wait = min(wait, max(0.0, (retry - at).total_seconds()))
                    self._sleep(head, wait)
                except Exception:  # a database hiccup: look again after a pause
                    log.exception("webhook dispatcher: a round failed")
                    self.stopping.wait(wait)
        finally:
            pool.shutdown(wait=True)

    def _sleep(self, head: int, seconds: float) -> None:
        """Until an event past ``head`` commits (``storage.event_signal``: one waiter per process
        and database, woken by NOTIFY on PostgreSQL, polling the counter on SQLite), ``seconds``
        pass, a worker finishes or a stop is asked."""
        signal = signal_of(self.db)
        deadline = time.monotonic() + seconds
        while not self._poke.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or signal.wait(head, min(left, POKE_SECONDS)) > head:
                return

    def _task(self, hook_id: int, holder: str | None) -> None:
        try:
            self.deliver(hook_id, replacing=holder)
        except Exception:
            log.exception("webhook dispatcher: delivering webhook %s failed", hook_id)
        finally:
            with self._busy_lock:
                self._busy.discard(hook_id)
            self._poke.set()

    def start(self) -> None:
        """Run the loop on a daemon thread of its own."""
        self._thread = threading.Thread(target=self.run, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop looking for work; wait for the attempts in hand to end (each within its timeout)."""
        self.stopping.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout)
