"""STIX 2.1 export, the reading: Indicators and Sightings in change-sequence order, streamed.
The rows are read here (storage.stix_reads applies the visibility rule in SQL) and handed to the
pure builders of ``registry.stix`` (build, export, references) with the orgs this export read
(``build.Orgs``, one per call: no module keeps what an export loaded).

- ``iter_objects`` yields an ``Entry`` (seq, date_added, object) for every Indicator (one per visible
  assertion) and Sighting (one per visible sighting), merged in seq order: the TAXII server
  pages over it (``since_seq`` is its ``next``).
- ``load_orgs`` reads the orgs whose Identities a page's objects refer to
  (``stix.references.referenced_objects`` gives those objects).
- ``stream_bundle`` writes a whole bundle as chunks of bytes: rows are read in keyset pages
  (``seq > after ORDER BY seq LIMIT page``), so memory stays flat however many rows there are.
- ``objects_by_id`` finds one object (TAXII's object endpoint).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain.kinds import FILE_HASH
from registry.domain.opaque import Sealer
from registry.domain.rows import StixItem
from registry.domain.tlp import Viewer
from registry.stix import build, ids
from registry.stix import export as writer
from registry.stix.times import as_datetime
from registry.storage import aliases
from registry.storage import stix_reads as reads
from registry.storage.caches import caches_of
from registry.storage.db import current_seq
from registry.storage.visibility import visible_state

PAGE = 5000


class Entry(NamedTuple):
    """An object of the stream with the time it was added (its row's last change)."""

    seq: int
    added: datetime
    obj: dict


def iter_objects(conn: Connection, viewer: Viewer, *, since_seq: int | None = None,
                 since_time: datetime | None = None, kind: str | None = None, label: str | None = None,
                 source: str | None = None, page: int = PAGE,
                 orgs: build.Orgs | None = None) -> Iterator[Entry]:
    """(seq, date_added, object) of the Indicators and Sightings the viewer may see, by seq.

    ``since_seq``: only changes after this sequence number; ``since_time``: only rows changed at
    or after this time; ``kind``: one indicator kind; ``label``: assertions carrying the label
    (and sightings of such an indicator); ``source``: one org's assertions and sightings.
    ``page``: rows per query. ``orgs``: the orgs the caller read (``load_orgs``) when it needs
    their Identities too (a TAXII page); else they are read here. ``date_added`` is when the
    row last changed (its ``modified``).
    """
    for item in _rows(conn, viewer, since_seq=since_seq, since_time=since_time, kind=kind, label=label,
                      source=source, page=page, orgs=orgs):
        yield Entry(item.seq, as_datetime(item.modified), item.obj)


def stream_bundle(conn: Connection, viewer: Viewer, *, sealer: Sealer | None = None, **filters) -> Iterator[bytes]:
    """A whole bundle (every visible object matching ``filters``, as for ``iter_objects``) as
    chunks of bytes (its id: see ``bundle_id``)."""
    filters.setdefault("page", PAGE)
    the_id = bundle_id(conn, viewer, sealer, **filters)
    orgs = load_orgs(conn)
    yield from writer.bundle_chunks(the_id, _rows(conn, viewer, orgs=orgs, **filters), orgs)


def bundle_id(conn: Connection, viewer: Viewer, sealer: Sealer | None = None, **filters) -> str:
    """The id ``stream_bundle`` gives this export, known before streaming: derived from what the
    viewer sees (``visible_state``), the viewer and the filters, so the same data gives the same
    bytes and the id changes whenever the bundle may, and never for a write the viewer cannot
    see. For a member it is keyed with the server's ``sealer`` (the API passes it): an unkeyed
    hash of a change sequence number or a ``since`` position could be reversed by trying every
    number. The operator, who sees every row, gets the change sequence itself."""
    # current_at is the clock, not a filter: it only says expired assertions are left out.
    key = ",".join(f"{k}={filters[k] if k != 'current_at' else 'now'}" for k in sorted(filters) if k != "page")
    if viewer.org is None:
        return ids.derived_id("bundle", str(current_seq(conn)), viewer.org or "", viewer.max_tlp, key)
    parts = ("bundle", *map(str, visible_state(conn, viewer)), viewer.org, viewer.max_tlp, key)
    return ids.keyed_id("bundle", sealer.tag(*parts)) if sealer is not None else ids.derived_id(*parts)


def objects_by_id(conn: Connection, viewer: Viewer, stix_id: str) -> list[dict]:
    """The versions of one object the viewer may see: the registry keeps one version of each,
    so a list of one, or empty (unknown or not visible alike).

    An Indicator or Sighting with an id of its own is found by the unique id index. An id the
    registry derives (its check holds, see stix/ids.py) can only be found by deriving the ids of
    the visible assertions that have none, a scan of the assertion table (docs/performance.md);
    any other unknown id costs no scan. Stored and derived ids never meet (stix.claims stores
    no derived id), so each id names one object. The support objects (identities, TLP markings,
    the phone-number extension) are found too; SCOs are not (their ids are hashes of values).
    """
    object_type = stix_id.partition("--")[0]
    orgs = load_orgs(conn)
    if object_type == "indicator":
        rows = reads.assertions_by_stix_id(conn, viewer, stix_id)
        if not rows and orgs.ids.is_derived(stix_id):
            rows = _by_derived_id(conn, viewer, stix_id, orgs)
        if not rows:
            return []
        others = other_hashes(conn, rows[:1]).get(rows[0].indicator_id, ())
        return [build.indicator(rows[0], orgs[rows[0].org_id], others)]
    if object_type == "sighting":
        rows = reads.sightings_by_stix_id(conn, viewer, stix_id)
        return [obj for obj in _sightings(conn, viewer, rows[:1], orgs, label=None, source=None) if obj]
    return writer.support_objects(stix_id, orgs)


def indicator_ids(conn: Connection) -> ids.IndicatorIds:
    """The Indicator ids this database derives."""
    return ids.indicator_ids(reads.id_key(conn), caches_of(conn).derived)


def load_orgs(conn: Connection) -> build.Orgs:
    """Every org, as one export (or one TAXII page) hands them to the builders."""
    return build.Orgs(reads.organizations(conn), indicator_ids(conn))


def indicator_bundle(conn: Connection, viewer: Viewer, indicator_id: int) -> dict:
    """A bundle of one indicator as the viewer may see it (its page's STIX download): an
    Indicator per visible assertion, a Sighting per visible sighting, and what they refer to."""
    orgs = load_orgs(conn)
    assertions = reads.assertions_of_indicator(conn, viewer, indicator_id)
    rows = reads.sightings_of_indicator(conn, viewer, indicator_id)
    others = other_hashes(conn, assertions[:1]).get(indicator_id, ())
    return writer.indicator_bundle(viewer, assertions, _sightings(conn, viewer, rows, orgs, label=None, source=None),
                                   orgs, others)


def other_hashes(conn: Connection, rows) -> dict[int, tuple[str, ...]]:
    """The other hashes of the files among these assertion rows (indicator id -> the canonical
    ``md5:…``/``sha1:…`` of the same file as its value), which the file's Indicator pattern and
    SCO name beside its value (docs/stix-taxii.md, "Types and patterns"); no query when no row
    is a file hash."""
    ids = [row.indicator_id for row in rows if row.kind == FILE_HASH]
    if not ids:
        return {}
    return {indicator_id: tuple(hashes) for indicator_id, hashes in aliases.aliases_of(conn, ids).items()}


# -- reading rows ------------------------------------------------------------------------------

def _rows(conn: Connection, viewer: Viewer, *, since_seq=None, since_time=None, kind=None, label=None,
          source=None, current_at=None, include_allowlisted=True, page: int = PAGE,
          orgs: build.Orgs | None = None) -> Iterator[StixItem]:
    """The Indicators and Sightings as ``StixItem``s, merged by seq.
    ``current_at``: leave out assertions past valid_until then (and sightings pointing only at
    such); ``include_allowlisted`` False: leave out allowlisted values and their sightings."""
    if orgs is None:
        orgs = load_orgs(conn)
    after = since_seq or 0
    indicators = _indicator_rows(conn, viewer, orgs, after=after, page=page, kind=kind, label=label,
                                 source=source, since_time=since_time, current_at=current_at,
                                 include_allowlisted=include_allowlisted)
    sightings = _sighting_rows(conn, viewer, orgs, after=after, page=page, kind=kind, label=label,
                               source=source, since_time=since_time, current_at=current_at,
                               include_allowlisted=include_allowlisted)
    return heapq.merge(indicators, sightings, key=_seq_of)


_seq_of = attrgetter("seq")


def _indicator_rows(conn, viewer, orgs, *, after: int, page: int, **filters):
    indicator = build.indicator
    while True:
        rows = reads.assertion_page(conn, viewer, after_seq=after, limit=page, **filters)
        hashes = other_hashes(conn, rows)
        for row in rows:
            others = hashes.get(row.indicator_id, ()) if hashes else ()
            yield StixItem(row.seq, row.modified, indicator(row, orgs[row.org_id], others),
                           (row.kind, row.value, others))
        if len(rows) < page:
            return
        after = rows[-1].seq


def _sighting_rows(conn, viewer, orgs, *, after: int, page: int, label, current_at, **filters):
    while True:
        rows = reads.sighting_page(conn, viewer, after_seq=after, limit=page, **filters)
        objs = _sightings(conn, viewer, rows, orgs, label=label, source=filters.get("source"), current_at=current_at)
        yield from (StixItem(row.seq, row.modified, obj, None) for row, obj in zip(rows, objs, strict=True)
                    if obj is not None)
        if len(rows) < page:
            return
        after = rows[-1].seq


def _sightings(conn, viewer: Viewer, rows, orgs, *, label, source, current_at=None) -> list[dict | None]:
    """Sighting objects for sighting rows (``stix.export.sighting_objects``), among the visible
    assertions the same export includes (``label``, ``current_at``, ``source``)."""
    if not rows:
        return []
    assertions = reads.visible_assertions_of(conn, viewer, sorted({r.indicator_id for r in rows}), label=label,
                                             current_at=current_at)
    return writer.sighting_objects(viewer, rows, assertions, orgs, source=source)


def _by_derived_id(conn, viewer: Viewer, stix_id: str, orgs) -> list:
    after = 0
    while True:
        rows = reads.derived_id_page(conn, viewer, after_id=after, limit=PAGE * 4)
        for row in rows:
            if orgs[row.org_id].indicator_id(row.value, row.feed) == stix_id:
                return reads.assertions_by_ids(conn, viewer, [row.id])
        if len(rows) < PAGE * 4:
            return []
        after = rows[-1].id
