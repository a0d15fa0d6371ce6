"""STIX 2.1 export writing: the objects and bundles made of rows the service read
(``services.stix_export`` reads them, with the visibility rule applied in SQL). Nothing here
reads a database.

- ``bundle_chunks`` writes a whole bundle as chunks of bytes, one ``orjson.dumps`` per chunk of
  objects, so memory stays flat however many rows there are.
- ``sighting_objects`` picks the Indicator each Sighting names among the visible assertions.
- ``support_objects`` finds an Identity, TLP marking or extension definition by id.
- ``indicator_bundle`` is one indicator's bundle (its page's STIX download).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

import orjson

from registry.domain.rows import StixItem
from registry.domain.tlp import Viewer
from registry.stix import build, ids
from registry.stix.extension import EXTENSIONS_BY_ID, REGISTRY_IDENTITY_OBJECT
from registry.stix.markings import marking_definition, tlp_of_marking_id
from registry.stix.references import References

CHUNK_OBJECTS = 2000  # objects per serialised chunk of a streamed bundle


def bundle_chunks(bundle_id: str, rows: Iterator[StixItem],
                  orgs: build.Orgs) -> Iterator[bytes]:
    """The bundle ``bundle_id`` of these items, each object after what it refers to, as chunks
    of bytes."""
    head = b'{"type":"bundle","id":"' + bundle_id.encode() + b'"'
    refs = References(orgs.identities)
    first = True
    while True:
        batch = list(islice(rows, CHUNK_OBJECTS))
        if not batch:
            break
        out: list[dict] = []
        for item in batch:
            out.extend(refs.new_for(item.obj, item.indicator))
            out.append(item.obj)
        data = orjson.dumps(out)[1:-1]
        yield head + b',"objects":[' + data if first else b"," + data
        first = False
    # STIX lists hold one or more items: a bundle with nothing in it has no "objects".
    yield head + b"}" if first else b"]}"


def sighting_objects(viewer: Viewer, rows, assertions: Iterable, orgs: build.Orgs, *,
                     source: str | None) -> list[dict | None]:
    """Sighting objects for sighting rows (None where no Indicator of the value may be named).
    ``assertions``: the visible assertions of the rows' indicators (those the same export
    includes, with its ``label`` filter), lowest row id first.

    ``sighting_of_ref`` is the Indicator of the sighting org's own visible assertion of the
    value if it has one, else of the earliest visible assertion by anyone (lowest row id, so
    the choice is stable); with a ``source`` filter, only among that org's assertions, so the
    reference points inside the export. A sighting of a value with no such assertion is left
    out, as lookups leave out indicators the caller cannot see.
    """
    candidates: dict[int, list] = {}
    for a in assertions:
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


def support_objects(stix_id: str, orgs: build.Orgs) -> list[dict]:
    """The Identity, TLP marking definition or extension definition with this id, as a list of
    one, or empty (SCOs are not found: their ids are hashes of values)."""
    object_type = stix_id.partition("--")[0]
    if object_type == "identity":
        if stix_id == REGISTRY_IDENTITY_OBJECT["id"]:
            return [REGISTRY_IDENTITY_OBJECT]
        return [org.identity for org in orgs.values() if org.stix_id == stix_id]
    if object_type == "marking-definition":
        level = tlp_of_marking_id(stix_id)
        return [marking_definition(level)] if level and marking_definition(level)["id"] == stix_id else []
    if object_type == "extension-definition" and stix_id in EXTENSIONS_BY_ID:
        return [EXTENSIONS_BY_ID[stix_id]]
    return []


def indicator_bundle(viewer: Viewer, assertions: Iterable, sightings: Iterable[dict | None],
                     orgs: build.Orgs, others: tuple[str, ...] = ()) -> dict:
    """A bundle of one indicator as the viewer may see it: an Indicator per visible assertion
    row, the Sighting objects (``sighting_objects``), and what they refer to. ``others``: the
    other hashes of a file-hash indicator's file."""
    refs = References(orgs.identities)
    out: list[dict] = []
    for row in assertions:
        obj = build.indicator(row, orgs[row.org_id], others)
        out.extend(refs.new_for(obj, (row.kind, row.value, others)))
        out.append(obj)
    for obj in sightings:
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
