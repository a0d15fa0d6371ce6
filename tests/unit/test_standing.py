"""The one rule of whether an assertion is in force, and why it ended."""

from datetime import UTC, datetime, timedelta

import pytest

from registry.domain.standing import DELISTED, EXPIRED, REVIEW, SNAPSHOT, end_time, ended

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
BEFORE, AFTER = NOW - timedelta(days=1), NOW + timedelta(days=1)


@pytest.mark.parametrize(("valid_until", "review_at", "end_reason", "why"), [
    (None, None, None, None),
    (AFTER, AFTER, None, None),
    (BEFORE, None, None, EXPIRED),
    (NOW, None, None, EXPIRED),  # valid until now: no longer
    (BEFORE, None, SNAPSHOT, SNAPSHOT),
    (None, BEFORE, None, REVIEW),
    (AFTER, BEFORE, None, REVIEW),
    (BEFORE, None, DELISTED, DELISTED),
    (AFTER, None, DELISTED, DELISTED),  # a delisting ends it whatever its dates say
])
def test_why_an_assertion_ended(valid_until, review_at, end_reason, why):
    assert ended(valid_until, review_at, end_reason, NOW) == why
    assert (end_time(valid_until, review_at, end_reason, NOW) is None) == (why is None)


def test_when_it_ended():
    assert end_time(BEFORE, None, SNAPSHOT, NOW) == BEFORE
    assert end_time(AFTER, BEFORE, None, NOW) == BEFORE
