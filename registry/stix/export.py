"""STIX 2.1 export: Indicators and Sightings in change-sequence order, streamed.

- ``iter_objects`` yields ``(seq, date_added, object)`` for every Indicator (one per visible
  assertion) and Sighting (one per visible sighting), merged in seq order: the TAXII server
  pages over it (``since_seq`` is its ``next``).
- ``referenced_objects`` gives what a list of them refers to (identities, markings, SCOs, the
  phone-number extension definition).
- ``stream_bundle`` writes a whole bundle as chunks of bytes: rows are read in keyset pages
  (``seq > after ORDER BY seq LIMIT page``), each page is serialised with one ``orjson.dumps``
  and dropped, so memory stays flat however many rows there are.
- ``objects_by_id`` finds one object (TAXII's object endpoint).

The visibility rule is applied in SQL by every read (storage.stix_reads).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

import orjson
from sqlalchemy import Connection

from registry.domain.opaque import Sealer
from registry.domain.tlp import Viewer
from registry.stix import build, ids
from registry.stix.extension import PHONE_EXTENSION_OBJECT, REGISTRY_IDENTITY_OBJECT
from registry.stix.markings import marking_definition, tlp_of_marking_id
from registry.stix.references import References, remember_identities
from registry.stix.references import referenced_objects as _referenced
from registry.stix.times import as_datetime
from registry.storage import stix_reads as reads
from registry.storage.db import current_seq
from registry.storage.visibility import visible_state

PAGE = 5000
CHUNK_OBJECTS = 2000  # objects per serialised chunk of a streamed bundle


def iter_objects(conn: Connection, viewer: Viewer, *, since_seq: int | None = None,
                 since_time: datetime | None = None, kind: str | None = None, label: str | None = None,
                 source: str | None = None, page: int = PAGE) -> Iterator[tuple[int, datetime, dict]]:
    """(seq, date_added, object) of the Indicators and Sightings the viewer may see, by seq.

    ``since_seq``: only changes after this sequence number; ``since_time``: only rows changed at
    or after this time; ``kind``: one indicator kind; ``label``: assertions carrying the label
    (and sightings of such an indicator); ``source``: one org's assertions and sightings.
    ``page``: rows per query. ``date_added`` is when the row last changed (its ``modified``).
    """
    for seq, modified, obj, _value in _rows(conn, viewer, since_seq=since_seq, since_time=since_time, kind=kind,
                                            label=label, source=source, page=page):
        yield seq, as_datetime(modified), obj


def referenced_objects(objs, conn: Connection | None = None) -> list[dict]:
    """The identities, marking definitions, extension definition and SCOs ``objs`` reference,
    each once, nothing before what it refers to. Identities come from the last export read in
    this process; pass ``conn`` to read them afresh."""
    objs = list(objs)
    if conn is not None:
        _load_orgs(conn)
    return _referenced(objs)


def stream_bundle(conn: Connection, viewer: Viewer, *, sealer: Sealer | None = None, **filters) -> Iterator[bytes]:
    """A whole bundle (every visible object matching ``filters``, as for ``iter_objects``) as
    chunks of bytes (its id: see ``bundle_id``)."""
    filters.setdefault("page", PAGE)
    head = b'{"type":"bundle","id":"' + bundle_id(conn, viewer, sealer, **filters).encode() + b'"'
    refs = References()
    first = True
    rows = _rows(conn, viewer, **filters)
    while True:
        batch = list(islice(rows, CHUNK_OBJECTS))
        if not batch:
            break
        out: list[dict] = []
        for _seq, _modified, obj, value in batch:
            out.extend(refs.new_for(obj, value))
            out.append(obj)
        data = orjson.dumps(out)[1:-1]
        yield head + b',"objects":[' + data if first else b"," + data
        first = False
    # STIX lists hold one or more items: a bundle with nothing in it has no "objects".
    yield head + b"}" if first else b"]}"


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
    registry derives (its check holds, see ids.py) can only be found by deriving the ids of the
    visible assertions that have none, a scan of the assertion table (docs/performance.md);
    any other unknown id costs no scan. Stored and derived ids never meet (stix.claims stores
    no derived id), so each id names one object. The support objects (identities, TLP markings,
    the phone-number extension) are found too; SCOs are not (their ids are hashes of values).
    """
    object_type = stix_id.partition("--")[0]
    orgs = _load_orgs(conn)
    if object_type == "indicator":
        rows = reads.assertions_by_stix_id(conn, viewer, stix_id)
        if not rows and indicator_ids(conn).is_derived(stix_id):
            rows = _by_derived_id(conn, viewer, stix_id, orgs)
        return [build.indicator(rows[0], orgs[rows[0].org_id])] if rows else []
    if object_type == "sighting":
        rows = reads.sightings_by_stix_id(conn, viewer, stix_id)
        return [obj for obj in _sightings(conn, viewer, rows[:1], orgs, label=None, source=None) if obj]
    if object_type == "identity":
        if stix_id == REGISTRY_IDENTITY_OBJECT["id"]:
            return [REGISTRY_IDENTITY_OBJECT]
        return [org.identity for org in orgs.values() if org.stix_id == stix_id]
    if object_type == "marking-definition":
        level = tlp_of_marking_id(stix_id)
        return [marking_definition(level)] if level and marking_definition(level)["id"] == stix_id else []
    if object_type == "extension-definition" and stix_id == PHONE_EXTENSION_OBJECT["id"]:
        return [PHONE_EXTENSION_OBJECT]
    return []


