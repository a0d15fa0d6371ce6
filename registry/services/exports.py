"""Exports for the tools members run: the use case behind ``registry export`` and
``GET /api/v1/export/FORMAT``.

- ``ExportQuery.parse`` checks the filters once, for the CLI and the API alike: ``kind``,
  ``label``, ``source``, ``since`` (a time, or a change position: sealed over the API), ``min_score``,
  ``include_expired``, ``include_allowlisted``, ``zone`` for rpz, and ``raw`` for csv (the exact
  values; by default cells a spreadsheet would compute are neutralised: ``export.csvfile``).
- ``stream(conn, viewer, fmt, query)`` gives the export as chunks of bytes. One reader
  (``storage.export_reads``) serves every per-indicator format: it applies the visibility rule,
  the filters and the expiry and allowlist exclusions in SQL, in keyset pages, so memory stays
  flat; ``export.records`` groups and scores; one writer module per format writes. ``stix`` is
  the STIX exporter's bundle (``services.stix_export``), with the same filters.
- ``etag(conn, viewer, fmt, query, sealer=)`` is known before the data is read (one count of
  the rows the viewer may see): it changes with every write the viewer can see (and only those),
  with the viewer, format and filters, and at the top of every hour (assertions expire and
  scores decay with the clock). It is a weak tag: the same data, not necessarily the same bytes
  (a re-report that changes nothing but ``last_seen`` and ``times_reported`` keeps it, as does
  gzip).
- The MISP feed: ``misp_manifest``, ``misp_hashes``, ``misp_event`` (by uuid), and
  ``write_misp_folder`` for the CLI; beside the day events, one event per operation the viewer
  may see (``services.operation_misp``), unless the query names a kind or label (an operation
  holds any kind; its labels are not its members' reports).

An export holds the visible assertions matching the filters, grouped by indicator: an indicator
is exported when at least one remains, and its summary (sources, confidence, TLP, score) is over
those. Only assertions in force are exported (docs/design.md, "Listed means in force": not past
``valid_until`` or the review date, not delisted) unless ``include_expired`` asks for the ended
ones too (they weigh nothing in the score; json marks them ``ended``/``why``); allowlisted values
are left out unless asked for; ``min_score`` is applied to that score.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from pathlib import Path

from sqlalchemy import Connection

from registry.domain.kinds import DOMAIN, FILE_HASH, IPV4, IPV6, KINDS
from registry.domain.opaque import Sealer
from registry.domain.rows import as_time
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.export import cidr, csvfile, jsonl, misp, rpz, text
from registry.export.records import Listed, group, scored
from registry.services import operation_misp
from registry.services.errors import Invalid, NotFound
from registry.services.filters import parse_kind, parse_since
from registry.storage import aliases
from registry.storage import export_reads as reads
from registry.storage import operations as op_store
from registry.storage.db import Database
from registry.storage.visibility import visible_state

FORMATS = ("stix", "csv", "text", "cidr", "rpz", "misp", "json")
MEDIA_TYPES = {
    "stix": "application/stix+json;version=2.1", "csv": csvfile.MEDIA_TYPE, "text": text.MEDIA_TYPE,
    "cidr": cidr.MEDIA_TYPE, "rpz": rpz.MEDIA_TYPE, "json": jsonl.MEDIA_TYPE,
}
FILE_NAMES = {"stix": "registry.json", "csv": "registry.csv", "text": "registry.txt", "cidr": "registry-cidr.txt",
              "rpz": "registry.rpz", "json": "registry.jsonl"}
# What each format can hold: the reader is told, so SQL leaves the rest out.
FORMAT_KINDS = {"cidr": (IPV4, IPV6), "rpz": (DOMAIN,)}
SCORED = frozenset({"csv", "json"})  # formats that print the score
VALUE_FORMATS = frozenset({"text", "cidr", "rpz"})  # formats that print values only
CLOCK_BUCKET = timedelta(hours=1)  # the ETag's clock: expiry and decay are judged anew each hour
MAX_SEQ = 2**63 - 1
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class ExportQuery:
    kind: str | None = None
    label: str | None = None
    source: str | None = None
    since_time: datetime | None = None
    since_seq: int | None = None
    min_score: int | None = None
    include_expired: bool = False
    include_allowlisted: bool = False
    zone: str = rpz.DEFAULT_ZONE
    raw: bool = False

    @classmethod
    def parse(cls, args: Mapping, *, sealer: Sealer | None = None) -> ExportQuery:
        """From text values (query string, CLI options); every problem names its field.
        ``sealer``: the API's, so ``since`` takes positions it sealed (see ``filters.parse_since``)."""
        since_text = str(args.get("since") or "").strip()
        if since_text.isdigit() and not since_text.isdecimal():  # "²" passes isdigit(), not int()
            raise Invalid("since must be written with the digits 0-9", field="since")
        try:
            since_time, since_seq = parse_since(since_text, sealer)
        except OverflowError:
            raise Invalid(f"since: {since_text!r} falls outside the years 1 to 9999 (UTC)", field="since") from None
        if since_seq is not None:
            since_seq = min(since_seq, MAX_SEQ)  # past the last change there is nothing: no overflow
        try:
            zone = rpz.check_zone(str(args.get("zone") or rpz.DEFAULT_ZONE))
        except ValueError as exc:
            raise Invalid(str(exc), field="zone") from None
        return cls(
            kind=parse_kind(args.get("kind")),
            label=str(args.get("label") or "").strip().lower() or None,
            source=str(args.get("source") or "").strip() or None,
            since_time=since_time, since_seq=since_seq, min_score=_score(args.get("min_score")),
            include_expired=_flag(args, "include_expired"), include_allowlisted=_flag(args, "include_allowlisted"),
            zone=zone, raw=_flag(args, "raw"),
        )

    def key(self) -> str:
        """The filters as text, for the ETag."""
        return ",".join(f"{name}={value}" for name, value in sorted(asdict(self).items()))

    def selection(self, fmt: str, now: datetime) -> reads.Selection:
        kinds = FORMAT_KINDS.get(fmt)
        if self.kind is not None:
            kinds = tuple(k for k in (kinds or KINDS) if k == self.kind)
        return reads.Selection(
            kinds=kinds, label=self.label, source=self.source, since_time=self.since_time, since_seq=self.since_seq,
            current_at=None if self.include_expired else now, include_allowlisted=self.include_allowlisted,
        )


