"""TAXII 2.1 use cases, apart from HTTP: the collections, pages of objects and manifests, single
objects and their versions, adding objects and the status resources that answer it.

Decisions (README, "TAXII"):
- One API root. Read-only collections: ``indicators`` (everything) and one per kind; each holds
  the Indicator and Sighting objects the STIX exporter yields for the caller, so the TLP rule is
  applied by the exporter's viewer filtering on every path. ``submissions`` is write-only
  (``can_read`` false): what is added there is served, TLP-filtered, by the read collections.
- ``next`` is the change sequence of the page's last object, so objects sharing a timestamp are
  never skipped or repeated; ``added_after`` compares ``date_added`` at millisecond precision,
  the precision the ``X-TAXII-Date-Added-*`` headers carry, so a header fed back as
  ``added_after`` never returns the page again.
- Each page stands alone: the identities, marking definitions and extension definitions its
  objects reference come first in the same page, within ``limit`` (``match[type]``/``match[id]``
  filter them like any object). A consumer importing page by page never meets a dangling
  reference; the same identity may come again on later pages.
- One version per object (its latest), so ``match[version]`` first/last/all are the same and a
  timestamp selects objects whose ``modified`` is that time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from registry.domain import roles
from registry.domain.kinds import KINDS
from registry.domain.times import parse_time
from registry.services.errors import Invalid, NotFound, RegistryError
from registry.storage import taxii as taxii_store

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
FILTERED_FETCH = 5000  # rows per exporter query while filters discard objects
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


_KIND_TITLES = {"ipv4": "IPv4 addresses and networks", "ipv6": "IPv6 addresses and networks",
                "domain": "Domain names", "url": "URLs", "phone": "Phone numbers", "email": "Email addresses"}
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


# -- query parameters --------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectQuery:
    added_after: datetime | None = None  # millisecond precision
    limit: int = DEFAULT_LIMIT
    after_seq: int | None = None  # from ``next``
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: frozenset[str] = frozenset({"last"})  # first/last/all or timestamps
    spec_versions: frozenset[str] | None = None

    @property
    def filters_objects(self) -> bool:
        return bool(self.ids or self.types or self.spec_versions or self.version_times)

    @property
    def version_times(self) -> frozenset[datetime]:
        return frozenset(_ms(parse_time(v)) for v in self.versions if v not in ("first", "last", "all"))

    def wants(self, obj: dict) -> bool:
        if self.types is not None and obj["type"] not in self.types:
            return False
        if self.ids is not None and obj["id"] not in self.ids:
            return False
        if self.spec_versions is not None and obj.get("spec_version", "2.1") not in self.spec_versions:
            return False
        times = self.version_times
        return not times or _ms(parse_time(version_of(obj))) in times


def parse_query(args: Mapping[str, str]) -> ObjectQuery:
    """The TAXII query parameters (``added_after``, ``limit``, ``next``, ``match[…]``)."""
    values: dict = {}
    if args.get("added_after"):
        values["added_after"] = _ms(_timestamp(args["added_after"], "added_after"))
    if args.get("limit"):
        try:
            limit = int(args["limit"])
        except ValueError:
            raise Invalid(f"limit must be a whole number, not {args['limit']!r}", field="limit") from None
        if limit < 1:
            raise Invalid("limit must be 1 or more", field="limit")
        values["limit"] = min(limit, MAX_LIMIT)  # a server may return fewer than asked
    if args.get("next"):
        if not args["next"].isdigit():
            raise Invalid(f"next {args['next']!r} is not a value this server gave", field="next")
        values["after_seq"] = int(args["next"])
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


def _ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def stix_time(dt: datetime) -> str:
    """A STIX timestamp with milliseconds: ``2026-11-22T06:00:00.123Z``."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def version_of(obj: dict) -> str:
    return obj.get("modified") or obj.get("created") or obj.get("valid_from") or "1970-01-01T00:00:00.000Z"