def indicator_ids(conn: Connection) -> ids.IndicatorIds:
    """The Indicator ids this database derives."""
    return ids.indicator_ids(reads.id_key(conn))


# -- rows to objects -----------------------------------------------------------------------------

def _load_orgs(conn: Connection) -> dict[int, build.Org]:
    derived = indicator_ids(conn)
    orgs = {row.id: build.Org(row, derived) for row in reads.organizations(conn)}
    remember_identities(org.identity for org in orgs.values())
    return orgs


def _rows(conn: Connection, viewer: Viewer, *, since_seq=None, since_time=None, kind=None, label=None,
          source=None, current_at=None, include_allowlisted=True,
          page: int = PAGE) -> Iterator[tuple[int, object, dict, tuple | None]]:
    """(seq, stored modified time, object, (kind, value) of an indicator), merged by seq.
    ``current_at``: leave out assertions past valid_until then (and sightings pointing only at
    such); ``include_allowlisted`` False: leave out allowlisted values and their sightings."""
    orgs = _load_orgs(conn)
    after = since_seq or 0
    indicators = _indicator_rows(conn, viewer, orgs, after=after, page=page, kind=kind, label=label,
                                 source=source, since_time=since_time, current_at=current_at,
                                 include_allowlisted=include_allowlisted)
    sightings = _sighting_rows(conn, viewer, orgs, after=after, page=page, kind=kind, label=label,
                               source=source, since_time=since_time, current_at=current_at,
                               include_allowlisted=include_allowlisted)
    return heapq.merge(indicators, sightings, key=lambda row: row[0])


def _indicator_rows(conn, viewer, orgs, *, after: int, page: int, **filters):
    indicator = build.indicator
    while True:
        rows = reads.assertion_page(conn, viewer, after_seq=after, limit=page, **filters)
        for row in rows:
            # (id, seq, org_id, …, modified [10], …, kind [13], value [14], …): see ASSERTION_COLUMNS
            yield row[1], row[10], indicator(row, orgs[row[2]]), (row[13], row[14])
        if len(rows) < page:
            return
        after = rows[-1][1]


def _sighting_rows(conn, viewer, orgs, *, after: int, page: int, label, current_at, **filters):
    while True:
        rows = reads.sighting_page(conn, viewer, after_seq=after, limit=page, **filters)
        objs = _sightings(conn, viewer, rows, orgs, label=label, source=filters.get("source"), current_at=current_at)
        yield from ((row.seq, row.modified, obj, None) for row, obj in zip(rows, objs, strict=True) if obj is not None)
        if len(rows) < page:
            return
        after = rows[-1].seq


def _sightings(conn, viewer: Viewer, rows, orgs, *, label, source, current_at=None) -> list[dict | None]:
    """Sighting objects for sighting rows (None where no Indicator of the value may be named).

    ``sighting_of_ref`` is the Indicator of the sighting org's own visible assertion of the
    value if it has one, else of the earliest visible assertion by anyone (lowest row id, so
    the choice is stable); with ``label``/``source`` filters, only among assertions the same
    export includes, so the reference points inside it. A sighting of a value with no such
    assertion is left out, as lookups leave out indicators the caller cannot see.
    """
    if not rows:
        return []
    candidates: dict[int, list] = {}
    for a in reads.visible_assertions_of(conn, viewer, sorted({r.indicator_id for r in rows}), label=label,
                                         current_at=current_at):
        if source is None or orgs[a.org_id].slug == source:
            candidates.setdefault(a.indicator_id, []).append(a)
    out: list[dict | None] = []
    for row in rows:
        options = candidates.get(row.indicator_id)
        if not options:
            out.append(None)
            continue
        chosen = next((a for a in options if a.org_id == row.org_id), options[0])
        target = orgs[chosen.org_id].indicator_id(chosen.value, chosen.feed, chosen.stix_id)
        org = orgs[row.org_id]
        show_case = viewer.org is None or viewer.org == org.slug
        out.append(build.sighting(row, org, target, show_case=show_case))
    return out


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


def indicator_bundle(conn: Connection, viewer: Viewer, indicator_id: int) -> dict:
    """A bundle of one indicator as the viewer may see it (its page's STIX download): an
    Indicator per visible assertion, a Sighting per visible sighting, and what they refer to."""
    orgs = _load_orgs(conn)
    refs = References()
    out: list[dict] = []
    for row in reads.assertions_of_indicator(conn, viewer, indicator_id):
        obj = build.indicator(row, orgs[row.org_id])
        out.extend(refs.new_for(obj, (row.kind, row.value)))
        out.append(obj)
    rows = reads.sightings_of_indicator(conn, viewer, indicator_id)
    for obj in _sightings(conn, viewer, rows, orgs, label=None, source=None):
        if obj is not None:
            out.extend(refs.new_for(obj))
            out.append(obj)
    # The id says what the bundle holds (each object's id and version), nothing else: not the
    # indicator's row id nor the change sequence, which count others' rows.
    versions = sorted(f"{o['id']}@{o.get('modified', '')}" for o in out)
    bundle = {"type": "bundle", "id": ids.derived_id("bundle", viewer.org or "", viewer.max_tlp, *versions)}
    if out:  # STIX lists hold one or more items
        bundle["objects"] = out
    return bundle
