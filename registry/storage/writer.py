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
        self._pending: list[Future] = []

    def submit(self, write: Callable[[], None]) -> None:
        self.wait()
        self._pending.append(self._pool.submit(write))

    def then(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the writer's thread once the batch in flight is written (a feed run's
        commit), without waiting for it here: one thread runs the tasks in order."""
        self._pending.append(self._pool.submit(task))

    def wait(self) -> None:
        """Block until the last batch (and what follows it) is done; re-raise the first error
        here, in the caller."""
        pending, self._pending = self._pending, []
        error = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # re-raised below, after waiting for the rest
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


class InlineWriter:
    """The same interface, writing at once (PostgreSQL, small submissions)."""

    def submit(self, write: Callable[[], None]) -> None:
        write()

    def then(self, task: Callable[[], None]) -> None:
        task()

    def wait(self) -> None:
        pass

    def close(self) -> None:
        pass
