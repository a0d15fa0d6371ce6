"""TAXII 2.1 use cases, apart from HTTP: the collections, pages of objects and manifests, single
objects and their versions. The query parameters are ``taxii_query``'s; adding objects and the
status resources that answer it are ``taxii_submit``'s.

Decisions:
- One API root. Read-only collections: ``indicators`` (everything) and one per kind, with ids
  that never change (uuid5 of their names; the alias is accepted in URLs too). Each holds the
  Indicator and Sighting objects the STIX exporter yields for the caller, so the TLP rule is the
  exporter's viewer filtering on every path, and the operations (groupings: in ``indicators``
  only) and relationships (in ``indicators`` and the collections of their ends' kinds) the
  caller may see (``services.operation_stix``), merged in change-sequence order.
  ``submissions`` is write-only (``can_read`` false, ``can_write`` for contributors and up):
  what is added there is read back, TLP-filtered, through the read collections, so there is one
  place to read and one rule for it.
- Each page stands alone: the identities, TLP marking definitions and extension definitions its
  objects reference come first in the same page, within ``limit`` (``match[type]``/``match[id]``
  select them like any object, but only beside an Indicator or Sighting that references them;
  a page always holds at least one collection object, so a limit below one object's references
  is exceeded). taxii2-client users import page by page or
  collect all pages into one bundle; either way nothing dangles. SCOs are not served beside
  Indicators (each restates its Indicator's pattern), only as the context of the groupings and
  relationships that name them (a member, an end: its value is nowhere else on the page).
  Context objects are also served by id, in every collection.
- One version per object (its latest, see ``taxii_query``); the manifest lists the collection's
  own objects (not the context).
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from registry.domain import roles
from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    KINDS,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.times import parse_time
from registry.services import operation_stix
from registry.services import stix_export as export
from registry.services.errors import Forbidden, NotFound
from registry.services.stix_export import Entry
from registry.services.taxii_query import ObjectQuery, ms_precision, stix_time, version_of
from registry.stix import mapping
from registry.stix.build import Orgs
from registry.stix.extension import definitions_for, property_definitions_for
from registry.stix.markings import marking_definition, tlp_of_marking_id
from registry.stix.operations import sco_context

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
FILTERED_FETCH = 5000  # rows per exporter query while filters discard objects
# match[id] with this many ids or fewer looks each up (an id the registry derives costs a scan of
# the assertions, docs/performance.md; other ids an index probe); with more, reading the collection
# once is cheaper.
BY_ID_MAX = 10
_OWN_TYPES = frozenset(("indicator", "sighting", "grouping", "relationship"))  # what collections hold; the rest is context
_NAMESPACE = uuid.UUID("5d7c2f9e-3b1a-4c8e-9f60-7a2b4c6d8e10")  # collection ids are uuid5(this, name)


@dataclass(frozen=True)
class CollectionDef:
    name: str
    title: str
    description: str
    kind: str | None = None  # None: every kind
    writable: bool = False

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, self.name))

    def resource(self, role: str) -> dict:
        return {
            "id": self.id, "title": self.title, "description": self.description, "alias": self.name,
            "can_read": not self.writable,
            "can_write": self.writable and roles.allows(role, roles.CONTRIBUTOR),
            "media_types": [STIX_MEDIA],
        }


# One collection per kind: a kind without a title here stops the import (see docs/design.md, "A kind").
_KIND_TITLES = {IPV4: "IPv4 addresses and networks", IPV6: "IPv6 addresses and networks",
                DOMAIN: "Domain names", URL: "URLs", PHONE: "Phone numbers", EMAIL: "Email addresses",
                BANK_ACCOUNT: "Bank and e-wallet accounts", CRYPTO_WALLET: "Crypto wallets",
                USER_ACCOUNT: "Messaging and social accounts", FILE_HASH: "File hashes"}
COLLECTIONS: tuple[CollectionDef, ...] = (
    CollectionDef("indicators", "All indicators", "Every indicator and sighting you may see (TLP applies)."),
    *(CollectionDef(kind, _KIND_TITLES[kind], f"Indicators and sightings of kind {kind} (TLP applies).", kind)
      for kind in KINDS),
    CollectionDef("submissions", "Submissions", "Add STIX Indicators and Sightings as your org (contributors); "
                  "read them back through the other collections.", writable=True),
)
_BY_ID = {c.id: c for c in COLLECTIONS} | {c.name: c for c in COLLECTIONS}


def collection(collection_id: str) -> CollectionDef:
    """A collection by id (or alias); NotFound otherwise."""
    found = _BY_ID.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r} in this API root", field="collection")
    return found


# -- pages -------------------------------------------------------------------------------------
@dataclass
class Page:
    entries: list[Entry]  # the collection's own objects
    context: list[dict] = field(default_factory=list)  # what they reference, served with them
    more: bool = False

    @property
    def objects(self) -> list[dict]:
        return self.context + [entry.obj for entry in self.entries]

    @property
    def next_seq(self) -> int | None:
        """Where the next page starts (sealed before it is shown)."""
        return self.entries[-1].seq if self.more and self.entries else None

    @property
    def date_added_first(self) -> str | None:
        return stix_time(min(e.added for e in self.entries)) if self.entries else None

    @property
    def date_added_last(self) -> str | None:
        return stix_time(max(e.added for e in self.entries)) if self.entries else None


def _matching(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery, wanted: int, orgs: Orgs):
    """The collection's objects passing the query, in seq order."""
    fetch = FILTERED_FETCH if q.filters_objects else wanted
    # The exporter's since_time is a coarse prefilter; the millisecond rule is applied here.
    indicators = export.iter_objects(conn, viewer, since_seq=q.after_seq, since_time=q.added_after, kind=coll.kind,
                                     page=fetch, orgs=orgs)
    exchange = operation_stix.entries(conn, viewer, since_seq=q.after_seq, since_time=q.added_after, kind=coll.kind,
                                      page=fetch, orgs=orgs)
    rows = heapq.merge(indicators, exchange, key=_entry_seq)
    cutoff = q.added_after + timedelta(milliseconds=1) if q.added_after else None
    for entry in rows:
        if cutoff is not None and entry.added < cutoff:
            continue
        if q.filters_objects and not q.wants(entry.obj):
            continue
        yield entry


