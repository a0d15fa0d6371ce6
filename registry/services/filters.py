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


def stix_filters(args: dict) -> dict:
    """``kind``, ``label``, ``source``, ``since`` (ISO time or change sequence) → exporter keywords."""
    out: dict = {}
    kind = parse_kind(args.get("kind"))
    if kind:
        out["kind"] = kind
    if args.get("label"):
        out["label"] = str(args["label"]).strip().lower()
    if args.get("source"):
        out["source"] = str(args["source"]).strip()
    since_time, since_seq = parse_since(args.get("since"))
    if since_time is not None:
        out["since_time"] = since_time
    if since_seq is not None:
        out["since_seq"] = since_seq
    return out
