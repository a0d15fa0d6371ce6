"""STIX 2.0 and 2.1 bundle import, through the one submit path (services.submit.Submitter, one
per source org), so counts, allowlist and normalisation are those of every other import; the
objects are read by the pure mapping of ``registry.stix`` (drafts, patterns, markings, claims).

What is read:
- Indicators whose pattern names values (see stix/patterns.py): each value becomes an assertion
  of the source org with the indicator's TLP, confidence, labels, valid_from (first seen),
  valid_until, description, first external reference URL, grading (the registry's property
  extension: stix.extension; without a confidence, the one its credibility maps to) and, when the pattern names one
  value, the indicator's own id (so a round trip keeps ids; the values of an ``OR`` pattern get
  derived ids, one Indicator id cannot stand for several exported Indicators) unless another
  indicator has it (stix/claims.py: then the report's ``remints`` say which id it got and why). A
  pattern that names no value is a reject: line = the object id, text = the pattern, reason.
- Sightings of those indicators (or of indicators imported earlier): see stix_import_sightings.py.
- Observables (2.1 SCOs, 2.0 observed-data objects) only when the bundle has no indicators:
  then they are its content (an observables export); beside indicators they are context (our
  own export writes each indicator's SCO; Talos' observed-data is the blog post's URL).
- MISP's custom objects of bank accounts and coin addresses (x-misp-attribute, x-misp-object:
  misp-stix's export has no STIX type for them), with or without indicators beside them.
- TLP: whatever way the object says it (stix.markings.BundleTlp: TLP 2.0/1.0 markings,
  MISP-style ``tlp:amber`` labels, a marked report holding it); none means ``tlp`` (default AMBER).
Sources: see stix_sources.py. Groupings, reports, the threat actors, intrusion sets and campaigns
Indicators ``indicates``, and relationships between values kept become operations and
relationships: see stix_import_operations.py. Everything else (malware, tools...) is skipped.

The bundle is read whole with orjson (memory several times the bundle's size while it is
imported: docs/performance.md); a streaming JSON reader would need ijson, which the project does not depend on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Connection

from registry.domain import grading, json_input, lanes
from registry.domain import tlp as tlp_mod
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services.cosubmissions import Together
from registry.services.errors import Invalid
from registry.services.orgs import require_org
from registry.services.stix_import_operations import context_refs, import_operations
from registry.services.stix_import_sightings import STATUS_ORDER, import_sightings
from registry.services.stix_sources import Sources
from registry.services.submit import HELD as HELD_STATUS
from registry.services.submit import (
    MAX_REJECT_SAMPLES,
    Provenance,
    Reject,
    Submission,
    SubmitReport,
    Submitter,
)
from registry.stix import drafts, ids, mapping
from registry.stix.claims import HELD, IdClaims
from registry.stix.drafts import text
from registry.stix.markings import BundleTlp
from registry.stix.patterns import PatternValue, Unrepresentable
from registry.stix.times import parse_stix_time
from registry.storage import stix_reads
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.db import Database


@dataclass
class BundleReport(SubmitReport):
    """The submit counts over all sources (``read``...``rejects``), plus what the bundle held:
    ``objects``, ``indicators`` (read from it), ``sightings`` (by status), ``skipped`` (objects
    not imported, by type), ``orgs`` (how each identity was matched), ``reminted`` (objects
    stored under another id than their own, see stix/claims.py) with ``remints``: ``{"id",
    "new_id", "reason"}`` each (every one with ``keep_results``, else the first 20), and with
    ``keep_results`` one result per indicator/sighting/observable: ``{"id", "status", "error"}``,
    plus ``new_id`` and ``id_reason`` when it was reminted."""

    objects: int = 0
    indicators: int = 0
    sightings: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    orgs: list[dict] = field(default_factory=list)
    reminted: int = 0
    remints: list[dict] = field(default_factory=list)
    operations: Counter = field(default_factory=Counter)
    relationships: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(objects=self.objects, indicators=self.indicators, sightings=dict(self.sightings),
                   skipped=dict(self.skipped), orgs=self.orgs, reminted=self.reminted, remints=self.remints,
                   operations=dict(self.operations), relationships=dict(self.relationships),
                   refused=dict(self.refused))
        return out

    def __getitem__(self, key: str):  # report["results"], as for a plain dict
        return self.to_dict()[key]


def import_bundle(
    target: Database | Connection,
    data: bytes | str | dict | list,
    *,
    default_org: str | None = None,
    org: str | None = None,
    tlp: str | None = None,
    confidence: int | None = None,
    labels: Iterable[str] = (),
    feed: str | None = None,
    reliability: str | None = None,
    credibility: int | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    create_orgs: bool = True,
    keep_results: bool = True,
    now: datetime | None = None,
    viewer: Viewer | None = None,
    carried_refs: dict[str, list[PatternValue]] | None = None,
    review_days: dict[str, float] | None = None,
    together: bool = False,
) -> BundleReport:
    """Import a STIX bundle (bytes or text of JSON, a parsed bundle, a TAXII envelope
    ``{"objects": [...]}`` or a list of objects).

    ``default_org``: the source of objects naming no known identity. ``org``: the source of
    every object, whatever identity it names (API and TAXII uploads: the caller's org).
    ``tlp``: the level of objects without a TLP of their own (default AMBER). ``confidence``:
    for objects without one (default: the one ``credibility`` maps to, else 50).
    ``reliability``, ``credibility``: the grading of Indicators whose grading extension gives
    none (checked by the caller). ``labels``: added to every assertion. ``feed``: the
    assertions' feed name (default: a direct submission). ``on_reject``: called with every
    reject (the report keeps a sample). ``viewer``: who posts (API and TAXII: the caller's key),
    whose TLP cap also bounds the stored indicators a Sighting may name; without one, each
    Sighting's org may name what it may see; nothing the viewer may not see is updated or
    reported as known (``domain.lanes``). ``carried_refs``: shared by the imports of one
    pull's pages, it carries the Indicators stored under another id than their own (their
    values, by their own id), so a Sighting on a later page still finds the one it names. With
    a Database the import is one transaction; with a Connection it runs in the caller's.
    ``review_days``: the settings' REVIEW_DAYS, as ``Provenance.review_days``. ``together``: record
    the values each source landed as submitted together (``services.cosubmissions``: an API or
    TAXII post, never a feed run or a file import).
    """
    objects = _objects(data)
    options = dict(default_org=default_org, forced=org, tlp=tlp, confidence=confidence, labels=labels, feed=feed,
                   grade=(reliability, credibility), on_reject=on_reject, create_orgs=create_orgs,
                   keep_results=keep_results, now=now, viewer=viewer, carried_refs=carried_refs, review_days=review_days,
                   together=together)
    if isinstance(target, Database):
        with target.write() as conn:
            return _Import(conn, objects, **options).run()
    return _Import(target, objects, **options).run()


def _objects(data) -> list[dict]:
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        try:
            data = json_input.loads(data)
        except json_input.JSONInputError as exc:
            raise Invalid(str(exc), field="bundle", details={"line": exc.line, "column": exc.column}) from None
    objects = data.get("objects", [] if data.get("type") == "bundle" else None) if isinstance(data, dict) else data
    if isinstance(data, dict) and data.get("type") not in (None, "bundle"):
        objects = [data]  # one bare STIX object
    if not isinstance(objects, list):
        raise Invalid("not a STIX bundle: expected {\"type\": \"bundle\", \"objects\": [...]}", field="bundle")
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise Invalid(f"objects[{i}] is {json_input.type_name(obj)}, not a STIX object ({{\"type\": …, \"id\": …}})",
                          field=f"objects[{i}]")
    return objects


class _Submitter(Submitter):
    """A Submitter whose rejects also reach the import's own count (one count over sources)."""

    def __init__(self, *args, on_reject_row: Callable[[Reject], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_reject_row = on_reject_row

    def reject(self, line_no, text, reason, *, index=None) -> None:
        super().reject(line_no, text, reason, index=index)
        self._on_reject_row(Reject(line_no, text[:500], reason))


class _Import:
    def __init__(self, conn: Connection, objects: list[dict], *, default_org, forced, tlp, confidence, labels, feed,
                 grade, on_reject, create_orgs, keep_results, now, viewer, carried_refs, review_days,
                 together) -> None:
        self.conn = conn
        self.together = together
        self.review_days = review_days
        self.objects = objects
        self.viewer = viewer
        self.default_tlp = tlp_mod.parse_tlp(tlp) if tlp else tlp_mod.DEFAULT_TLP
        self.confidence = confidence
        self.grade = grade
        self.labels = tuple(labels)
        self.feed = feed
        self.on_reject = on_reject
        self.now = now or utcnow()
        self.report = BundleReport(results=[] if keep_results else None, objects=len(objects))
        identities = {text(o, "id"): o for o in objects if o.get("type") == "identity"}
        self.sources = Sources(conn, identities, default=default_org, forced=forced, create=create_orgs)
        self.tlp = BundleTlp(objects)
        self.allowlist = load_allowlist(conn)
        self.submitters: dict[str, _Submitter] = {}
        self.orgs: dict = {}  # slug -> org row (a Sighting's)
        self.pending: list[tuple[dict | None, _Submitter, list[int]]] = []  # result, its submitter, value slots
        self.indicator_values: dict[str, list[PatternValue] | None] = {}  # None: rejected
        self.carried = carried_refs if carried_refs is not None else {}
        self.derived = ids.indicator_ids(stix_reads.id_key(conn), caches_of(conn).derived)
        self.claims: IdClaims | None = None  # made by run(), once the bundle's own ids are known
        # Indicators that came with an id of their own whose stored id the import reports when it
        # is another: (obj id, the claim's reason or None, (org_id, feed, value), identity, result,
        # whether the writer is capped: then the submitter's report says which id its row took)
        self.named: list[tuple[str, str | None, tuple[int, str, str], str, dict | None, bool]] = []

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> BundleReport:
        by_type: dict[str, list[dict]] = {}
        for obj in self.objects:
            by_type.setdefault(text(obj, "type"), []).append(obj)
        indicators = by_type.pop("indicator", [])
        sightings = by_type.pop("sighting", [])
        # Who holds each own id the bundle's objects carry, read once (by the unique id indexes)
        # before any is decided.
        held = stix_reads.assertions_by_stix_ids(self.conn, sorted(set(drafts.own_ids(indicators, "indicator"))))
        held_sightings = stix_reads.sighting_holders(self.conn, sorted(set(drafts.own_ids(sightings, "sighting"))))
        self.claims = IdClaims(self.derived, held_indicators=held, held_sightings=held_sightings)
        for obj in indicators:
            self._indicator(obj)
        if not indicators:
            self._observables(by_type, context_refs(by_type))
        self._misp_custom(by_type)
        for submitter in self.submitters.values():
            submitter.finish()
        self._collect_results()
        self._report_reminted_indicators()
        import_sightings(self, sightings)
        import_operations(self, by_type)
        for object_type, objs in by_type.items():
            if object_type not in ("identity", "marking-definition", "extension-definition"):
                self.report.skipped[str(object_type)] += len(objs)
        self._totals()
        return self.report

    def _submitter(self, slug: str) -> _Submitter:
        submitter = self.submitters.get(slug)
        if submitter is None:
            reliability, credibility = self.grade
            provenance = Provenance(org=slug, feed=self.feed, tlp=self.default_tlp,
                                    confidence=grading.confidence_for(self.confidence, credibility),
                                    labels=self.labels, reliability=reliability, credibility=credibility,
                                    review_days=self.review_days)
            submitter = self.submitters[slug] = _Submitter(
                self.conn, provenance, now=self.now, batch_size=5000, allowlist=self.allowlist,
                keep_results=self.report.results is not None, on_reject_row=self.rejected, viewer=self.viewer,
                together=Together() if self.together else None,
            )
        return submitter

    def org(self, slug: str):
        if slug not in self.orgs:
            self.orgs[slug] = require_org(self.conn, slug)
        return self.orgs[slug]

    def rejected(self, reject: Reject) -> None:
        """Every reject, from a pattern or from a value, counted once here."""
        report = self.report
        report.rejected += 1
        if len(report.rejects) < MAX_REJECT_SAMPLES:
            report.rejects.append(reject)
        if self.on_reject:
            self.on_reject(reject)

    def result(self, obj_id, status: str | None, error: str | None = None) -> dict | None:
        """Add an object's result in bundle order (status None: filled in by _collect_results)."""
        if self.report.results is None:
            return None
        entry = {"id": obj_id, "status": status}
        if error:
            entry["error"] = error
        self.report.results.append(entry)
        return entry

    def tlp_of(self, obj: dict) -> str:
        return self.tlp.of(obj) or self.default_tlp

    # -- indicators ------------------------------------------------------------------------------
    def _indicator(self, obj: dict) -> None:
        self.report.indicators += 1
        obj_id = text(obj, "id")
        try:
            values = drafts.indicator_values(obj)
        except Unrepresentable as exc:
            self.indicator_values[obj_id] = None
            self.rejected(Reject(obj_id, str(obj.get("pattern"))[:500], str(exc)))
            self.result(obj_id, "rejected", str(exc))
            return
        self.indicator_values[obj_id] = values
        creator = text(obj, "created_by_ref")
        submitter = self._submitter(self.sources.slug_for(creator))
        common = drafts.indicator_fields(obj, tlp=self.tlp_of(obj), creator_name=self.sources.name_of(creator))
        if obj.get("revoked") is True:
            # Its source withdrew it: the assertion ends when it was revoked, kept as history (a
            # peer's delisting reaches a federated copy; docs/stix-taxii.md, "What import reads").
            revoked = drafts.revoked_at(obj)
            common["valid_until"] = min(filter(None, (common["valid_until"], revoked)), default=revoked)
        own_id = obj_id.lower() if len(values) == 1 and drafts.is_id(obj_id, "indicator") else None
        result = self.result(obj_id, None)
        slots = []
        for found in values:
            if submitter.report.results is not None:
                slots.append(len(submitter.report.results))
            sub = Submission(found.value, kind=mapping.KIND_OF_TYPE.get(found.stix_type), line_no=obj_id,
                             line=found.value, **common)
            if own_id is None:
                submitter.add(sub)
            else:
                self._add_with_own_id(submitter, sub, own_id, result)
        self.pending.append((result, submitter, slots))

    def _add_with_own_id(self, submitter: _Submitter, sub: Submission, own_id: str, result: dict | None) -> None:
        """Add ``sub`` with ``own_id`` where no other indicator holds it (stix/claims.py): that
        needs the canonical value, so it is normalised here rather than by the submitter."""
        try:
            values = normalize(sub.value, sub.kind, submitter.region)
        except NormalizeError as exc:
            values = exc
        if not isinstance(values, NormalizeError) and len(values) == 1:  # one id cannot name several
            feed, org = self.feed or "", submitter.org
            capped = not lanes.sees_every_level(self.viewer, org.slug)
            stored, reason = self.claims.indicator(own_id, org_id=org.id, identity=org.stix_id, feed=feed,
                                                   value=values[0].value, lanes=capped)
            sub.stix_id, sub.named = stored, capped
            if reason or capped:
                self.named.append((sub.line_no, reason, (org.id, feed, values[0].value), org.stix_id, result, capped))
        submitter.add_normalized(sub, values)

    # -- observables -----------------------------------------------------------------------------
    def _observables(self, by_type: dict[str, list[dict]], context: set[str]) -> None:
        """SCOs and observed-data as the bundle's content (it has no indicators); the SCOs in
        ``context`` are a grouping's members or a relationship's ends, not content."""
        carriers: dict[str, dict] = {}  # SCO id → the observed-data that refers to it
        for observed in by_type.pop("observed-data", []):
            for ref in drafts.items(observed, "object_refs"):
                if isinstance(ref, str):
                    carriers.setdefault(ref, observed)
            embedded = observed.get("objects")
            scos = [o for o in embedded.values() if isinstance(o, dict)] if isinstance(embedded, dict) else []
            self._observed_values(observed, scos, observed)
        for stix_type in mapping.KIND_OF_TYPE:
            for sco in by_type.pop(stix_type, []):
                if text(sco, "id") not in context:
                    self._observed_values(sco, [sco], carriers.get(text(sco, "id"), sco))

    def _observed_values(self, obj: dict, scos: list[dict], carrier: dict) -> None:
        """The values of ``scos`` (``obj``'s: itself, or an observed-data's embedded objects);
        an SCO of a kept type naming no value is a reject with its reason."""
        found, reasons = [], []
        for sco in scos:
            try:
                value = drafts.observable_text(sco)
            except Unrepresentable as exc:
                reasons.append((orjson.dumps(sco).decode()[:500], str(exc)))
                continue
            if value is not None:
                found.append((mapping.KIND_OF_TYPE[sco["type"]], value))
        self._object_values(obj, found, reasons, carrier)

    def _misp_custom(self, by_type: dict[str, list[dict]]) -> None:
        """MISP's custom objects of the values STIX has no type for (bank accounts, coin
        addresses: stix.drafts.misp_custom_values), read with or without indicators beside them:
        MISP's export writes them so whatever their to_ids."""
        for object_type in drafts.MISP_CUSTOM_TYPES:
            for obj in by_type.pop(object_type, []):
                try:
                    found, reasons = drafts.misp_custom_values(obj), []
                except Unrepresentable as exc:
                    found, reasons = [], [(orjson.dumps(obj).decode()[:500], str(exc))]
                self._object_values(obj, found, reasons, obj)

    def _object_values(self, obj: dict, found: list[tuple[str, str]], reasons: list[tuple[str, str]],
                       carrier: dict) -> None:
        """Submit the (kind, text) values ``obj`` holds as one result, with its source, TLP,
        labels and first seen read from ``carrier``; ``reasons``: (text, reason) of the parts
        naming no value, each a reject. Neither: the object is skipped."""
        if not found and not reasons:
            self.report.skipped[str(obj.get("type"))] += 1
            return
        obj_id = text(obj, "id")
        for what, reason in reasons:
            self.rejected(Reject(obj_id, what, reason))
        error = "; ".join(reason for _what, reason in reasons)
        if not found:
            self.result(obj_id, "rejected", error)
            return
        submitter = self._submitter(self.sources.slug_for(text(carrier, "created_by_ref")))
        tlp = self.tlp.of(obj) or self.tlp.of(carrier) or self.default_tlp
        first_seen = parse_stix_time(carrier.get("first_observed")) or parse_stix_time(carrier.get("created"))
        slots = []
        for kind, value in found:
            if submitter.report.results is not None:
                slots.append(len(submitter.report.results))
            submitter.add(Submission(value, kind=kind, tlp=tlp, labels=drafts.labels(carrier), first_seen=first_seen,
                                     line_no=obj_id, line=value))
        self.pending.append((self.result(obj_id, None, error), submitter, slots))

    def _collect_results(self) -> None:
        """One result per imported object: the strongest status among its values."""
        if self.report.results is None:
            return
        for entry, submitter, slots in self.pending:
            results = [submitter.report.results[i] for i in slots]
            statuses = [r["status"] for r in results]
            entry["status"] = min(statuses, key=STATUS_ORDER.index) if statuses else "rejected"
            errors = [r["error"] for r in results if r.get("error")]
            if errors:  # after what the object itself had (an SCO beside the values naming none)
                entry["error"] = "; ".join(filter(None, (entry.get("error"), *errors)))
            if entry["status"] == HELD_STATUS:  # why, and how to relist it
                entry["reason"] = next(r["reason"] for r in results if r["status"] == HELD_STATUS)
        self.pending.clear()

    # -- ids not kept -----------------------------------------------------------------------------
    def _report_reminted_indicators(self) -> None:
        """Each indicator not stored under its own id, with the id it is served under now. A lane
        0 write: the stored assertion's own id if it had one already, else the one the registry
        derives. A capped writer's: the id of the row its write took (storage.indicators), and an
        own id another of its source's rows holds (one it may not see, perhaps) is reported as
        held by another indicator, as any other holder is."""
        if not self.named:
            return
        own = stix_reads.own_ids_of(self.conn, [key for _o, _r, key, _i, _res, capped in self.named if not capped])
        served = {}
        for submitter in self.submitters.values():
            served.update(((submitter.org.id, value), ids) for value, ids in submitter.report.served_ids.items())
        for obj_id, reason, key, identity, result, capped in self.named:
            org_id, feed, value = key
            if capped:
                new_id, held = served[(org_id, value)]
                reason = reason or (HELD if held else None)
            else:
                new_id = own[key] or self.derived.derive(value, identity, feed)
            if reason:
                self.reminted(obj_id, new_id, reason, result)
                self.carried[obj_id] = self.indicator_values[obj_id]
        self.named.clear()

    def reminted(self, obj_id: str, new_id: str, reason: str, result: dict | None) -> None:
        report = self.report
        report.reminted += 1
        if report.results is not None or len(report.remints) < MAX_REJECT_SAMPLES:
            report.remints.append({"id": obj_id, "new_id": new_id, "reason": reason})
        if result is not None:
            result.update(new_id=new_id, id_reason=reason)

    # -- totals ----------------------------------------------------------------------------------
    def _totals(self) -> None:
        report = self.report
        for submitter in self.submitters.values():
            counts = submitter.report
            report.read += counts.read
            report.new += counts.new
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            report.allowlisted += counts.allowlisted
            report.held += counts.held
            report.held_values += counts.held_values
            report.relisted += counts.relisted
            report.lowered.extend(counts.lowered)
        report.orgs = list(self.sources.matched.values())
