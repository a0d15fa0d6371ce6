"""Searching indicators (``GET /api/v1/indicators``): filters, TLP, score, cursor paging."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain.kinds import EXACT, FILE_HASH, URL
from registry.domain.normalize import NormalizeError, normalize, normalize_one
from registry.domain.normalize.bank_table import ASEAN, Bank, bank_named
from registry.domain.normalize.errors import Invalid as NoSuchBank
from registry.domain.normalize.user_account import account_of_url
from registry.domain.opaque import Sealer
from registry.domain.scoring import Evidence, score
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services.errors import Invalid
from registry.services.filters import parse_kind, parse_since
from registry.services.lookup import assertion_dict, in_force_and_ended
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
    text: TextSearch | None = None  # ``q``: a value, or a part of one (see text_search)

    @classmethod
    def parse(cls, args: dict, *, sealer: Sealer | None = None, region: str | None = None) -> Filters:
        """From query-string style text values; every problem names its field. ``sealer``: see
        ``filters.parse_since`` (the API passes the server's; the operator's CLI none); ``region``:
        the searcher's, for a national number in ``q``."""
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
            after=decode_cursor(args.get("cursor")), limit=limit or 100, text=text_search(args.get("q"), region),
        )


class TextSearch(NamedTuple):
    """What ``q`` finds: indicators whose value or display holds one of ``contains`` (lowercase),
    or whose value starts with one of ``prefixes``."""

    contains: tuple[str, ...]
    prefixes: tuple[str, ...]


MAX_QUERY = 200  # characters of q


def text_search(q: str | None, region: str | None = None) -> TextSearch | None:
    """``q`` as a text search: the text itself; its canonical value when it reads as one ("KBank
    123-4-56789-0" finds ``acct:TH:KASI:1234567890``), and of a platform's link the account too;
    and when it names a bank or e-wallet of the bank table ("KBank", "กสิกรไทย", "GCash"), every
    account at it."""
    q = (q or "").strip()
    if not q:
        return None
    if len(q) < 2 or len(q) > MAX_QUERY:
        raise Invalid(f"q must be 2 to {MAX_QUERY} characters, not {len(q)}", field="q")
    contains = {q.lower()}
    try:
        values = normalize(q, None, region)
    except NormalizeError:
        values = ()
    for value in values:
        contains.add(value.value.lower())
        account = account_of_url(value.value) if value.kind == URL else None
        if account is not None:  # a platform's link: the account it points to too
            contains.add(account.value.lower())
    prefixes = sorted({f"acct:{bank.country}:{bank.code}:" for bank in _banks_named(q, region)})
    return TextSearch(tuple(sorted(contains)), tuple(prefixes))


def _banks_named(name: str, region: str | None) -> set[Bank]:
    """Every bank or e-wallet the table knows by ``name``, in any country (a name some
    countries share, "BCA", names one in each)."""
    found = set()
    for country in dict.fromkeys((region, *ASEAN)):
        try:
            bank = bank_named(name, country)
        except NoSuchBank:
            continue
        if bank is not None:
            found.add(bank)
    return found


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


def search_indicators(conn: Connection, viewer: Viewer, filters: Filters, *, half_lifes=None,
                      now: datetime | None = None) -> dict:
    """One page of visible indicators matching ``filters``, each with its visible assertions.

    Everything an indicator shows comes from what the viewer may see: its times are the earliest
    first and latest last report among its visible assertions and sightings (the stored
    indicator's own times move with every org's reports, hidden ones too), and no row id is shown."""
    now = now or utcnow()
    clause = visible(viewer, t.assertion.c.tlp, t.organization.c.slug)
    results: list[dict] = []
    after = filters.after
    # min_score is applied after scoring, so filling a page may take several fetches; bounded,
    # and the cursor says where to go on.
    for _ in range(20):
        text = filters.text or TextSearch((), ())
        rows = store.search_page(
            conn, visible_clause=clause, kind=filters.kind, label=filters.label, source=filters.source,
            since=filters.since, since_seq=filters.since_seq, within=filters.within, after_value=after,
            limit=filters.limit, contains=text.contains, prefixes=text.prefixes,
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
            every = by_indicator[row.id]
            assertions, ended = in_force_and_ended(every, now)
            points, _ = score(
                [Evidence(a.source, a.feed or None, row.kind, a.confidence, a.last_seen, a.valid_until, EXACT,
                          reliability=a.reliability, credibility=a.credibility)
                 for a in assertions],
                now=now, half_lifes=half_lifes, allowlisted=row.allowlisted,
            )
            if filters.min_score is not None and points < filters.min_score:
                continue
            seen = [*every, *sightings[row.id]]
            # Listed as a lookup says it (docs/design.md, "Listed means in force"): an indicator
            # whose visible assertions all ended is still found, with listed false and its history.
            result = {
                "kind": row.kind, "value": row.value, "display": row.display, "listed": bool(assertions),
                "score": points, "allowlisted": row.allowlisted is not None,
                "first_seen": iso(min(x.first_seen for x in seen)), "last_seen": iso(max(x.last_seen for x in seen)),
                "assertions": [assertion_dict(a) for a in assertions],
                "history": [assertion_dict(a, now) for a in ended],
            }
            if row.id in hashes:
                result["hashes"] = hashes[row.id]  # a file's other hashes
            results.append(result)
            if len(results) == filters.limit:
                return {"indicators": results, "next": encode_cursor(after)}
        if len(rows) < filters.limit:
            return {"indicators": results, "next": None}
    return {"indicators": results, "next": encode_cursor(after)}
