"""Whether an assertion is in force, and if not, why it ended (docs/design.md, "Listed means in
force"). Pure: the read paths (lookup, search, exports, STIX, the web page) ask this one rule.

An assertion ends when its ``valid_until`` passes (given by its source, or set by the registry:
a snapshot feed that no longer lists the value, a delisting), or when its review date passes
unconfirmed. ``end_reason`` says why when the registry ended it; a passed ``valid_until`` without
one is the source's own expiry.
"""

from __future__ import annotations

from datetime import datetime

EXPIRED = "expired"  # its valid_until, as its source gave it
SNAPSHOT = "snapshot"  # a snapshot feed no longer lists it
REVIEW = "review"  # its review date passed unconfirmed
DELISTED = "delisted"  # a dispute's decision
END_REASONS = (EXPIRED, SNAPSHOT, REVIEW, DELISTED)


def ended(valid_until: datetime | None, review_at: datetime | None, end_reason: str | None,
          now: datetime) -> str | None:
    """Why the assertion is no longer in force at ``now`` (one of ``END_REASONS``), or None
    while it is. Times are aware UTC datetimes."""
    if end_reason == DELISTED:
        return DELISTED
    if valid_until is not None and valid_until <= now:
        return end_reason or EXPIRED
    if review_at is not None and review_at <= now:
        return REVIEW
    return None


def end_time(valid_until: datetime | None, review_at: datetime | None, end_reason: str | None,
             now: datetime) -> datetime | None:
    """When an ended assertion ended (None while it is in force)."""
    why = ended(valid_until, review_at, end_reason, now)
    if why is None:
        return None
    if why == REVIEW:
        return review_at
    return valid_until
