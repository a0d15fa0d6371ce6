"""STIX timestamps: written ``2026-08-22T02:53:35.000Z`` (UTC, milliseconds), read leniently.

The export formats a million timestamps, so SQLite's stored text
(``2026-08-22 02:53:35.123456``, read without SQLAlchemy's conversion) is sliced rather than
parsed; PostgreSQL hands over aware datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

_FRACTION = re.compile(r"\.(\d+)")


_TEXT_STAMPS: dict[str, str] = {}  # rows of one import run share their times: most are repeats


def stamp(value: str | datetime) -> str:
    """A stored time (SQLite text or a datetime) as a STIX timestamp."""
    if isinstance(value, str):
        out = _TEXT_STAMPS.get(value)
        if out is None:
            if len(_TEXT_STAMPS) >= 4096:
                _TEXT_STAMPS.clear()
            if len(value) >= 23 and value[19] == ".":
                out = f"{value[:10]}T{value[11:23]}Z"
            else:
                out = _stamp_text(value)
            _TEXT_STAMPS[value] = out
        return out
    return _stamp_datetime(value)


@lru_cache(maxsize=4096)  # rows of one import run share their times
def _stamp_datetime(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def _stamp_text(text: str) -> str:
    return _stamp_datetime(as_datetime(text))


def as_datetime(value: str | datetime) -> datetime:
    """A stored time as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def parse_stix_time(text: object) -> datetime | None:
    """A STIX timestamp (any precision, ``Z`` or an offset) as aware UTC; None when absent or
    unreadable (an odd timestamp costs the object that time, not the object)."""
    if not isinstance(text, str) or not text:
        return None
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    # Python reads at most six fraction digits; STIX allows nanoseconds.
    raw = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), raw, count=1)
    try:
        dt = datetime.fromisoformat(raw)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset pushes it out of years 1-9999
        return None
