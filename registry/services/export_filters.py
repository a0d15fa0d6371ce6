"""Export filters from text (CLI options, query strings), checked once for every export path."""

from __future__ import annotations

from registry.domain.kinds import KINDS
from registry.domain.times import parse_time
from registry.services.errors import Invalid


def stix_filters(args: dict) -> dict:
    """``kind``, ``label``, ``source``, ``since`` (ISO time or change sequence) → exporter keywords."""
    out: dict = {}
    kind = args.get("kind") or None
    if kind:
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
        out["kind"] = kind
    if args.get("label"):
        out["label"] = str(args["label"]).strip().lower()
    if args.get("source"):
        out["source"] = str(args["source"]).strip()
    since = (args.get("since") or "").strip()
    if since:
        if since.isdigit():
            out["since_seq"] = int(since)
        else:
            try:
                out["since_time"] = parse_time(since)
            except ValueError as exc:
                raise Invalid(f"since: {exc}; or give a change sequence number", field="since") from None
    return out
