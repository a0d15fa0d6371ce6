"""Submitting: many raw values with their provenance → new, updated or unchanged assertions.

One code path serves the CLI import, the API and the feed runs. The caller owns the
transaction: a CLI import is one transaction (it lands whole or not at all); a feed run
commits batch by batch so a killed run leaves only whole batches behind.
"""

from __future__ import annotations

import contextlib
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress

from sqlalchemy import Connection

from registry import config
from registry.domain import disputes as dispute_rules
from registry.domain import grading, same_file, standing
from registry.domain import tlp as tlp_mod
from registry.domain.allowlist import Allowlist, emergency_reason
from registry.domain.kinds import FILE_HASH, USER_ACCOUNT, value_from_fields
from registry.domain.labels import is_label, label_slug
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.times import iso, utcnow
from registry.services import announce, pipeline
from registry.services.cosubmissions import Together
from registry.services.errors import Invalid
from registry.services.lowered import Lowered
from registry.services.orgs import require_org
from registry.stix import ids
from registry.storage import aliases, stix_reads
from registry.storage import disputes as dispute_store
from registry.storage import indicators as store
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.writer import BackgroundWriter, InlineWriter

MAX_REJECT_SAMPLES = 20
ALLOWLISTED, REJECTED, HELD = "allowlisted", "rejected", dispute_rules.HELD
_allowlisted = operator.attrgetter("allowlisted")
_kind_of = operator.attrgetter("value.kind")


@dataclass(frozen=True)
class Provenance:
    """Who asserts, through which channel, and the defaults for rows that say nothing."""

    org: str
    feed: str | None = None
    tlp: str = tlp_mod.DEFAULT_TLP
    confidence: int = 50
    labels: tuple[str, ...] = ()
    region: str | None = None
    kind: str | None = None
    description: str | None = None
    valid_until: datetime | None = None
    external_ref: str | None = None
    platform: str | None = None  # the platform of rows that are accounts or of no given kind (`@name`)
    # The settings' REVIEW_DAYS (None: the defaults), by which every assertion written gets its
    # review date (docs/design.md, "Listed means in force"); read-only, shared.
    review_days: dict[str, float] | None = field(default=None, compare=False)
    # The Admiralty grading of rows that give none (domain.grading; checked by ``grades``). Whoever
    # makes a provenance with a credibility and no confidence gives ``grading.confidence_for``'s.
    reliability: str | None = None
    credibility: int | None = None


@dataclass(slots=True)
class Submission:
    """One raw value and what its row says beyond the provenance defaults."""

    value: str
    kind: str | None = None
    labels: tuple[str, ...] = ()
    confidence: int | None = None
    tlp: str | None = None
    description: str | None = None
    valid_until: datetime | None = None
    first_seen: datetime | None = None
    stix_id: str | None = None
    # It came with an id of its own (STIX), kept in ``stix_id`` or not: a capped writer's report
    # says which id its row is served under (``SubmitReport.served_ids``).
    named: bool = False
    external_ref: str | None = None  # a URL about this value (a STIX external reference); else the provenance's
    line_no: int | None = None
    line: str | None = None
    # What this value is read with, beyond the provenance's: the platform of a bare ``@name``
    # (a user-account), the region of a national number (else the provenance's or the org's);
    # a value written in separate cells (ingest.parts): an account number's bank and country.
    platform: str | None = None
    region: str | None = None
    bank: str | None = None
    country: str | None = None
    # A person's reason to relist a value delisted less than REGISTRY_RELIST_DAYS ago, which
    # would be held without one (docs/design.md, "Disputes and delisting").
    relist: str | None = None
    # Its own grading (checked), over the provenance's; with a credibility and no confidence, the
    # confidence is the one the credibility maps to (domain.grading.confidence_for).
    reliability: str | None = None
    credibility: int | None = None


@dataclass(slots=True)
class Reject:
    line_no: int | None
    text: str
    reason: str

    def to_dict(self) -> dict:
        return {"line": self.line_no, "text": self.text, "reason": self.reason}


