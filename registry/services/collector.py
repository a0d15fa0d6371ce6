"""Pausing Python's cyclic garbage collector around bulk work.

A large lookup or import allocates millions of small acyclic tuples, dicts and dataclass
objects that live until the batch is done; with the collector on, its generation scans over
them cost a large share of a lookup's and an import's time (docs/performance.md). Nothing on these paths
builds reference cycles, and whatever another thread does meanwhile is collected afterwards.
The collector is only switched off and on: what it has frozen or will collect is left to it.
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
        gc.enable()
