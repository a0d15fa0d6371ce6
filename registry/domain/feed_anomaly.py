"""The anomaly guard of snapshot feeds: a run whose row count is far from the recent runs'.

A snapshot that suddenly shrinks (a truncated download, an empty body served as 200) would
otherwise expire most of the feed, so a flagged run expires nothing and the feed shows
``anomaly``. A run is flagged when its row count is under LOW or over HIGH times the median
of the feed's last BASELINE_RUNS complete runs, once that median reaches MIN_MEDIAN rows.
"""

from __future__ import annotations

import statistics

LOW, HIGH, BASELINE_RUNS, MIN_MEDIAN = 0.10, 10.0, 5, 10


def anomaly(rows: int, baseline: list[int]) -> str | None:
    """Why ``rows`` looks wrong beside the recent runs' counts, or None."""
    if not baseline:
        return None
    median = statistics.median(baseline)
    if median < MIN_MEDIAN:
        return None
    if rows < LOW * median:
        what = "an empty feed" if rows == 0 else f"{rows:,} rows"
        return f"{what} against a median of {median:,.0f} over the last {len(baseline)} runs: nothing expired"
    if rows > HIGH * median:
        return f"{rows:,} rows against a median of {median:,.0f} over the last {len(baseline)} runs"
    return None