@dataclass
class SubmitReport:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    allowlisted: int = 0
    rejected: int = 0
    held: int = 0  # reports of values delisted less than REGISTRY_RELIST_DAYS ago: not written
    rejects: list[Reject] = field(default_factory=list)
    results: list[dict] | None = None
    # For the caller's audit (not in to_dict()): the values held, and those relisted with a
    # person's reason ({"value", "reason"}).
    held_values: list[str] = field(default_factory=list)
    relisted: list[dict] = field(default_factory=list)
    # Updates that lowered a TLP, for the caller's audit; not in to_dict().
    lowered: Lowered = field(default_factory=Lowered)
    # A capped writer's ``named`` values: canonical value -> (the id its row is served under,
    # whether its own id named another of the source's rows); for the STIX import's report.
    served_ids: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {
            "read": self.read, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
            "allowlisted": self.allowlisted, "rejected": self.rejected, "held": self.held,
            "rejects": [r.to_dict() for r in self.rejects],
        }
        if self.results is not None:
            out["results"] = self.results
        return out


def clean_labels(labels: Iterable[str], *, strict: bool = True) -> tuple[str, ...]:
    """Labels as sorted, distinct slugs. ``strict``: an invalid label raises Invalid (what a
    person typed); otherwise it is dropped (what a feed row carries)."""
    out = set()
    for label in labels:
        slug = label_slug(label)
        if not slug:
            continue
        if is_label(slug):
            out.add(slug)
        elif strict:
            raise Invalid(f"label {label!r} must be a short slug such as call-centre-scam", field="labels")
    return tuple(sorted(out))


def grades(reliability, credibility, field_prefix: str = "") -> tuple[str | None, int | None]:
    """A reliability and a credibility as stored, from what a person or a client gave (a letter,
    a whole number or its digit); ``Invalid`` naming the field (``field_prefix`` + its name)."""
    try:
        reliability = grading.reliability(reliability)
    except grading.GradeError as exc:
        raise Invalid(str(exc), field=f"{field_prefix}reliability") from None
    try:
        credibility = grading.credibility(credibility)
    except grading.GradeError as exc:
        raise Invalid(str(exc), field=f"{field_prefix}credibility") from None
    return reliability, credibility


def check_confidence(value: int, field_name: str = "confidence") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise Invalid(f"{field_name} must be a whole number from 0 to 100, not {value!r}", field=field_name)
    return value


