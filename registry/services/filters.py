"""Filters given as text (CLI options, query strings), checked once for every read path."""

from __future__ import annotations

from datetime import datetime

from registry.domain.kinds import KINDS
from registry.domain.opaque import POSITION, Sealer
from registry.domain.times import parse_time
from registry.services.errors import Invalid


def parse_kind(text: str | None) -> str | None:
    kind = text or None
    if kind and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return kind


def parse_since(text: str | None, sealer: Sealer | None = None) -> tuple[datetime | None, int | None]:
    """``since`` as (time, None) for an ISO date or time, (None, seq) for a change position.

    With a ``sealer`` (every caller but the server's own operator) a position is a token the
    server sealed (``X-Registry-Position``, a TAXII ``next``), never a bare number: a member who
    could ask for "what changed after N" could find where its own rows fall in the sequence, and
    so how many hidden changes came between them."""
    text = (text or "").strip()
    if not text:
        return None, None
    if sealer is not None:
        seq = sealer.open(text, POSITION)
        if seq is not None:
            return None, seq
        if text.isdigit():
            raise Invalid("since takes an ISO date or time, or a position this server gave (the "
                          "X-Registry-Position header of an earlier answer, or a TAXII next): change sequence "
                          "numbers are not shown outside the server", field="since")
    elif text.isdigit():
        return None, int(text)
    try:
        return parse_time(text), None
    except ValueError as exc:
        hint = "or give a position this server gave" if sealer is not None else "or give a change sequence number"
        raise Invalid(f"since: {exc}; {hint}", field="since") from None