def _entry_seq(entry) -> int:
    return entry.seq


def _first(rows: Iterator, count: int) -> list:
    out = []
    for row in rows:
        out.append(row)
        if len(out) == count:
            break
    return out


def objects_page(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery, *, context: bool = True) -> Page:
    """One page of a collection: up to ``q.limit`` objects, what they reference included (``context``)."""
    _require_readable(coll)
    if q.ids is not None and len(q.ids) <= min(BY_ID_MAX, q.limit):
        return _by_ids(conn, viewer, coll, q)
    if q.types is not None and not q.types & _OWN_TYPES:
        return Page([])  # context objects come only with the objects that reference them
    orgs = export.load_orgs(conn)  # this page's: its objects' Identities come from them
    rows = _matching(conn, viewer, coll, q, q.limit + 1, orgs)
    candidates = _first(rows, q.limit + 1)
    rows.close()  # the merged streams' queries end with it
    if not context:
        return Page(candidates[: q.limit], more=len(candidates) > q.limit)
    page = Page([])
    refs = PageContext(orgs.identities)
    for row in candidates:
        new = refs.new_for(row.obj)
        if isinstance(row, operation_stix.Entry):  # a grouping's or relationship's SCOs come with it
            new += sco_context(row.context, refs.seen)
        if q.filters_objects:
            new = [o for o in new if q.wants(o)]
        # At least one object per page, or a limit below one object's references would stall.
        room = q.limit - len(page.context) - len(page.entries)
        if page.entries and len(new) >= room:
            # Fill the page with what the next object needs (the next page repeats it): a page
            # shorter than asked makes taxii2-client's as_pages warn and shrink its limit.
            page.context += new[:room]
            page.more = True
            break
        page.context += new
        page.entries.append(row)
    return page


def _by_ids(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery) -> Page:
    """``match[id]`` with a few ids: looked up one by one rather than by reading the collection.
    Listed context objects are served like the others, so no context is added."""
    entries = []
    for stix_id in sorted(q.ids):
        for obj in _found(conn, viewer, coll, stix_id):
            entries.append(Entry(0, parse_time(version_of(obj)), obj))  # date_added: see object_page
    if q.added_after is not None:
        entries = [e for e in entries if ms_precision(e.added) > q.added_after]
    return Page(sorted((e for e in entries if q.wants(e.obj)), key=lambda e: e.added))


