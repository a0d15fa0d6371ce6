"""Filters given as text (CLI options, query strings), checked once for every read path."""

from __future__ import annotations

from datetime import datetime

from registry.domain.kinds import KINDS
from registry.domain.times import parse_time
from registry.services.errors import Invalid


def parse_kind(text: str | None) -> str | None:
    kind = text or None
    if kind and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return kind


def parse_since(text: str | None) -> tuple[datetime | None, int | None]:
    """``since`` as (time, None) for an ISO date or time, (None, seq) for a change sequence number."""
    text = (text or "").strip()
    if not text:
        return None, None
    if text.isdigit():
        return None, int(text)
    try:
        return parse_time(text), None
    except ValueError as exc:
        raise Invalid(f"since: {exc}; or give a change sequence number", field="since") from None

