"""Bulk writes of indicators and assertions: ``upsert`` one source's assertions, and
``ensure_indicators``. The reads are in ``indicator_reads``.

Every statement here takes many rows at once: one ``IN`` query per chunk of values, one
``executemany`` per kind of write (see ``bulk`` for why the hot ones skip Core's per-row
processing). Nothing builds one ORM object per row.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, text

from registry.domain import lanes, standing
from registry.domain.kinds import IPV4, IPV6, Value
from registry.domain.tlp import RANK, Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.db import next_seq
from registry.storage.writer import InlineWriter

chunks = bulk.chunks


def encode_labels(labels: Iterable[str]) -> str:
    return "," + ",".join(sorted(set(labels))) + "," if labels else ","


@dataclass(slots=True)
class Pending:
    """One canonical value about to be asserted by one source."""

    value: Value
    confidence: int
    tlp: str
    labels: tuple[str, ...]
    description: str | None = None
    valid_until: datetime | None = None
    first_seen: datetime | None = None
    stix_id: str | None = None
    external_ref: str | None = None
    raw: str | None = None
    allowlisted: str | None = None
    # It came with an id of its own (STIX), kept or not: a capped writer is told the id its row is
    # served under (``Upserted.ids``), since only the write knows which of the source's rows that is.
    named: bool = False
    # It brings news the assertion's fields do not show (more hashes of a file): an existing row
    # is updated (a new ``seq``), so exports and TAXII since a position carry it again.
    news: bool = False
    # The source's Admiralty grading (domain.grading); a report replaces it, as its confidence.
    reliability: str | None = None
    credibility: int | None = None


NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
# Only IPs and phone number blocks have a prefix length; these ones are single values.
_SINGLE_ADDRESS = frozenset({(IPV4, 32), (IPV6, 128)})

_ASSERTION_COLUMNS = (
    "indicator_id", "org_id", "feed", "confidence", "tlp", "labels", "description", "valid_until",
    "first_seen", "last_seen", "times_reported", "stix_id", "external_ref", "raw", "review_at", "reliability",
    "credibility", "modified", "seq",
)
_STIX_ID = _ASSERTION_COLUMNS.index("stix_id")
_INDICATOR_COLUMNS = (
    "kind", "value", "display", "prefix_len", "range_start", "range_end", "detail", "allowlisted", "first_seen",
    "last_seen",
)


def indicator_ids(conn: Connection, values: Sequence[str]) -> dict[str, int]:
    return dict(bulk.tuples_in(conn, "SELECT value, id FROM indicator", "value", values))


def _update_where_ids(conn: Connection, table: str, assignments: str, ids: Sequence[int], params: dict) -> None:
    for part in chunks(ids):
        conn.execute(
            text(f"UPDATE {table} SET {assignments} WHERE {bulk.in_values(conn, 'id')}"),
            {**params, "vals": bulk.values_param(conn, part)},
        )


class Upserted(NamedTuple):
    statuses: list[str]  # ``new``/``updated``/``unchanged`` per item
    lowered: list[tuple[int, str]]  # (item index, the level it lowered) of updates that lowered a TLP
    # A capped writer's ``named`` items: (item index, the id its row is served under, whether the
    # item's own id named another row of the source, so was not kept).
    ids: list[tuple[int, str, bool]]
    # Of the updated items: (first_seen, times_reported, description) the row had (its event shows the row).
    before: dict[int, tuple[datetime, int, str | None]]
    # Values whose indicator this batch made, so no other org holds an assertion on it (see
    # ``_insert_indicators``).
    fresh: frozenset[str]


def upsert(conn: Connection, org_id: int, feed: str, items: list[Pending], now: datetime, *,
           writer=None, viewer: Viewer | None = None, org: str = "",
           derive: Callable[[str, int], str] | None = None,
           review_days: dict[str, float] | None = None) -> Upserted:
    """Upsert one source's assertions.

    Each one written, new or reported again, gets its review date from now (``review_days`` by
    kind: ``domain.standing.review_date``); one that had ended (``domain.standing``: past its
    valid_until or review date, or ended by the registry) is updated, its ``end_reason`` cleared
    (docs/design.md, "Listed means in force").

    ``items`` must hold distinct canonical values (the caller merges duplicates). With a
    ``writer`` (storage.writer), the batch's writes may still be running when this returns.
    ``viewer`` is who writes (None: the operator) and ``org`` the slug of ``org_id``: a writer who
    may not see every level of the org goes through ``domain.lanes`` (then ``derive(value,
    lane)``, the Indicator id of this source's row of ``value`` in ``lane``, is required): see
    ``_lane_ids`` for the ids its rows get.
    """
    writer = writer or InlineWriter()
    # Both rows of every item are drafted as if it were new (most of an import's items are)
    # while the previous batch is still being written; only ids and sequence numbers wait.
    drafts = _Drafts(conn, org_id, feed, items, now, review_days)
    writer.wait()  # reads below must see the previous batch
    ids, known, writes, fresh = _indicator_ids_for(conn, drafts)
    db_now = drafts.db_now
    # Imports, feed runs and writers who see everything keep to lane 0: one row per value, as
    # fast as before. Others read every lane of their values and choose per item.
    capped = not lanes.sees_every_level(viewer, org)

    # Only indicators that existed before this batch can hold an assertion already.
    current: dict = {}
    columns = ("id, indicator_id, lane, stix_id, confidence, tlp, labels, description, valid_until, review_at, end_reason, "
               "reliability, credibility, first_seen, times_reported")
    typed = text(
        f"SELECT {columns} FROM assertion WHERE org_id = :org AND feed = :feed AND "
        f"{'' if capped else 'lane = 0 AND '}{bulk.in_values(conn, 'indicator_id')}"
    ).columns(valid_until=t.assertion.c.valid_until.type, review_at=t.assertion.c.review_at.type,
              first_seen=t.assertion.c.first_seen.type)
    for part in chunks(known):
        rows = conn.execute(typed, {"org": org_id, "feed": feed, "vals": bulk.values_param(conn, part)})
        if capped:
            for row in rows:
                current.setdefault(row.indicator_id, []).append(row)
        else:
            current.update((row.indicator_id, row) for row in rows)

    iids = [ids[p.value.value] for p in items]
    statuses: list[str] = [NEW] * len(items)
    new = range(len(items))
    changed, lowered = [], []
    before: dict[int, tuple[datetime, int, str | None]] = {}
    touches: dict[str, list[int]] = {}  # by kind: the review date moves on by kind
    choices: dict[int, lanes.Choice] = {}
    if current:
        new = []
        for n, (p, iid) in enumerate(zip(items, iids, strict=True)):
            if capped:
                choice = choices[n] = lanes.choose(current.get(iid, ()), viewer, org, p.tlp)
                row = choice.row
            else:
                row = current.get(iid)
            if row is None:
                new.append(n)
                continue
            labels = drafts.assertions[n][5]  # encoded as the row stores them
            description = p.description if p.description is not None else row.description
            ended_before = standing.ended(row.valid_until, row.review_at, row.end_reason, now) is not None
            if (
                row.confidence != p.confidence or row.tlp != p.tlp or row.labels != labels
                or row.description != description or row.valid_until != p.valid_until or ended_before
                or p.news or row.reliability != p.reliability or row.credibility != p.credibility
            ):
                changed.append((p, labels, description, row.id))
                statuses[n] = UPDATED
                before[n] = (row.first_seen, row.times_reported, row.description)
                if RANK[p.tlp] < RANK[row.tlp]:
                    lowered.append((n, row.tlp))
            else:
                touches.setdefault(p.value.kind, []).append(row.id)
                statuses[n] = UNCHANGED
            if capped and choice.as_new:
                statuses[n] = NEW  # a row hidden from the writer: answered as if there were none

    inserts: list[tuple] = []
    changes: list[tuple] = []
    if new or changed:
        # Sequence numbers are taken in one step; the counter row stays locked until commit.
        seq = next_seq(conn, len(new) + len(changed))
        drafted = drafts.assertions
        for n in new:
            row = drafted[n]
            row[0], row[-1] = iids[n], seq
            inserts.append(row)
            seq += 1
        as_db, review_at = drafts.as_db, drafts.review_at
        for p, labels, description, assertion_id in changed:
            changes.append((p.confidence, p.tlp, labels, description, as_db(p.valid_until) if p.valid_until else None,
                            p.reliability, p.credibility, db_now, review_at(p.value.kind), db_now, seq, assertion_id))
            seq += 1
    insert_columns = _ASSERTION_COLUMNS
    served: list[tuple[int, str, bool]] = []
    if capped:
        insert_columns += ("lane",)
        served = _lane_ids(items, iids, current, choices, dict(zip(new, inserts, strict=True)), derive)

    def write() -> None:
        for deferred in writes:
            deferred()
        bulk.insert_many(conn, "assertion", insert_columns, inserts)
        bulk.update_many(
            conn, "assertion",
            ("confidence", "tlp", "labels", "description", "valid_until", "reliability", "credibility", "last_seen",
             "review_at", "modified", "seq"),
            # An update reports the value anew: whatever ended the row (a snapshot, a review date, a
            # delisting past its relist days or relisted by a person: services.submit) no longer does.
            changes, extra_set="times_reported = times_reported + 1, end_reason = NULL",
        )
        for kind, ids_of_kind in touches.items():
            _update_where_ids(conn, "assertion", "last_seen = :now, review_at = :review, "
                              "times_reported = times_reported + 1", ids_of_kind,
                              {"now": db_now, "review": drafts.review_at(kind)})

    writer.submit(write)
    return Upserted(statuses, lowered, served, before, fresh)


def _lane_ids(items: list[Pending], iids: list[int], current: dict, choices: dict[int, lanes.Choice],
              inserted: dict[int, list], derive: Callable[[str, int], str]) -> list[tuple[int, str, bool]]:
    """A capped writer's batch: each inserted row gets its lane, and its STIX id: the item's own
    unless that id is already another row's of this source (another lane: stix.claims let it
    through, not knowing which row the write would take) or lane 0's derived one (never stored);
    else, in a lane other than 0, the id derived with the lane. What ``Upserted.ids`` reports of
    the ``named`` items. The other rows' ids are compared whether the writer may see them or not,
    so the unique id index is never met and the answer is the same either way."""
    out = []
    for n, p in enumerate(items):
        choice = choices.get(n)
        target = choice.row if choice is not None else None
        value = p.value.value
        held = p.stix_id is not None and p.stix_id in {
            r.stix_id or derive(value, r.lane) for r in current.get(iids[n], ()) if r is not target}
        row = inserted.get(n)
        if row is not None:
            lane = choice.lane if choice is not None else lanes.ORDINARY
            stix_id = p.stix_id
            if stix_id is not None and (held or stix_id == derive(value, lanes.ORDINARY)):
                stix_id = None
            if stix_id is None and lane != lanes.ORDINARY:
                stix_id = derive(value, lane)
            row[_STIX_ID] = stix_id
            row.append(lane)
            if p.named:
                out.append((n, stix_id or derive(value, lanes.ORDINARY), held))
        elif p.named:
            out.append((n, target.stix_id or derive(value, target.lane), held))
    return out


class _Drafts:
    """Per item: its indicator row with the id still None, its assertion row with the indicator
    id and the sequence number still None (lists, filled in place once known); and the batch's
    range prefix lengths."""

    def __init__(self, conn: Connection, org_id: int | None, feed: str, items: Sequence[Pending], now: datetime,
                 review_days: dict[str, float] | None = None):
        self.db_now = db_now = bulk.db_time(conn, now)
        self.as_db = as_db = bulk.time_writer(conn)
        reviews: dict[str, object] = {}  # kind → the review date of what is written now, as stored

        def review_at(kind: str):
            got = reviews.get(kind)
            if got is None:
                got = reviews[kind] = as_db(standing.review_date(kind, now, review_days))
            return got

        self.review_at = review_at
        encoded: dict[tuple, str] = {}  # a batch shares a handful of label sets
        self.indicators, self.assertions = indicators, assertions = [], []
        self.lengths = lengths = set()
        for p in items:
            v = p.value
            indicators.append([None, v.kind, v.value, v.display, v.prefix_len, v.range_start, v.range_end, v.detail,
                               p.allowlisted, as_db(min(p.first_seen, now)) if p.first_seen else db_now, db_now])
            if v.prefix_len is not None and (v.kind, v.prefix_len) not in _SINGLE_ADDRESS:  # Value.is_range
                lengths.add((v.kind, v.prefix_len))
            if org_id is None:
                continue
            labels = encoded.get(p.labels)
            if labels is None:
                labels = encoded[p.labels] = encode_labels(p.labels)
            assertions.append([
                None, org_id, feed, p.confidence, p.tlp, labels, p.description,
                as_db(p.valid_until) if p.valid_until else None, as_db(p.first_seen) if p.first_seen else db_now,
                db_now, 1, p.stix_id, p.external_ref, p.raw if p.raw != v.value else None, review_at(v.kind),
                p.reliability, p.credibility, db_now, None,
            ])


def ensure_indicators(conn: Connection, items: Sequence[Pending], now: datetime) -> tuple[dict[str, int], list[int]]:
    """Ids of the items' indicators, inserting the missing ones, and the ids that already
    existed (those are marked seen now). Needs a write transaction (``Database.write``)."""
    ids, known, writes, _ = _indicator_ids_for(conn, _Drafts(conn, None, "", items, now))
    for write in writes:
        write()
    return ids, known


def _indicator_ids_for(conn: Connection, drafts: _Drafts):
    """(ids by value, ids that existed, writes still to run, the values whose indicator this call
    made): new indicators get their ids here; on SQLite their insert is one of the returned
    writes (see ``_insert_indicators``)."""
    ids = indicator_ids(conn, [row[2] for row in drafts.indicators])  # the drafted rows' values
    known = list(ids.values())
    missing = [row for row in drafts.indicators if row[2] not in ids] if ids else drafts.indicators
    writes = []
    made: frozenset[str] = frozenset()
    if missing:
        new_ids, write, all_ours = _insert_indicators(conn, missing, drafts.lengths)
        ids.update(new_ids)
        writes.append(write)
        if all_ours:
            made = frozenset(map(_VALUE_OF_ROW, missing))
    db_now = drafts.db_now
    writes.append(lambda: _update_where_ids(conn, "indicator", "last_seen = :now", known, {"now": db_now}))
    return ids, known, writes, made


def _insert_indicators(conn: Connection, rows: list[list], lengths: set):
    """New indicators' ids (by value), the write that stores them (``rows``: drafted, ids None),
    and whether every one is this transaction's own (no other writer can hold an assertion on it).

    On SQLite the write transaction holds the database lock (BEGIN IMMEDIATE), so ids are
    assigned here and the insert may run later; PostgreSQL may have concurrent writers, so it
    inserts at once with ON CONFLICT DO NOTHING and reads the ids back: when it inserted them all,
    none was another's (a concurrent insert of one makes it wait, then skip it).
    """
    def write_lengths() -> None:
        bulk.insert_many(conn, "prefix_length", ("kind", "length"), sorted(lengths), ignore_conflicts=True)

    if bulk.is_sqlite(conn):
        first = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM indicator").scalar()
        numbers = range(first, first + len(rows))
        for row, n in zip(rows, numbers, strict=True):
            row[0] = n
        ids = dict(zip(map(_VALUE_OF_ROW, rows), numbers, strict=True))

        def write() -> None:
            bulk.insert_many(conn, "indicator", ("id", *_INDICATOR_COLUMNS), rows)
            write_lengths()

        return ids, write, True
    inserted = bulk.insert_many(conn, "indicator", _INDICATOR_COLUMNS, [row[1:] for row in rows],
                                ignore_conflicts=True)
    write_lengths()
    return indicator_ids(conn, [row[2] for row in rows]), lambda: None, inserted == len(rows)


_VALUE_OF_ROW = operator.itemgetter(2)

