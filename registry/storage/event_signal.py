"""When new events are committed: one watcher thread per ``Database`` in a process, which streams
and the webhook dispatcher wait on instead of each asking the database (docs/design.md, "Events
and watches").

On PostgreSQL the thread holds one connection that ``LISTEN``s on the channel every append
notifies at commit (``storage.events.CHANNEL``), and reads the counter when woken (and every few
seconds, in case a notification was missed while reconnecting); on SQLite, which has no such
signal, it reads the counter (one primary-key read) every ``POLL_SECONDS``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from registry.storage import events as store
from registry.storage.db import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # SQLite: how often the counter is read while someone waits
LISTEN_CHECK_SECONDS = 5.0  # PostgreSQL: the counter is read this often even without a notification


class EventSignal:
    """``wait(after, timeout)``: the highest committed event seq once it is above ``after``, or
    the current one when ``timeout`` passes first."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cond = threading.Condition()
        self._head: int | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def head(self) -> int:
        self._start()
        with self._cond:
            while self._head is None and not self._stopped:
                self._cond.wait(1.0)
            return self._head or 0

    def wait(self, after: int, timeout: float) -> int:
        self._start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._head is None or self._head <= after) and not self._stopped:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._head or 0

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._cond:
            if self._thread is None:
                target = self._poll if self.db.is_sqlite else self._listen
                self._thread = threading.Thread(target=target, name="registry-event-signal", daemon=True)
                self._thread.start()

    def _publish(self, head: int) -> None:
        with self._cond:
            if self._head is None or head != self._head:
                self._head = head
                self._cond.notify_all()

    def _read(self) -> int:
        with self.db.engine.connect() as conn:
            return store.head(conn)

    def _poll(self) -> None:
        while not self._stopped:
            try:
                self._publish(self._read())
            except Exception:  # a locked or restarting database: try again shortly
                log.exception("reading the event counter failed")
                time.sleep(1.0)
            time.sleep(POLL_SECONDS)

    def _listen(self) -> None:
        import psycopg

        while not self._stopped:
            try:
                url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                with psycopg.connect(url, autocommit=True) as raw:
                    raw.execute(f"LISTEN {store.CHANNEL}")
                    self._publish(self._read())
                    while not self._stopped:
                        woke = False
                        for _ in raw.notifies(timeout=LISTEN_CHECK_SECONDS, stop_after=1):
                            woke = True
                        if self._stopped:  # the database may be disposed of: open no connection to it
                            return
                        # Drain whatever else arrived with it, then read the counter once.
                        if woke:
                            for _ in raw.notifies(timeout=0.001):
                                pass
                        self._publish(self._read())
            except Exception:  # the server restarted or the connection dropped: listen again
                log.exception("listening for events failed; listening again")
                with contextlib.suppress(Exception):
                    time.sleep(1.0)


def signal_of(db: Database) -> EventSignal:
    """The one ``EventSignal`` of ``db`` in this process (kept in its caches)."""
    caches = db.caches
    with caches.lock:
        signal = caches.derived.get("event-signal")
        if signal is None:
            signal = caches.derived["event-signal"] = EventSignal(db)
        return signal
