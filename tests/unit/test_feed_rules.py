"""When a feed falls due and when a run's size is an anomaly: pure domain rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.domain.feed_anomaly import anomaly
from registry.domain.schedules import Schedule, is_due, next_due, parse_schedule
from registry.domain.times import utcnow


def test_anomaly_rule():
    assert anomaly(0, []) is None and anomaly(0, [5, 5, 5]) is None  # too small a feed to judge
    assert anomaly(90, [1000, 1000, 1100]) and anomaly(100, [1000, 1000, 1100]) is None
    assert anomaly(11_000, [1000, 1000, 1000]).startswith("11,000 rows against a median of 1,000")


def test_schedules_parse_to_an_interval_or_a_cron_expression():
    assert parse_schedule("Every  6h") == Schedule("Every 6h", seconds=6 * 3600)
    assert parse_schedule(" 0  */6 * * * ").cron == "0 */6 * * *"
    with pytest.raises(ValueError, match="more often than once a minute"):
        parse_schedule("every 30s")
    with pytest.raises(ValueError, match="write `every 6h`"):
        parse_schedule("hourly")


def test_next_due_after_a_run():
    last = datetime(2026, 11, 22, 5, 59, 30, tzinfo=UTC)
    assert next_due("every 90 min", last) == last + timedelta(minutes=90)
    assert next_due("0 */6 * * *", last) == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    # A run started on the fire time itself is due at the next one, not again at once.
    assert next_due("0 */6 * * *", datetime(2026, 11, 22, 6, 0, tzinfo=UTC)) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_due_by_schedule():
    now = utcnow().replace(microsecond=0)
    assert is_due("every 6h", None, now)
    assert not is_due("every 6h", now - timedelta(hours=5), now)
    assert is_due("every 6h", now - timedelta(hours=6), now)
    assert is_due("0 * * * *", now - timedelta(minutes=61), now)
    assert not is_due("0 0 1 1 *", now - timedelta(minutes=1), now) or now.month == 1 and now.day == 1
    # A job firing late or early is due after half a period; a second scheduler's right after a run is not.
    assert is_due("every 6h", now - timedelta(hours=4), now, firing=True)
    assert not is_due("every 6h", now - timedelta(seconds=3), now, firing=True)
    assert not is_due("*/30 * * * *", now - timedelta(seconds=3), now, firing=True)
    assert is_due("*/30 * * * *", now - timedelta(minutes=16), now, firing=True)