# -- pages -------------------------------------------------------------------------------------
@dataclass
class Page:
    entries: list[tuple[int, datetime, dict]]  # the collection's own objects: (seq, date_added, object)
    context: list[dict] = field(default_factory=list)  # what they reference, served with them
    more: bool = False

    @property
    def objects(self) -> list[dict]:
        return self.context + [obj for _seq, _added, obj in self.entries]

    @property
    def next(self) -> str | None:
        return str(self.entries[-1][0]) if self.more and self.entries else None

    @property
    def date_added_first(self) -> str | None:
        return stix_time(min(e[1] for e in self.entries)) if self.entries else None

    @property
    def date_added_last(self) -> str | None:
        return stix_time(max(e[1] for e in self.entries)) if self.entries else None


def _matching(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery, wanted: int):
    """(seq, date_added, object) of the collection's objects passing the query, in seq order."""
    from registry.stix import export
    fetch = FILTERED_FETCH if q.filters_objects else wanted
    # The exporter's since_time is a coarse prefilter; the millisecond rule is applied here.
    rows = export.iter_objects(conn, viewer, since_seq=q.after_seq, since_time=q.added_after, kind=coll.kind,
                               page=fetch)
    cutoff = q.added_after + timedelta(milliseconds=1) if q.added_after else None
    for seq, added, obj in rows:
        if cutoff is not None and added < cutoff:
            continue
        if q.filters_objects and not q.wants(obj):
            continue
        yield seq, added, obj


def _first(rows: Iterator, count: int) -> list:
    out = []
    for row in rows:
        out.append(row)
        if len(out) == count:
            break
    return out


def objects_page(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery, *, context: bool = True) -> Page:
    """One page of a collection: up to ``q.limit`` objects, referenced ones included (``context``)."""
    _require_readable(coll)
    rows = _matching(conn, viewer, coll, q, q.limit + 1)
    candidates = _first(rows, q.limit + 1)
    rows.close()
    if not context:
        return Page(candidates[: q.limit], more=len(candidates) > q.limit)
    # Make room for what the first ``limit`` objects reference, then take that many objects:
    # what fewer objects reference is a subset, so the page stays within the limit.
    needed = _context(candidates[: q.limit], q)
    take = max(1, min(len(candidates), q.limit - len(needed)))
    entries = candidates[:take]
    return Page(entries, _context(entries, q), more=len(candidates) > take)


def _context(entries: list, q: ObjectQuery) -> list[dict]:
    if not entries:
        return []
    from registry.stix import export

    refs = export.referenced_objects([obj for _seq, _added, obj in entries])
    return [obj for obj in refs if q.wants(obj)] if q.filters_objects else list(refs)


def manifest_page(conn: Connection, viewer, coll: CollectionDef, q: ObjectQuery) -> Page:
    """The same paging as ``objects_page`` over the collection's own objects only."""
    return objects_page(conn, viewer, coll, q, context=False)


def manifest_entry(added: datetime, obj: dict) -> dict:
    return {"id": obj["id"], "date_added": stix_time(added), "version": version_of(obj), "media_type": STIX_MEDIA}


def _require_readable(coll: CollectionDef) -> None:
    if coll.writable:
        raise Forbidden(f"collection {coll.name!r} is write-only: read through the others")


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"


# -- one object ----------------------------------------------------------------------------------
_KIND_OF_SCO = {"ipv4-addr": "ipv4", "ipv6-addr": "ipv6", "domain-name": "domain", "url": "url",
                "phone-number": "phone", "email-addr": "email"}


def _pattern_kind(obj: dict) -> str | None:
    sco_type = obj.get("pattern", "").lstrip("[( ").partition(":")[0]
    return _KIND_OF_SCO.get(sco_type)


