"""A buffer that a daemon thread writes to the database: the audit log (``services.audit``) and
the lookup hits (``services.hits``), whose callers are requests that must not wait for a write.

``_add()`` only appends an item to an in-memory deque; a daemon thread of each process writes
the buffer every ``flush_interval`` seconds (sooner when ``max_buffer`` items wait), at most
``max_batch`` items per write transaction (``_write``, the subclass's). A failed flush
(database locked past the busy timeout, connection lost) puts the items back at the front of
the buffer, logs, and is retried with a growing pause; nothing is raised into the caller. Only
if the buffer passes ``max_pending`` while the database stays unavailable are the newest items
dropped, and that is logged as critical and counted in ``dropped``.

``synchronous=True`` writes in ``_add()`` itself: for the CLI, which has no long-lived process.
``close()`` (also run at exit) flushes what is left.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections import deque

from registry.storage.db import Database

MAX_PENDING = 1_000_000  # items held in memory while the database is unavailable
MAX_BACKOFF = 30.0  # seconds between retries while flushes keep failing

# Live buffers, so a forked worker (gunicorn --preload) can reset the thread and locks it inherits.
_live: weakref.WeakSet[Buffered] = weakref.WeakSet()


class Buffered:
    """Subclasses name themselves (``what``, for the log) and write a batch (``_write``); one
    whose items differ in size weighs them (``_weight``), and a batch then holds items up to
    ``max_batch`` of weight (at least one item)."""

    what = "buffer"
    log = logging.getLogger("registry.buffered")
    weighed = False

    def __init__(self, db: Database, *, flush_interval: float = 0.2, max_buffer: int = 1000,
                 synchronous: bool = False, max_pending: int = MAX_PENDING, max_batch: int = 10_000) -> None:
        self.db = db
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self.synchronous = synchronous
        self.max_pending = max_pending
        self.max_batch = max_batch  # items per write transaction when catching up on a backlog
        self.dropped = 0
        self.failures = 0  # consecutive failed flushes
        self.last_error: BaseException | None = None
        self._closed = False
        self._reset()
        _live.add(self)
        atexit.register(self.close)

    def _reset(self) -> None:
        self._buf: deque = deque()
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Items added but not yet written."""
        return len(self._buf)

    def _add(self, item) -> None:
        """Buffer one item; never does I/O (unless synchronous) and never raises."""
        self._buf.append(item)
        if self.synchronous or self._closed:
            self.flush()
            return
        if self._thread is None:
            self._start()
        if len(self._buf) >= self.max_buffer:
            self._wake.set()

    def _write(self, batch: list) -> None:
        """Write ``batch`` in one transaction (raising leaves it buffered)."""
        raise NotImplementedError

    def _weight(self, item) -> int:
        """How much of a batch ``item`` takes, when ``weighed``."""
        return 1

    def _take(self) -> list:
        """The next batch off the front of the buffer (only the locked flusher pops, so the
        length cannot shrink under it)."""
        buf = self._buf
        if not self.weighed:
            return [buf.popleft() for _ in range(min(self.max_batch, len(buf)))]
        batch = [buf.popleft()]
        weight = self._weight(batch[0])
        while buf and weight + self._weight(buf[0]) <= self.max_batch:
            weight += self._weight(buf[0])
            batch.append(buf.popleft())
        return batch

    def flush(self) -> int:
        """Write everything buffered now; returns how many items were written. On failure the
        items stay buffered (see ``last_error``) and nothing is raised."""
        written = 0
        with self._flush_lock:  # one flusher at a time keeps the buffer's order
            while self._buf:
                batch = self._take()
                try:
                    self._write(batch)
                except BaseException as exc:
                    self._buf.extendleft(reversed(batch))
                    if not isinstance(exc, Exception):
                        raise
                    self._failed(exc)
                    return written
                written += len(batch)
            if self.failures:
                self.log.warning("%s written again after %d failed flushes", self.what, self.failures)
                self.failures, self.last_error = 0, None
        return written

    def close(self) -> None:
        """Stop the background thread and write what is left (idempotent)."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=60)
        self.flush()
        atexit.unregister(self.close)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=f"{self.what}-flusher", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                return  # close() does the last flush
            self.flush()
            if self.failures:
                # Don't hammer a database that is down (and don't spin while the buffer is full).
                self._stop.wait(min(MAX_BACKOFF, self.flush_interval * 2 ** min(self.failures, 16)))

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.last_error = exc
        excess = len(self._buf) - self.max_pending
        if excess > 0:
            for _ in range(excess):
                self._buf.pop()
            self.dropped += excess
            self.log.critical("%s buffer full (%d items) while the database is unavailable: dropped the %d newest",
                              self.what, self.max_pending, excess)
        self.log.error(
            "%s flush failed (%d in a row); %d items kept for the next try: %s",
            self.what,
            self.failures,
            len(self._buf),
            exc,
            exc_info=exc if self.failures == 1 else None,
        )


def _after_fork_in_child() -> None:
    # The parent keeps (and writes) its buffer; the child starts empty with fresh locks.
    for buffered in list(_live):
        buffered._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
