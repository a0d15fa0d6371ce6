"""Searching indicators (``GET /api/v1/indicators``): filters, TLP, score, cursor paging."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from registry.domain.kinds import EXACT, FILE_HASH
from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.opaque import Sealer
from registry.domain.scoring import Evidence, score
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services.errors import Invalid
from registry.services.filters import parse_kind, parse_since
from registry.services.lookup import assertion_dict
from registry.storage import aliases
from registry.storage import indicator_reads as store
from registry.storage import tables as t
from registry.storage.visibility import visible

MAX_LIMIT = 1000
MAX_VALUE_LENGTH = 2048  # the longest stored value: a longer cursor was never given


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    label: str | None = None
    source: str | None = None
    since: datetime | None = None
    since_seq: int | None = None
    min_score: int | None = None
    within: tuple[bytes, bytes] | None = None
    after: str | None = None  # the value the previous page ended at (its ``next``, decoded)
    limit: int = 100

    @classmethod
    def parse(cls, args: dict, *, sealer: Sealer | None = None) -> Filters:
        """From query-string style text values; every problem names its field. ``sealer``: see
        ``filters.parse_since`` (the API passes the server's; the operator's CLI none)."""
        kind = parse_kind(args.get("kind"))
        since, since_seq = parse_since(args.get("since"), sealer)
        min_score = _int(args, "min_score", 0, 100)
        limit = _int(args, "limit", 1, MAX_LIMIT)
        within = None
        if args.get("within"):
            try:
                network = normalize_one(args["within"])
            except NormalizeError as exc:
                raise Invalid(str(exc), field="within") from None
            if network.range_start is None:
                raise Invalid("within must be an IP network such as 203.0.113.0/24", field="within")
            within = (network.range_start, network.range_end)
        return cls(
            kind=kind, label=(args.get("label") or "").strip().lower() or None, source=args.get("source") or None,
            since=since, since_seq=since_seq, min_score=min_score, within=within,
            after=decode_cursor(args.get("cursor")), limit=limit or 100,
        )


def encode_cursor(value: str) -> str:
    """A page's ``next``: the last value it looked at, which the caller may see (it is the
    last visible indicator read), so it reveals nothing; base64 so it stays one URL-safe token."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> str | None:
    if not text:
        return None
    try:
        value = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeError):
        value = None
    if not value or len(text) > 4 * MAX_VALUE_LENGTH or text != encode_cursor(value):
        raise Invalid("cursor must be the next of an earlier page, as given", field="cursor")
    return value


def _int(args: dict, name: str, low: int, high: int) -> int | None:
    text = args.get(name)
    if text in (None, ""):
        return None
    try:
        number = int(text)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a whole number from {low} to {high}", field=name) from None
    if not low <= number <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}", field=name)
    return number


def search_indicators(conn: Connection, viewer: Viewer, filters: Filters, *, half_lifes=None) -> dict:
    """One page of visible indicators matching ``filters``, each with its visible assertions.

    Everything an indicator shows comes from what the viewer may see: its times are the earliest
    first and latest last report among its visible assertions and sightings (the stored
    indicator's own times move with every org's reports, hidden ones too), and no row id is shown."""
    now = utcnow()
    clause = visible(viewer, t.assertion.c.tlp, t.organization.c.slug)
    results: list[dict] = []
    after = filters.after
    # min_score is applied after scoring, so filling a page may take several fetches; bounded,
    # and the cursor says where to go on.
    for _ in range(20):
        rows = store.search_page(
            conn, visible_clause=clause, kind=filters.kind, label=filters.label, source=filters.source,
            since=filters.since, since_seq=filters.since_seq, within=filters.within, after_value=after,
            limit=filters.limit,
        )
        ids = [r.id for r in rows]
        by_indicator = defaultdict(list)
        for a in store.assertions_for(conn, ids):
            if viewer.can_see(a.tlp, a.source):
                by_indicator[a.indicator_id].append(a)
        sightings = defaultdict(list)
        for s in store.sightings_for(conn, ids) if ids else ():
            if viewer.can_see(s.tlp, s.source):
                sightings[s.indicator_id].append(s)
        files = [r.id for r in rows if r.kind == FILE_HASH]
        hashes = aliases.aliases_of(conn, files) if files else {}
        for row in rows:
            after = row.value
            assertions = by_indicator[row.id]
            points, _ = score(
                [Evidence(a.source, a.feed or None, row.kind, a.confidence, a.last_seen, a.valid_until, EXACT)
                 for a in assertions],
                now=now, half_lifes=half_lifes, allowlisted=row.allowlisted,
            )
            if filters.min_score is not None and points < filters.min_score:
                continue
            seen = [*assertions, *sightings[row.id]]
            result = {
                "kind": row.kind, "value": row.value, "display": row.display,
                "score": points, "allowlisted": row.allowlisted is not None,
                "first_seen": iso(min(x.first_seen for x in seen)), "last_seen": iso(max(x.last_seen for x in seen)),
                "assertions": [assertion_dict(a) for a in assertions],
            }
            if row.id in hashes:
                result["hashes"] = hashes[row.id]  # a file's other hashes
            results.append(result)
            if len(results) == filters.limit:
                return {"indicators": results, "next": encode_cursor(after)}
        if len(rows) < filters.limit:
            return {"indicators": results, "next": None}
    return {"indicators": results, "next": encode_cursor(after)}