def _flag(args: Mapping, name: str) -> bool:
    value = args.get(name)
    if isinstance(value, bool):
        return value
    text_value = str(value or "").strip().lower()
    if text_value in _TRUE:
        return True
    if text_value in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false", field=name)


def _score(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = -1
    if not 0 <= number <= 100:
        raise Invalid("min_score must be a whole number from 0 to 100", field="min_score")
    return number


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"no export format {fmt!r}: use one of {', '.join(FORMATS)}", field="format",
                       details={"formats": list(FORMATS)})
    return fmt


def etag(conn: Connection, viewer: Viewer, fmt: str, query: ExportQuery, *, sealer: Sealer,
         now: datetime | None = None) -> str:
    """The (weak) entity tag of this export, before it is written: see the module's notes. It
    follows what the viewer may see (``visible_state``), keyed with the server's secret, so it
    neither moves with a write the viewer cannot see nor lets the state be guessed from it."""
    bucket = int((now or utcnow()).timestamp() // CLOCK_BUCKET.total_seconds())
    state = tuple(visible_state(conn, viewer))
    if fmt.startswith("misp"):  # the feed's operation events change with them (services.operation_misp)
        state += op_store.exchange_state(conn, viewer)
    state = map(str, state)
    return sealer.tag("export", fmt, *state, viewer.org or "", viewer.max_tlp, query.key(), str(bucket))


def rpz_serial(conn: Connection, viewer: Viewer, now: datetime) -> int:
    """The zone's SOA serial: Unix seconds of the newest change the viewer may see, or of the
    hour's start when that is later (each hour expiry and hidden rows are judged anew, as the
    ETag's clock). It grows when the zone may have changed, and never counts others' changes.
    (Serials were the change sequence before: a jump to Unix seconds is an increase in DNS
    serial arithmetic as long as the old serial was below 2^31 short of it.)"""
    newest = visible_state(conn, viewer).assertion_modified
    hour = int(now.timestamp() // CLOCK_BUCKET.total_seconds() * CLOCK_BUCKET.total_seconds())
    return max(int(as_time(newest).timestamp()) if newest is not None else 0, hour)


def indicators(conn: Connection, viewer: Viewer, fmt: str, query: ExportQuery, *, now: datetime,
               half_lifes: dict[str, float] | None = None, order: str = reads.BY_ID) -> Iterator[Listed]:
    """The exported indicators, in ``order``, scored when the format prints scores or the
    query asks for a minimum."""
    scores = fmt in SCORED or query.min_score is not None
    values_only = fmt in VALUE_FORMATS and not scores
    items = group(reads.rows(conn, viewer, query.selection(fmt, now), order=order, values_only=values_only))
    if scores:
        items = scored(items, now=now, half_lifes=half_lifes, min_score=query.min_score,
                       ended_too=query.include_expired)
    return items


def stream(conn: Connection, viewer: Viewer, fmt: str, query: ExportQuery, *, now: datetime | None = None,
           half_lifes: dict[str, float] | None = None, sealer: Sealer | None = None) -> Iterator[bytes]:
    """The whole export in ``fmt`` (any but misp, a folder) as chunks of bytes; ``sealer``: the
    server's, for the STIX bundle's id (see ``stix_export.bundle_id``)."""
    now = now or utcnow()
    if fmt == "stix":
        return _stix(conn, viewer, query, now, sealer)
    if fmt == "misp":
        raise Invalid("the MISP feed is a folder: manifest.json, hashes.csv and one file per event", field="format")
    if fmt == "cidr":
        return cidr.write(indicators(conn, viewer, fmt, query, now=now, half_lifes=half_lifes, order=reads.BY_RANGE))
    items = indicators(conn, viewer, fmt, query, now=now, half_lifes=half_lifes)
    if fmt == "rpz":
        return rpz.write(items, zone=query.zone, serial=rpz_serial(conn, viewer, now))
    if fmt == "csv":
        return csvfile.write(items, raw=query.raw)
    if fmt == "json":
        items = _with_hashes(conn, items)
    return {"text": text.write, "json": jsonl.write}[fmt](items)


def _with_hashes(conn: Connection, items: Iterator[Listed], run: int = 1000) -> Iterator[Listed]:
    """``items`` with each file's other hashes (``Listed.hashes``), read once per run of
    indicators that holds a file hash."""
    while batch := list(islice(items, run)):
        files = {item.id: item for item in batch if item.kind == FILE_HASH}
        for indicator_id, hashes in (aliases.aliases_of(conn, files) if files else {}).items():
            files[indicator_id].hashes = hashes
        yield from batch


def _stix(conn: Connection, viewer: Viewer, query: ExportQuery, now: datetime, sealer: Sealer | None) -> Iterator[bytes]:
    from registry.services import stix_export

    if query.min_score is not None:
        raise Invalid("min_score applies to the per-indicator formats (csv, text, cidr, rpz, json, misp); a STIX "
                      "bundle carries each assertion's confidence instead", field="min_score")
    filters: dict = {name: value for name, value in (
        ("kind", query.kind), ("label", query.label), ("source", query.source),
        ("since_time", query.since_time), ("since_seq", query.since_seq)) if value is not None}
    if not query.include_expired:
        filters["current_at"] = now
    if not query.include_allowlisted:
        filters["include_allowlisted"] = False
    return stix_export.stream_bundle(conn, viewer, sealer=sealer, **filters)


# -- the MISP feed ---------------------------------------------------------------------------

def _orgs(conn: Connection) -> dict[int, misp.Org]:
    return {org_id: misp.Org(name, stix_id) for org_id, (_slug, name, stix_id) in reads.organizations(conn).items()}


def _check_misp(query: ExportQuery) -> None:
    if query.min_score is not None:
        raise Invalid("min_score does not apply to the MISP feed: an event is one org's reports of one day",
                      field="min_score")


def misp_events(conn: Connection, viewer: Viewer, query: ExportQuery, *, now: datetime | None = None) -> list[misp.Event]:
    _check_misp(query)
    selection = query.selection("misp", now or utcnow())
    return misp.events(reads.slices(conn, viewer, selection), _orgs(conn))


def operation_events(conn: Connection, viewer: Viewer, query: ExportQuery) -> list:
    """The feed's operation events (with their rows): none when the query names a kind or label."""
    if query.kind is not None or query.label is not None:
        return []
    return operation_misp.events(conn, viewer, source=query.source, since_seq=query.since_seq,
                                 since_time=query.since_time)


def misp_manifest(conn: Connection, viewer: Viewer, query: ExportQuery, *, now: datetime | None = None) -> bytes:
    heads = [*misp_events(conn, viewer, query, now=now), *(e for e, _row in operation_events(conn, viewer, query))]
    return misp.manifest(heads)


def misp_hashes(conn: Connection, viewer: Viewer, query: ExportQuery, *, now: datetime | None = None) -> Iterator[bytes]:
    _check_misp(query)
    orgs = _orgs(conn)
    selection = query.selection("misp", now or utcnow())

    def pairs() -> Iterator[tuple[str, str]]:
        for item in _with_hashes(conn, group(reads.rows(conn, viewer, selection))):
            seen = set()
            for claim in item.claims():
                event_id = misp.event_uuid(orgs[claim.org_id].stix_id, misp.day_of(claim.first_seen))
                if event_id not in seen:
                    seen.add(event_id)
                    for value in (item.value, *item.hashes):
                        yield misp.attribute_value(item.kind, value), event_id

    found = operation_events(conn, viewer, query)
    return misp.write_hashes(chain(pairs(), operation_misp.hash_pairs(conn, found)))


def misp_event(conn: Connection, viewer: Viewer, query: ExportQuery, event_id: str, *,
               now: datetime | None = None) -> Iterator[bytes]:
    """One event file; NotFound when the viewer has no such event (unknown and hidden alike)."""
    now = now or utcnow()
    event = next((e for e in misp_events(conn, viewer, query, now=now) if e.uuid == event_id), None)
    if event is not None:
        return _event_file(conn, viewer, query.selection("misp", now), event)
    found = next(((e, row) for e, row in operation_events(conn, viewer, query) if e.uuid == event_id), None)
    if found is None:
        raise NotFound(f"no MISP event {event_id} in this feed", field="event")
    return iter([operation_misp.event_file(conn, viewer, query.selection("misp", now), *found)])


def _event_file(conn: Connection, viewer: Viewer, selection: reads.Selection, event: misp.Event) -> Iterator[bytes]:
    start = datetime.combine(misp.parse_day(event.day), datetime.min.time(), tzinfo=UTC)
    rows = reads.slice_rows(conn, viewer, selection, org_id=event.org_id, day_start=start,
                            day_end=start + timedelta(days=1))
    return misp.write_event(event, _with_hashes(conn, group(rows)))


def write_misp_folder(db: Database, viewer: Viewer, query: ExportQuery, folder: Path) -> int:
    """The MISP feed as files in ``folder`` (made if missing); returns the number of events."""
    folder.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    with db.read() as conn:
        event_list = misp_events(conn, viewer, query, now=now)
        operation_list = operation_events(conn, viewer, query)
        (folder / "manifest.json").write_bytes(misp.manifest([*event_list, *(e for e, _row in operation_list)]))
        with (folder / "hashes.csv").open("wb") as out:
            for chunk in misp_hashes(conn, viewer, query, now=now):
                out.write(chunk)
        selection = query.selection("misp", now)
        for event in event_list:
            with (folder / f"{event.uuid}.json").open("wb") as out:
                for chunk in _event_file(conn, viewer, selection, event):
                    out.write(chunk)
        for event, row in operation_list:
            (folder / f"{event.uuid}.json").write_bytes(operation_misp.event_file(conn, viewer, selection, event, row))
    return len(event_list) + len(operation_list)
