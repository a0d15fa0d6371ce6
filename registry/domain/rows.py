"""Rows that cross a layer boundary, by name.

Storage reads them, services pass them on, and the pure writers (lookup answers, exports, STIX,
TAXII) read their fields by name. One place for their shapes and the small decoders they need, so
a writer never imports storage (the import contracts in pyproject.toml hold it so; see
docs/design.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat
from typing import NamedTuple

# -- Stored labels ------------------------------------------------------------------------------
# Labels are stored as ``,a,b,`` (one LIKE finds a label); every reader decodes them here.


def decode_labels(text: str | None) -> list[str]:
    return list(label_tuple(text))


def label_tuple(text: str | None) -> tuple[str, ...]:
    """The stored ``,a,b,`` form as ``("a", "b")``."""
    return _decoded(text or ",")


@lru_cache(maxsize=4096)  # a feed's rows share a handful of label sets
def _decoded(text: str) -> tuple[str, ...]:
    return tuple(label for label in text.split(",") if label)


# -- Export and lookup rows ------------------------------------------------------------------
# The per-indicator exports' rows (storage.export_reads → export.records) and the lookup's
# matches (storage.indicator_reads → services.lookup), and the time decoder their readers share
# (the label decoders are in the STIX section above).

@lru_cache(maxsize=65536)
def _parse_sqlite_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def as_time(value) -> datetime | None:
    """A time column read through the driver: SQLite gives text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return _parse_sqlite_time(value)


def made(row_type: type[tuple], tuples: Iterable[tuple]) -> Iterator:
    """``map(row_type._make, tuples)`` without a Python call per row (``_make`` is a Python
    function over ``tuple.__new__``; the reads stream millions of rows: docs/performance.md).
    ``tuples`` come from a select whose columns are ``row_type``'s fields."""
    return map(tuple.__new__, repeat(row_type), tuples)


class ExportRow(NamedTuple):
    """One visible assertion of an exported indicator as the export reader gives it
    (``storage.export_reads``; the fields are its select's labels, in order): the indicator's
    fields, then the assertion's with its source org. Times as stored (``as_time`` reads them),
    labels in their stored form (``label_tuple`` decodes them)."""

    indicator_id: int
    kind: str
    value: str
    display: str | None
    allowlisted: str | None  # the allowlist's reason
    range_start: bytes | None  # 16-byte bounds (IPv4 mapped into IPv6), for IP indicators
    range_end: bytes | None
    source: str  # the org's slug
    org_id: int
    feed: str  # "" when none
    confidence: int
    tlp: str
    labels: str
    description: str | None
    valid_until: object
    first_seen: object
    last_seen: object
    times_reported: int
    modified: object
    review_at: object = None  # with end_reason: whether it is in force (domain.standing)
    end_reason: str | None = None
    reliability: str | None = None  # the Admiralty grading (domain.grading), None when ungraded
    credibility: int | None = None


# The indicator's fields of an ``ExportRow`` alone: what the formats that list values read
# (text, cidr, rpz), and a third of the columns to read.
ValueRow = NamedTuple("ValueRow", [(name, ExportRow.__annotations__[name])
                                   for name in ExportRow._fields[: ExportRow._fields.index("range_end") + 1]])


class LookupMatch(NamedTuple):
    """One row of the lookup's read (``storage.indicator_reads.lookup_matches``): a matched
    indicator with one of its assertions and the assertion's source org; the assertion's fields
    None for an indicator without any. Times as the driver gives them (``as_time``)."""

    id: int
    kind: str
    value: str
    display: str | None
    prefix_len: int | None
    assertion_id: int | None
    source: str | None
    feed: str | None
    confidence: int | None
    tlp: str | None
    labels: str | None
    description: str | None
    valid_until: object
    first_seen: object
    last_seen: object
    times_reported: int | None
    review_at: object = None  # with valid_until and end_reason: whether it is in force (domain.standing)
    end_reason: str | None = None
    reliability: str | None = None  # the Admiralty grading (domain.grading), None when ungraded
    credibility: int | None = None


# The assertion's fields of a ``LookupMatch``: rows with equal ones (a feed's rows share all
# but the indicator) are shown and weighed once per batch.
ASSERTION_FIELDS = slice(LookupMatch._fields.index("source"), None)


class VisibleState(NamedTuple):
    """What a viewer may see, in a few numbers (``storage.visibility.visible_state``): the count,
    highest change sequence and newest change time (as stored) of the assertions, then of the
    sightings. Export tags and the rpz serial are made from it."""

    assertions: int
    assertion_seq: int | None
    assertion_modified: object
    sightings: int
    sighting_seq: int | None
    sighting_modified: object


# -- STIX rows ---------------------------------------------------------------------------------
# What the STIX export and TAXII read (storage.stix_reads → services.stix_export → stix.build):
# an assertion or a sighting joined to its indicator. Times as stored (stix.times reads them).

class StixAssertion(NamedTuple):
    id: int
    seq: int
    indicator_id: int
    org_id: int
    feed: str  # "" when none
    confidence: int
    tlp: str
    labels: str  # stored form (``label_tuple`` decodes it)
    description: str | None
    valid_until: object
    first_seen: object
    modified: object
    stix_id: str | None  # the source's own id, None for a derived one
    external_ref: str | None
    kind: str
    value: str
    allowlisted: str | None  # the allowlist's reason
    review_at: object = None  # how it ended, if it did: stix.build's valid_until and revoked
    end_reason: str | None = None
    reliability: str | None = None  # the Admiralty grading (domain.grading), None when ungraded
    credibility: int | None = None


class StixSighting(NamedTuple):
    id: int
    seq: int
    indicator_id: int
    org_id: int
    case_ref: str | None
    count: int
    tlp: str
    description: str | None
    first_seen: object
    last_seen: object
    created: object
    modified: object
    stix_id: str
    kind: str
    value: str


class StixItem(NamedTuple):
    """One object of a STIX export stream (services.stix_export → stix.export.bundle_chunks), in
    change-sequence order: the row's seq and stored ``modified`` time, the object, and for an
    Indicator the (kind, value, other hashes of a file) it was built from (its SCO is made of
    them)."""

    seq: int
    modified: object
    obj: dict
    indicator: tuple[str, str, tuple[str, ...]] | None
