"""Whether an assertion is in force, and if not, why it ended (docs/design.md, "Listed means in
force"). Pure: the read paths (lookup, search, exports, STIX, the web page) ask this one rule.

An assertion ends when its ``valid_until`` passes (given by its source, or set by the registry:
a snapshot feed that no longer lists the value, a delisting), or when its review date passes
unconfirmed. ``end_reason`` says why when the registry ended it; a passed ``valid_until`` without
one is the source's own expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    PHONE,
    URL,
    USER_ACCOUNT,
)

EXPIRED = "expired"  # its valid_until, as its source gave it
SNAPSHOT = "snapshot"  # a snapshot feed no longer lists it
REVIEW = "review"  # its review date passed unconfirmed
DELISTED = "delisted"  # a dispute's decision
END_REASONS = (EXPIRED, SNAPSHOT, REVIEW, DELISTED)
WHY = {  # what a history entry's "why" says, by reason
    EXPIRED: "past its valid_until", SNAPSHOT: "no longer in its snapshot feed",
    REVIEW: "its review date passed unconfirmed", DELISTED: "delisted after a dispute",
}

# Days after an assertion was last seen (or confirmed) by which its source must confirm it, by
# kind; REGISTRY_REVIEW_DAYS's default is written from it (registry.config), and tests hold every
# kind to an entry (docs/design.md, "Listed means in force").
DEFAULT_REVIEW_DAYS = {
    IPV4: 30.0, IPV6: 30.0, URL: 90.0, DOMAIN: 180.0, EMAIL: 180.0, PHONE: 180.0,
    BANK_ACCOUNT: 365.0, CRYPTO_WALLET: 365.0, USER_ACCOUNT: 180.0, FILE_HASH: 730.0,
}
UNLISTED_REVIEW_DAYS = 180.0


def review_date(kind: str, seen: datetime, review_days: dict[str, float] | None = None) -> datetime:
    """When an assertion of ``kind`` last seen (or confirmed) at ``seen`` falls due for review."""
    return seen + timedelta(days=(review_days or DEFAULT_REVIEW_DAYS).get(kind, UNLISTED_REVIEW_DAYS))


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


def ending(valid_until: datetime | None, review_at: datetime | None, end_reason: str | None,
           now: datetime) -> tuple[str, datetime | None] | None:
    """(why, when) an ended assertion ended (``ended``'s reason; the review date for ``review``,
    else its ``valid_until``), None while it is in force."""
    why = ended(valid_until, review_at, end_reason, now)
    if why is None:
        return None
    return why, review_at if why == REVIEW else valid_until
