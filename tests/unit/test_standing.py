"""The one rule of whether an assertion is in force, and why it ended."""

from datetime import UTC, datetime, timedelta

import pytest

from registry.domain.standing import (
    DELISTED,
    END_REASONS,
    EXPIRED,
    REVIEW,
    SNAPSHOT,
    UNLISTED_REVIEW_DAYS,
    WHY,
    ended,
    ending,
    review_date,
)

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
    end = ending(valid_until, review_at, end_reason, NOW)
    assert (None if end is None else end[0]) == why


def test_when_it_ended():
    assert ending(BEFORE, None, SNAPSHOT, NOW) == (SNAPSHOT, BEFORE)
    assert ending(AFTER, BEFORE, None, NOW) == (REVIEW, BEFORE)


def test_review_dates_by_kind():
    assert review_date("ipv4", NOW) == NOW + timedelta(days=30)
    assert review_date("bank-account", NOW) == NOW + timedelta(days=365)
    assert review_date("phone", NOW, {"phone": 7.5}) == NOW + timedelta(days=7.5)
    assert review_date("phone", NOW, {"ipv4": 1}) == NOW + timedelta(days=UNLISTED_REVIEW_DAYS)  # left out
    assert set(WHY) == set(END_REASONS)