class Submitter:
    """Collects submissions and upserts them in batches on ``conn``.

    ``viewer`` is who writes (a key's or user's ``Viewer``); None is the operator (imports and
    feed runs), who sees everything. A writer never updates an assertion it may not see: see
    ``domain.lanes``. ``relist_days``: the caller's ``REGISTRY_RELIST_DAYS`` (else the
    environment's), within which a delisted value's reports are held (``_hold``).
    """

    def __init__(
        self,
        conn: Connection,
        provenance: Provenance,
        *,
        now: datetime | None = None,
        batch_size: int = 2000,
        keep_results: bool = False,
        allowlist: Allowlist | None = None,
        on_batch=None,
        background_writes: bool = False,
        viewer: tlp_mod.Viewer | None = None,
        relist_days: int | None = None,
        together: Together | None = None,
    ) -> None:
        self.conn = conn
        self.prov = provenance
        self.viewer = viewer
        self.org = require_org(conn, provenance.org)
        self.region = provenance.region or self.org.country
        self.now = now or utcnow()
        self.batch_size = batch_size
        self.allowlist = allowlist or load_allowlist(conn)
        self.report = SubmitReport(results=[] if keep_results else None)
        # Called after each flushed batch, on this thread, while its writes may still run; what
        # it returns (if anything) runs once they are done, on the writer's thread: a feed run
        # snapshots its counts here and commits there, so the next batch is prepared meanwhile.
        self.on_batch = on_batch
        # Large imports on SQLite write each batch on a helper thread while the next is prepared.
        self.writer = BackgroundWriter() if background_writes and conn.dialect.name == "sqlite" else InlineWriter()
        self._labels = tuple(sorted(set(provenance.labels)))
        self._pending: dict[str, store.Pending] = {}
        self._owners: dict[str, int] = {}  # canonical value → result index (when results are kept)
        self._ids: ids.IndicatorIds | None = None
        self.relist_days = relist_days
        self._delisted: dict[str, tuple[datetime, int]] | None = None  # read at the first flush
        self._relist: dict[str, str] = {}  # canonical value → a person's reason to relist it
        # A small submission a person or client makes records the values it wrote as submitted
        # together (services.cosubmissions); feed runs and file imports pass none.
        self.together = together

    # -- input -------------------------------------------------------------------------
    def add(self, sub: Submission) -> None:
        kind = sub.kind or self.prov.kind
        try:
            platform = sub.platform or (self.platform_for(sub, kind) if self.prov.platform else None)
            values = normalize(sub.value, kind, sub.region or self.region, platform, bank=sub.bank, country=sub.country)
        except NormalizeError as exc:
            values = exc
        self.add_normalized(sub, values)

    def platform_for(self, sub: Submission, kind: str | None) -> str | None:
        """The platform ``sub`` is read with: its own, else the provenance's when the row is of no
        other kind (a file's rows of other kinds keep theirs under ``--platform``)."""
        if sub.platform:
            return sub.platform
        return self.prov.platform if kind is None or kind == USER_ACCOUNT else None

    def add_normalized(self, sub: Submission, values: tuple | NormalizeError, reasons: tuple | None = None) -> None:
        """Add a submission whose value was already normalised (``pipeline.normalize_parallel``
        also gives the allowlist ``reasons``, one per value)."""
        report = self.report
        report.read += 1
        index = self._result_slot(sub.value)
        if isinstance(values, NormalizeError):
            exc = values
            reason = emergency_reason(sub.value)
            if reason:
                report.allowlisted += 1
                self._set_result(index, ALLOWLISTED, reason=reason)
                return
            self.reject(sub.line_no, sub.line or sub.value, str(exc), index=index)
            if index is not None:  # the answer names the kind tried and the reason apart too
                self.report.results[index].update(kind=exc.kind, reason=exc.reason)
            return
        if sub.relist:
            self._relist.update(dict.fromkeys((v.value for v in values), sub.relist))
        labels = self._labels if not sub.labels else tuple(sorted(set(self._labels) | set(sub.labels)))
        prov = self.prov
        credibility = sub.credibility if sub.credibility is not None else prov.credibility
        self._add_values(
            index, values, reasons, labels, grading.confidence_for(sub.confidence, sub.credibility, prov.confidence),
            sub.tlp or prov.tlp, sub.description or prov.description, sub.valid_until or prov.valid_until,
            sub.first_seen, sub.stix_id, sub.external_ref or prov.external_ref, (sub.line or sub.value)[:500],
            named=sub.named, grade=(sub.reliability or prov.reliability, credibility),
        )

    def add_prepared(self, rows) -> None:
        """Add the rows of a plain list prepared in worker processes
        (``pipeline.prepare_text_parallel``): the provenance's defaults apply to every row."""
        report, prov, labels = self.report, self.prov, self._labels
        add_values, slot = self._add_values, self._result_slot
        grade = (prov.reliability, prov.credibility)
        keep = report.results is not None
        read = 0
        for row in rows:
            tag = row[0]
            if tag == pipeline.NORMALISED:
                _, raw, line, values, reasons = row
                add_values(slot(raw) if keep else None, tuple(map(value_from_fields, values)), reasons, labels,
                           prov.confidence, prov.tlp, prov.description, prov.valid_until, None, None,
                           prov.external_ref, line, grade=grade)
            elif tag == pipeline.ALLOWLISTED:
                _, raw, reason = row
                report.allowlisted += 1
                self._set_result(slot(raw), ALLOWLISTED, reason=reason)
            elif tag == pipeline.REJECTED:
                _, raw, line_no, line, reason = row
                self.reject(line_no, line, reason, index=slot(raw))
            else:  # SKIPPED
                _, line_no, line, reason = row
                self.reject(line_no, line, reason)
                continue
            read += 1
        report.read += read

    def _add_values(self, index, values, reasons, labels, confidence, tlp, description, valid_until, first_seen,
                    stix_id, external_ref, raw, *, named: bool = False,
                    grade: tuple[str | None, int | None] = (None, None)) -> None:
        pending_by_value = self._pending
        reason_for = self.allowlist.reason_for
        for n, value in enumerate(values):
            key = value.value
            pending = pending_by_value.get(key)
            if pending is not None:  # the same value again in this batch: merge, count it unchanged
                _merge(pending, labels, confidence, named, grade)
                if value.detail != pending.value.detail and value.kind == FILE_HASH:  # more of the file's hashes
                    pending.value = same_file.joined(pending.value, value)
                self.report.unchanged += 1
                self._set_result(index, store.UNCHANGED, value=value)
                continue
            pending_by_value[key] = store.Pending(
                value, confidence, tlp, labels, description, valid_until, first_seen, stix_id, external_ref, raw,
                reasons[n] if reasons is not None else reason_for(value),
            )
            if named:
                pending_by_value[key].named = True
            if grade[0] is not None or grade[1] is not None:
                pending_by_value[key].reliability, pending_by_value[key].credibility = grade
            if index is not None:
                self._owners[key] = index
        if len(pending_by_value) >= self.batch_size:
            self.flush()

    def reject(self, line_no: int | None, text: str, reason: str, *, index: int | None = None) -> None:
        """Count a row that cannot be used, keeping a sample with its reason."""
        self.report.rejected += 1
        if len(self.report.rejects) < MAX_REJECT_SAMPLES:
            self.report.rejects.append(Reject(line_no, text[:500], reason))
        if index is not None:
            self._set_result(index, REJECTED, error=reason)

    # -- output ------------------------------------------------------------------------
    def flush(self) -> None:
        if not self._pending:
            return
        pending = self._pending
        # File hashes land on their file's indicator, and bring its other hashes (aliases) along.
        renamed, pairs = self._same_file() if FILE_HASH in set(map(_kind_of, pending.values())) else ({}, ())
        self._hold()
        # Sorted by value: the unique-value index takes each batch in key order (fewer pages touched).
        items = [pending[key] for key in sorted(pending)]
        feed = self.prov.feed or ""
        upserted = store.upsert(self.conn, self.org.id, feed, items, self.now, writer=self.writer,
                                viewer=self.viewer, org=self.org.slug, derive=self._derive,
                                review_days=self.prov.review_days)
        statuses, lowered, served = upserted.statuses, upserted.lowered, upserted.ids
        conn = self.conn
        if pairs:
            self.writer.then(lambda: aliases.add(conn, pairs))  # after the batch's indicators are written
        news = announce.reports(self.org.slug, feed, items, statuses, upserted.before, self.now)
        if news:  # after the batch's writes, in its transaction (docs/design.md, "Events and watches")
            actor = self.viewer or tlp_mod.Viewer(self.org.slug, tlp_mod.RED)  # an import, a feed: the org at RED
            org_id, now, fresh = self.org.id, self.now, upserted.fresh
            self.writer.then(lambda: announce.emit_with_owners(conn, news, org_id, actor, now, fresh))
        if self.together is not None:
            self.together.add(items)
        report = self.report
        counts = Counter(statuses)
        # Allowlisted rows are stored (flagged) but counted apart.
        counts.subtract(compress(statuses, map(_allowlisted, items)))
        counts[ALLOWLISTED] = sum(map(bool, map(_allowlisted, items)))
        for status, n in counts.items():
            setattr(report, status, getattr(report, status) + n)
        if report.results is not None:
            for item, status in zip(items, statuses, strict=True):
                self._set_result(self._owners[item.value.value], ALLOWLISTED if item.allowlisted else status,
                                 value=item.value, reason=item.allowlisted)
        for n, level in lowered:
            item = items[n]
            report.lowered.add("assertion", item.value.value, level, item.tlp)
            if report.results is not None:  # the writer saw the row: it may be told what it had
                report.results[self._owners[item.value.value]]["tlp_lowered"] = {"from": level, "to": item.tlp}
        for n, served_id, held in served:
            key = items[n].value.value
            report.served_ids[key] = (served_id, held)
            for given in renamed.get(key, ()):  # asked for by the value it was given as
                report.served_ids[given] = (served_id, held)
        self._pending.clear()
        self._owners.clear()
        self._relist.clear()
        if self.on_batch:
            after = self.on_batch(self)
            if after is not None:
                self.writer.then(after)

    def _same_file(self) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
        """Each file hash of the batch onto the indicator it lands on (``domain.same_file``): an
        item whose file is listed under another hash takes that value (merged, as a repeat, with
        the batch's item of it), and no item keeps other hashes in its value (the indicator row
        stores none: they are aliases). (values given that now stand under another, by that
        value; the aliases to store)."""
        self.writer.wait()  # the reads must see the previous batch and its aliases
        pending, owners = self._pending, self._owners
        files = [p.value for p in pending.values() if p.value.kind == FILE_HASH]
        targets, pairs = aliases.resolve(self.conn, files)
        renamed: dict[str, list[str]] = {}
        for value in files:
            key, target = value.value, targets[value.value]
            if target == key and value.detail is None:
                continue
            item = pending.pop(key)
            owner = owners.pop(key, None)
            into = pending.get(target)
            if into is None:
                item.value = same_file.plain(target)
                pending[target] = item
                if owner is not None:
                    owners[target] = owner
            else:
                _merge(into, item.labels, item.confidence, item.named, (item.reliability, item.credibility))
                self.report.unchanged += 1
                self._set_result(owner, store.UNCHANGED, value=into.value)
            if target != key:
                renamed.setdefault(target, []).append(key)
        for _, target in pairs:  # the item that lands on each file given new hashes
            pending[target].news = True
        return renamed, pairs

    def _hold(self) -> None:
        """Take out of the batch the reports of values delisted less than REGISTRY_RELIST_DAYS
        ago (``domain.disputes``): held, not written, unless the source's own assertion on the
        value is in force or the submission gives a person's reason to relist it. The recent
        delistings are read once per submitter (a few rows: people decide them)."""
        delisted = self._delisted
        if delisted is None:
            if self.relist_days is None:
                self.relist_days = config.given_or_loaded(None).relist_days
            since = dispute_rules.held_since(self.now, self.relist_days)
            delisted = self._delisted = {} if since is None else dispute_store.recently_delisted(self.conn, since)
        pending = self._pending
        hits = [key for key in pending if key in delisted] if delisted else ()
        if not hits:
            return
        self.writer.wait()  # a relisting by an earlier batch of this submitter counts
        now = self.now
        in_force = {row.indicator_id for row in dispute_store.org_assertions(
            self.conn, [delisted[key][1] for key in hits], self.org.id)
            if standing.ended(row.valid_until, row.review_at, row.end_reason, now) is None}
        report = self.report
        for key in hits:
            when, indicator_id = delisted[key]
            if indicator_id in in_force:
                continue
            reason = self._relist.get(key)
            if reason is not None:
                report.relisted.append({"value": key, "reason": reason})
                continue
            item = pending.pop(key)
            report.held += 1
            report.held_values.append(key)
            self._set_result(self._owners.pop(key, None), HELD, value=item.value, reason=(
                f"{key} was delisted on {iso(when)[:10]} after a dispute, less than {self.relist_days} days ago: "
                "its reports are held, not relisted. A person relists it by submitting it with a reason (in the "
                'API "relist": true and "reason"; on the submit page, Relist and the reason)'))

    def _derive(self, value: str, lane: int) -> str:
        """The Indicator id of this source's row of ``value`` in ``lane`` (a capped writer's batch)."""
        if self._ids is None:  # the database's key, read once and only when a capped writer needs it
            self._ids = ids.indicator_ids(stix_reads.id_key(self.conn), caches_of(self.conn).derived)
        return self._ids.derive(value, self.org.stix_id, self.prov.feed or "", lane)

    def finish(self) -> SubmitReport:
        self.flush()
        self.writer.close()
        if self.together is not None:
            self.together.record(self.conn, self.org.id, self.now)
        return self.report

    def close(self) -> None:
        """Stop the helper thread; when the import failed, after its last write (so the
        rollback never races a write) and without hiding the first error."""
        with contextlib.suppress(Exception):  # the error that made us close is the one to report
            self.writer.close()

    def __enter__(self) -> Submitter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _result_slot(self, raw: str) -> int | None:
        if self.report.results is None:
            return None
        self.report.results.append({"value": raw, "status": None})
        return len(self.report.results) - 1

    def _set_result(self, index, status, *, value=None, error=None, reason=None) -> None:
        if index is None:
            return
        result = self.report.results[index]
        if result["status"] in (store.NEW, store.UPDATED):
            return  # one row (an a–b range) may hold several values: keep the strongest news
        result["status"] = status
        if value is not None:
            result["canonical"] = value.value
            result["kind"] = value.kind
        if error:
            result["error"] = error
        if reason:
            result["reason"] = reason


def _merge(pending: store.Pending, labels: tuple[str, ...], confidence: int, named: bool,
           grade: tuple[str | None, int | None] = (None, None)) -> None:
    """What a repeat of ``pending``'s value in one batch adds to it (a grade where it had none)."""
    if labels != pending.labels:
        pending.labels = tuple(sorted(set(pending.labels) | set(labels)))
    pending.confidence = max(pending.confidence, confidence)
    pending.named = pending.named or named
    if pending.reliability is None:
        pending.reliability = grade[0]
    if pending.credibility is None:
        pending.credibility = grade[1]


def submit(conn: Connection, provenance: Provenance, submissions: Iterable[Submission], **kwargs) -> SubmitReport:
    submitter = Submitter(conn, provenance, **kwargs)
    for sub in submissions:
        submitter.add(sub)
    return submitter.finish()