class PageContext:
    """What a page's objects refer to, each handed out once per page: the source orgs'
    Identities, the TLP marking definitions and, for a phone number, bank account or crypto
    wallet, the extension definition of its SCO type, and for a graded Indicator the grading
    extension's (with the registry Identity that made them).
    SCOs are left out: each restates its Indicator's pattern and they would fill half of every
    page (those a grouping or relationship names come as its ``Entry.context``). (The exporter's ``References`` gives the same objects plus the SCOs.) ``identities``:
    the page's orgs' Identities by STIX id (``build.Orgs.identities``)."""

    def __init__(self, identities: dict[str, dict]) -> None:
        self.identities = identities
        self.seen: set[str] = set()

    def new_for(self, obj: dict) -> list[dict]:
        out: list[dict] = []
        for identity_id in (obj.get("created_by_ref"), *obj.get("where_sighted_refs", ())):
            if identity_id and identity_id not in self.seen and identity_id in self.identities:
                self.seen.add(identity_id)
                out.append(self.identities[identity_id])
        for marking in obj.get("object_marking_refs", ()):
            level = tlp_of_marking_id(marking) if marking not in self.seen else None
            if level:
                self.seen.add(marking)
                out.append(marking_definition(level))
        out.extend(definitions_for(_pattern_type(obj), self.seen))
        out.extend(property_definitions_for(obj, self.seen))
        return out


def manifest_page(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery) -> Page:
    """The same paging as ``objects_page`` over the collection's own objects only."""
    return objects_page(conn, viewer, coll, q, context=False)


def manifest_entry(added: datetime, obj: dict) -> dict:
    return {"id": obj["id"], "date_added": stix_time(added), "version": version_of(obj), "media_type": STIX_MEDIA}


def _require_readable(coll: CollectionDef) -> None:
    if coll.writable:
        raise Forbidden(f"collection {coll.name!r} is write-only: read through the others")


# -- one object ----------------------------------------------------------------------------------
def _pattern_type(obj: dict) -> str:
    """The SCO type an exported Indicator's pattern starts with (each names one kind's type)."""
    pattern = obj.get("pattern")
    return pattern.lstrip("[( ").partition(":")[0] if isinstance(pattern, str) else ""


def _pattern_kind(obj: dict) -> str | None:
    return mapping.KIND_OF_TYPE.get(_pattern_type(obj))


def _belongs(conn: Connection, viewer, coll: CollectionDef, obj: dict) -> bool:
    """Whether a by-id object is one the collection serves (its kind; context objects always)."""
    if coll.kind is None or obj["type"] not in ("indicator", "sighting"):
        return True
    if obj["type"] == "sighting":
        sighted = export.objects_by_id(conn, viewer, obj.get("sighting_of_ref", ""))
        return any(_pattern_kind(o) == coll.kind for o in sighted)
    return _pattern_kind(obj) == coll.kind


def _found(conn: Connection, viewer, coll: CollectionDef, stix_id: str) -> list[dict]:
    if stix_id.startswith((operation_stix.GROUPING_PREFIX, operation_stix.RELATIONSHIP_PREFIX)):
        return operation_stix.objects_by_id(conn, viewer, stix_id, kind=coll.kind)
    return [o for o in export.objects_by_id(conn, viewer, stix_id) if _belongs(conn, viewer, coll, o)]


def object_page(conn: Connection, viewer, coll: CollectionDef, stix_id: str, q: ObjectQuery) -> Page:
    """The versions of one object (one here: its latest) the caller may see; NotFound when
    there is none, whether it does not exist or is hidden (TLP), so the answers look alike."""
    _require_readable(coll)
    found = _found(conn, viewer, coll, stix_id)
    if not found:
        raise NotFound(f"no object {stix_id!r} in collection {coll.name!r}", field="object")
    # One version per object, whose date_added is when that version was stored: its ``modified``.
    entries = [Entry(0, parse_time(version_of(o)), o) for o in found if q.wants(o)]
    if q.added_after is not None:
        entries = [e for e in entries if ms_precision(e.added) > q.added_after]
    return Page(entries[: q.limit])
