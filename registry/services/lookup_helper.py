"""A second process for large batch lookups, forked at the first one and kept for later ones.

A large batch is answered in two parts, one here and one in the helper. The helper is forked
from this process, so it starts with the same warm caches (listed networks, allowlist, prefix
lengths, suffix rules, phone metadata), and opens its own database connection. Kept between
batches, neither process page-copies the other's memory again: forking anew for every batch
made both copy each page they allocated into, a measurable part of a batch (docs/performance.md) once the process had
answered one before.

One helper per process, for one database at a time; callers use it from a single-threaded
process only (see ``lookup._can_split``), so one request is in flight at most.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence

from registry.services import collector

_helper: Helper | None = None


def helper_for(url: str, answer: Callable, caches=None) -> Helper:
    """The helper for the database at ``url`` (a new one if there is none alive for it here);
    ``answer(conn, queries, viewer, **options)`` is what it runs on each request; ``caches``:
    the asking database's (storage.caches), which the helper starts from."""
    global _helper
    if _helper is None or not _helper.serves(url):
        if _helper is not None:
            _helper.close()
        _helper = Helper(url, answer, caches)
    return _helper


class Helper:
    def __init__(self, url: str, answer: Callable, caches=None) -> None:
        context = multiprocessing.get_context("fork")
        self.url, self._pid = url, os.getpid()
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(url, answer, theirs, self._pipe, caches), daemon=True)
        self._process.start()
        theirs.close()
        self._asked = False
        self.answered = 0  # requests it answered (an empty reply: it failed, the caller answered)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def serves(self, url: str) -> bool:
        # A process forked from this one (a server's worker) must start a helper of its own.
        return self.url == url and self._pid == os.getpid() and self._process.is_alive()

    def ask(self, queries: Sequence, viewer, options: dict) -> None:
        """Send one request (if it cannot be sent, ``answers`` says None)."""
        try:
            request = pickle.dumps((list(queries), viewer, options), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a query a library caller passed that cannot be pickled
            return
        try:
            self._pipe.send_bytes(request)
        except (OSError, ValueError):  # the helper is gone: retired, the next batch starts another
            self.close()
            return
        self._asked = True

    def answers(self) -> list | None:
        """The answers to the request sent; None if none was sent or the helper failed (its
        caller then answers that part itself)."""
        if not self._asked:
            return None
        self._asked = False
        try:
            data = self._pipe.recv_bytes()
        except (EOFError, OSError):
            self.close()
            return None
        if not data:
            return None
        self.answered += 1
        return pickle.loads(data)  # noqa: S301 - our own child's

    def abandon(self) -> None:
        """The caller stopped before reading its answers (an error): they would be read as the
        next request's, so this helper is retired."""
        if self._asked:
            self.close()

    def close(self) -> None:
        global _helper
        if _helper is self:
            _helper = None
        self._pipe.close()  # the helper reads end-of-file and exits
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(url: str, answer: Callable, pipe, parents_end, caches) -> None:
    from registry.storage.db import Database  # its own engine; the parent's is never touched

    parents_end.close()  # else the parent closing its end would never reach this one as EOF
    # What it inherited stays out of its collector's passes (and so is never written to).
    gc.freeze()
    gc.enable()
    db = Database(url, caches=caches)  # its copy of the parent's, warm
    while True:
        try:
            request = pipe.recv_bytes()
        except (EOFError, OSError):
            return
        queries, viewer, options = pickle.loads(request)  # noqa: S301 - from the process that forked it
        answers: list = []
        try:
            with collector.paused(), db.read() as conn:
                answers = answer(conn, queries, viewer, **options)
                data = pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an empty answer: the parent then answers this part itself
            data = b""
        try:
            pipe.send_bytes(data)
        except OSError:  # the parent gave up on this request (see Helper.abandon)
            return
        del answers  # freed only after sending: the parent is not kept waiting for it
