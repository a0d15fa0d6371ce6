"""Each protocol's runner of a feed run; ``services.feed_runs`` holds the run around them.

A runner module exposes ``run(ctx)``: it fetches with the context's headers and limits, ends
a not-modified run with ``feed_runs.ended_not_modified``, submits the rows (``batches``) and
ends the run with ``feed_runs.finish_run``; what it raises fails the run. A new protocol is a
module here and a line in ``RUNNERS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.services.feed_runs import RunContext

#: The runner module of each format that is not one body at the feed's URL. Imported when a
#: feed of that format runs, so a runner's libraries (the TAXII client) load only for its feeds.
RUNNERS = {"taxii": "taxii", "misp": "misp", "registry-stream": "stream"}
ONE_BODY = "body"  # text, csv, jsonl, json, stix


def runner_for(fmt: str) -> Callable[[RunContext], None]:
    return importlib.import_module(f"{__name__}.{RUNNERS.get(fmt, ONE_BODY)}").run
