"""TAXII 2.1 query parameters (``added_after``, ``limit``, ``next``, ``match[…]``) and the
timestamps they compare, for the reads in ``services.taxii``.

Decisions:
- ``limit``: 1000 by default (one response of moderate size), at most 10,000 (more is cut to that).
- ``next`` is the change sequence of the page's last object, so objects sharing a timestamp are
  never skipped or repeated, and a cursor stays valid for ever (no server-side session); over
  HTTP it is sealed (``domain.opaque``): the number counts every org's changes, hidden ones too.
  ``added_after`` compares ``date_added`` at millisecond precision, the precision of the
  ``X-TAXII-Date-Added-*`` headers, so a header fed back as ``added_after`` never returns the
  same objects again. ``date_added`` is when the row last changed.
- One version per object (its latest), so ``match[version]`` first/last/all are the same and a
  timestamp selects objects whose ``modified`` is that time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from registry.domain.opaque import POSITION, Sealer
from registry.domain.times import parse_time
from registry.services.errors import Invalid

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
MAX_SEQ = 2**63 - 1  # the largest change number: past it there is nothing


@dataclass(frozen=True)
class ObjectQuery:
    added_after: datetime | None = None  # millisecond precision
    limit: int = DEFAULT_LIMIT
    after_seq: int | None = None  # from ``next``
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: frozenset[str] = frozenset({"last"})  # first/last/all or timestamps
    spec_versions: frozenset[str] | None = None

    @cached_property
    def filters_objects(self) -> bool:
        return bool(self.ids or self.types or self.spec_versions or self.version_times)

    @cached_property
    def version_times(self) -> frozenset[datetime]:
        return frozenset(ms_precision(parse_time(v)) for v in self.versions if v not in ("first", "last", "all"))

    def wants(self, obj: dict) -> bool:
        if self.types is not None and obj["type"] not in self.types:
            return False
        if self.ids is not None and obj["id"] not in self.ids:
            return False
        if self.spec_versions is not None and obj.get("spec_version", "2.1") not in self.spec_versions:
            return False
        times = self.version_times
        return not times or ms_precision(parse_time(version_of(obj))) in times


def parse_query(args: Mapping[str, str], sealer: Sealer | None = None) -> ObjectQuery:
    """The TAXII query parameters (``added_after``, ``limit``, ``next``, ``match[…]``); with a
    ``sealer`` (the server's), ``next`` is a token it sealed, else the bare number."""
    values: dict = {}
    if args.get("added_after"):
        values["added_after"] = ms_precision(_timestamp(args["added_after"], "added_after"))
    if args.get("limit"):
        try:
            limit = int(args["limit"])
        except ValueError:
            raise Invalid(f"limit must be a whole number, not {args['limit']!r}", field="limit") from None
        if limit < 1:
            raise Invalid("limit must be 1 or more", field="limit")
        values["limit"] = min(limit, MAX_LIMIT)  # a server may return fewer than asked
    if args.get("next"):
        text = args["next"]
        if sealer is not None:
            after = sealer.open(text, POSITION)
        else:  # only ASCII digits up to the largest change number ("²" passes isdigit(), int() refuses it)
            fits = text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_SEQ
            after = int(text) if fits else None
        if after is None:
            raise Invalid(f"next {text!r} is not a value this server gave", field="next")
        values["after_seq"] = after
    for name, key in (("id", "ids"), ("type", "types"), ("spec_version", "spec_versions")):
        if args.get(f"match[{name}]"):
            values[key] = frozenset(_split(args[f"match[{name}]"]))
    if args.get("match[version]"):
        versions = frozenset(_split(args["match[version]"]))
        for v in versions - {"first", "last", "all"}:
            _timestamp(v, "match[version]")
        values["versions"] = versions
    return ObjectQuery(**values)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _timestamp(text: str, name: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise Invalid(f"{name} must be a timestamp such as 2026-11-22T06:00:00.000Z, not {text!r}",
                      field=name) from None


def ms_precision(dt: datetime) -> datetime:
    """``dt`` cut to milliseconds, the precision TAXII timestamps carry."""
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def stix_time(dt: datetime) -> str:
    """A STIX timestamp with milliseconds: ``2026-11-22T06:00:00.123Z``."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def version_of(obj: dict) -> str:
    return obj.get("modified") or obj.get("created") or obj.get("valid_from") or "1970-01-01T00:00:00.000Z"

