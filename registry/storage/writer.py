"""A connection's bulk writes on one helper thread, so the caller prepares the next batch
(parsing, normalising, building rows) while SQLite inserts this one. SQLite releases the GIL
while it works, so the two really overlap.

At most one batch of writes is in flight, and every read on the connection first waits for
it: the connection is never used by two threads at once, and reads see every earlier write.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundWriter:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-writer")
        self._last: Future | None = None

    def submit(self, write: Callable[[], None]) -> None:
        self.wait()
        self._last = self._pool.submit(write)

    def wait(self) -> None:
        """Block until the last batch is written; re-raise its error here, in the caller."""
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


class InlineWriter:
    """The same interface, writing at once (PostgreSQL, small submissions)."""

    def submit(self, write: Callable[[], None]) -> None:
        write()

    def wait(self) -> None:
        pass

    def close(self) -> None:
        pass
