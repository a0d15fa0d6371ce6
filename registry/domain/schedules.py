"""Feed schedules: ``every 6h`` (an interval) or a 5-field cron expression, in UTC.

The one home of the schedule rules: the catalogue checks a feed's schedule with
``parse_schedule``, the scheduler builds its jobs from it, and a run, the feed list and the
scheduler ask ``next_due`` / ``is_due`` when a feed falls due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_EVERY = re.compile(r"^every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 60  # seconds: more often than a minute is a loop, not a schedule
DUE_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class Schedule:
    """``every 6h`` (an interval in seconds) or a 5-field cron expression."""

    text: str
    seconds: int | None = None
    cron: str | None = None


def _cron(expression: str):
    # Imported when a cron schedule is met: most commands never read one.
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone="UTC")


def parse_schedule(text: str) -> Schedule:
    raw = " ".join(str(text).split())
    m = _EVERY.match(raw)
    if m:
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)[0].lower()]
        if seconds < MIN_INTERVAL:
            raise ValueError(f"schedule {text!r} is more often than once a minute")
        return Schedule(raw, seconds=seconds)
    if len(raw.split()) == 5:
        try:
            _cron(raw)
        except ValueError as exc:
            raise ValueError(f"schedule {text!r} is not a valid cron expression: {exc}") from None
        return Schedule(raw, cron=raw)
    raise ValueError(f"schedule {text!r}: write `every 6h` (s, m, h, d) or a cron expression `0 */6 * * *`")


def next_due(schedule: str, after: datetime) -> datetime | None:
    """When a feed last run at ``after`` falls due again by its schedule."""
    parsed = parse_schedule(schedule)
    if parsed.seconds is not None:
        return after + timedelta(seconds=parsed.seconds)
    return _cron(parsed.cron).get_next_fire_time(None, after + timedelta(seconds=1))


def is_due(schedule: str, last_started: datetime | None, now: datetime, *, firing: bool = False) -> bool:
    """Whether a feed last run at ``last_started`` is due by its schedule at ``now``.

    ``firing``: a scheduler's job fired for it, perhaps late (busy threads, a paused process)
    or for a time another scheduler already served. Then it is due once half a period has
    passed since the last run: a late job is never skipped, and a second scheduler firing
    for the same time finds the run that just started."""
    if last_started is None:
        return True
    following = next_due(schedule, last_started)
    if following is None:
        return False
    if not firing:
        return following <= now + DUE_SLACK
    after = next_due(schedule, following)
    period = (after - following) if after is not None else (following - last_started)
    return now - last_started >= period / 2
