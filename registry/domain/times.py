"""UTC time helpers shared by every layer."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """``2026-11-22T06:00:00Z`` (whole seconds, UTC) or None."""
    if dt is None:
        return None
    return _iso(dt)


@lru_cache(maxsize=8192)  # a batch's rows share a handful of times (one per import run)
def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (``2026-11-01``, ``2026-11-01 10:00:00``, ``…Z``) as aware UTC.

    A time without a zone is taken as UTC, as feeds publish them.
    """
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset pushes it out of years 1–9999
        raise ValueError(f"{text!r} is not an ISO 8601 date or time") from None