def _belongs(conn: Connection, viewer, coll: CollectionDef, obj: dict) -> bool:
    """Whether a by-id object is one the collection serves (its kind; context objects always)."""
    if coll.kind is None or obj["type"] not in ("indicator", "sighting"):
        return True
    from registry.stix import export
    if obj["type"] == "sighting":
        sighted = export.objects_by_id(conn, viewer, obj.get("sighting_of_ref", ""))
        return any(_pattern_kind(o) == coll.kind for o in sighted)
    return _pattern_kind(obj) == coll.kind


def object_page(conn: Connection, viewer, coll: CollectionDef, stix_id: str, q: ObjectQuery) -> Page:
    """The versions of one object (one here: its latest) the caller may see; NotFound when
    there is none, whether it does not exist or is hidden (TLP), so the answers look alike."""
    _require_readable(coll)
    from registry.stix import export

    found = [o for o in export.objects_by_id(conn, viewer, stix_id) if _belongs(conn, viewer, coll, o)]
    if not found:
        raise NotFound(f"no object {stix_id!r} in collection {coll.name!r}", field="object")
    # One version per object, whose date_added is when that version was stored: its ``modified``.
    entries = [(0, parse_time(version_of(o)), o) for o in found if q.wants(o)]
    if q.added_after is not None:
        entries = [e for e in entries if _ms(e[1]) > q.added_after]
    return Page(entries[: q.limit])


# -- adding objects and their status ------------------------------------------------------------
def add_objects(db, principal, coll: CollectionDef, envelope, now: datetime) -> dict:
    """Import a TAXII envelope (or a bundle) as the caller's org; the stored status resource."""
    if not coll.writable:
        raise Forbidden(f"collection {coll.name!r} is read-only: add objects to 'submissions'")
    if not roles.allows(principal.role, roles.CONTRIBUTOR):
        raise Forbidden(f"adding objects needs the contributor role; your key has {principal.role}",
                        details={"needed_role": roles.CONTRIBUTOR, "role": principal.role})
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise Invalid("send a TAXII envelope: {\"objects\": [STIX objects]}", field="objects")
    successes, failures = import_objects(db, objects, org=principal.org)
    row = taxii_store.StatusRow(
        id=str(uuid.uuid4()), org=principal.org, collection_id=coll.id, status="complete",
        request_timestamp=now, total_count=len(successes) + len(failures), success_count=len(successes),
        failure_count=len(failures), pending_count=0,
        details={"successes": successes, "failures": failures, "pendings": []},
    )
    with db.write() as conn:
        taxii_store.insert_status(conn, row)
    return status_resource(row)


def read_status(conn: Connection, principal, status_id: str) -> dict:
    row = taxii_store.get_status(conn, status_id)
    if row is None or row.org != principal.org:  # another org's status is as unknown as none
        raise NotFound(f"no status {status_id!r}", field="status")
    return status_resource(row)


def status_resource(row: taxii_store.StatusRow) -> dict:
    return {
        "id": row.id, "status": row.status, "request_timestamp": stix_time(row.request_timestamp),
        "total_count": row.total_count, "success_count": row.success_count,
        "failure_count": row.failure_count, "pending_count": row.pending_count, **row.details,
    }


def import_objects(db, objects: list[dict], *, org: str) -> tuple[list[dict], list[dict]]:
    """Import through the STIX importer in one transaction; (successes, failures) as status
    details: ``{"id", "version"[, "message"]}`` per object."""
    from registry.stix import importer  # imported late: the web process needs it only for POSTs

    versions = {o.get("id"): version_of(o) for o in objects}
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    with db.write() as conn:
        report = importer.import_bundle(conn, bundle, org=org)
    successes, failures = [], []
    for result in report["results"]:
        entry = {"id": result["id"], "version": versions.get(result["id"])}
        if result["status"] == "rejected":
            failures.append({**entry, "message": result.get("error") or "rejected"})
        else:
            successes.append({**entry, "message": result["status"]})
    return successes, failures
