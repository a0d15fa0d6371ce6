"""Pausing Python's cyclic garbage collector around bulk work.

A large lookup or import allocates millions of small acyclic tuples, dicts and dataclass
objects that live until the batch is done; with the collector on, its generation scans over
them cost a large share of a lookup's and an import's time (docs/performance.md). Nothing on these paths
builds reference cycles, and whatever another thread does meanwhile is collected afterwards.

Turned back on, the collector's next pass would scan every object the block left alive (all
still in the youngest generation), a measurable part of a large lookup. So they move straight to the
oldest generation instead (``gc.freeze()`` then ``gc.unfreeze()`` relinks the lists without
scanning them), unless something else froze objects on purpose (the web server's start-up),
which unfreezing would undo.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(when: bool = True) -> Iterator[None]:
    """Keep the collector off for the block when ``when`` (and it is on); on again after."""
    if not when or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
