"""Operations and relationships as STIX, the reading: one operation's bundle (``GET
/api/v1/operations/ID/stix``, ``registry op export``) and the groupings and relationships TAXII
serves beside the Indicators (docs/stix-taxii.md, "Operations"). The rows are read here under
the one TLP rule and handed to the pure builders of ``registry.stix.operations``.

What is known about a member (its assertions, a file's other hashes) is shown only as the
caller's own lookup would show it: the Indicators of the assertions the caller may see, and a
file's other hashes only when the caller sees a report of the file.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain.kinds import FILE_HASH
from registry.domain.tlp import Viewer
from registry.services import stix_export
from registry.services.operations import viewer_of, visible_operation
from registry.stix import build
from registry.stix import operations as stix_ops
from registry.stix.times import as_datetime
from registry.storage import aliases, stix_reads
from registry.storage import operations as op_store
from registry.storage import relationships as rel_store

GROUPING_PREFIX, RELATIONSHIP_PREFIX = "grouping--", "relationship--"


class Entry(NamedTuple):
    """A grouping or relationship of a TAXII stream (as ``stix_export.Entry``: seq, the time it
    was added, the object), with ``context``: the SCOs it names, which its page serves with it
    (a grouping's members, a relationship's ends)."""

    seq: int
    added: datetime
    obj: dict
    context: tuple


def operation_bundle(conn: Connection, uid: str, by) -> dict:
    """The STIX bundle of operation ``uid`` as ``by`` (a ``Principal`` or ``ON_SERVER``) may see
    it; NotFound when it may not see the operation (as for an unknown id)."""
    op = visible_operation(conn, uid, by)
    viewer = viewer_of(by)
    orgs = stix_export.load_orgs(conn)
    (parts,) = operation_parts(conn, viewer, [op], orgs)
    return stix_ops.operation_bundle(viewer, parts, orgs)


def operation_parts(conn: Connection, viewer: Viewer, ops: Sequence[op_store.OperationRow],
                    orgs: build.Orgs) -> list[stix_ops.Parts]:
    """The parts of each of these (visible) operations, read together: their members, the
    members' visible assertions and the visible relationships between two members of one."""
    members = op_store.members_of(conn, [op.id for op in ops])
    every = sorted({m.indicator_id for rows in members.values() for m in rows})
    assertions: dict[int, list] = {}
    for row in stix_reads.assertions_of_indicators(conn, viewer, every):
        assertions.setdefault(row.indicator_id, []).append(row)
    files = [i for i, rows in assertions.items() if rows[0].kind == FILE_HASH]
    others = {i: tuple(h) for i, h in aliases.aliases_of(conn, files).items()} if files else {}
    linked = rel_store.between(conn, every, viewer)
    out = []
    for op in ops:
        ids = {m.indicator_id for m in members[op.id]}
        own = [row for i in sorted(ids) for row in assertions.get(i, ())]
        between = [r for r in linked if r.source_id in ids and r.target_id in ids]
        out.append(stix_ops.operation_parts(op, orgs, members[op.id], own, others, between))
    return out


# -- TAXII ----------------------------------------------------------------------------------------

def entries(conn: Connection, viewer: Viewer, *, since_seq: int | None, since_time: datetime | None,
            kind: str | None, page: int, orgs: build.Orgs) -> Iterator[Entry]:
    """The groupings (not in a collection of one kind: an operation holds any kind) and the
    relationships (in a collection of one kind: those with an end of that kind) the viewer may
    see, each with the SCOs it names as its context, in seq order."""
    streams = [_relationship_entries(conn, viewer, after=since_seq or 0, page=page, kind=kind, since_time=since_time,
                                     orgs=orgs)]
    if kind is None:
        streams.append(_grouping_entries(conn, viewer, after=since_seq or 0, page=page, since_time=since_time,
                                         orgs=orgs))
    return heapq.merge(*streams, key=lambda entry: entry.seq)


def _grouping_entries(conn, viewer: Viewer, *, after: int, page: int, since_time, orgs) -> Iterator[Entry]:
    while True:
        ops = op_store.page(conn, viewer, after_seq=after, limit=page, since_time=since_time)
        for op, parts in zip(ops, operation_parts(conn, viewer, ops, orgs), strict=True):
            yield Entry(op.seq, as_datetime(op.modified), parts.grouping, tuple(parts.scos))
        if len(ops) < page:
            return
        after = ops[-1].seq


def _relationship_entries(conn, viewer: Viewer, *, after: int, page: int, kind, since_time, orgs) -> Iterator[Entry]:
    while True:
        rows = rel_store.page(conn, viewer, after_seq=after, limit=page, kind=kind, since_time=since_time)
        yield from _relationship_objects(conn, viewer, rows, orgs)
        if len(rows) < page:
            return
        after = rows[-1].seq


def _relationship_objects(conn, viewer: Viewer, rows, orgs: build.Orgs) -> Iterator[Entry]:
    """Each relationship with the SCOs of its ends (marked with its TLP); one with a phone
    number block at an end is left out (a block has no SCO)."""
    ends = {(r.source_id, r.source_kind) for r in rows} | {(r.target_id, r.target_kind) for r in rows}
    others = _seen_files_hashes(conn, viewer, [i for i, kind in ends if kind == FILE_HASH])
    by_slug = {org.slug: org.stix_id for org in orgs.values()}
    for row in rows:
        source = stix_ops.marked_sco(row.source_kind, row.source, others.get(row.source_id, ()), row.tlp)
        target = stix_ops.marked_sco(row.target_kind, row.target, others.get(row.target_id, ()), row.tlp)
        if source is not None and target is not None:
            obj = stix_ops.relationship(row, by_slug[row.org], source["id"], target["id"])
            yield Entry(row.seq, as_datetime(row.modified), obj, (source, target))


def _seen_files_hashes(conn, viewer: Viewer, file_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The other hashes of the files among ``file_ids`` that the viewer sees a report of."""
    if not file_ids:
        return {}
    seen = {row.indicator_id for row in stix_reads.visible_assertions_of(conn, viewer, file_ids)}
    return {i: tuple(h) for i, h in aliases.aliases_of(conn, seen).items()} if seen else {}


def objects_by_id(conn: Connection, viewer: Viewer, stix_id: str, *, kind: str | None = None) -> list[dict]:
    """The grouping or relationship with this id the viewer may see, as a list of one, or empty
    (unknown and hidden alike); ``kind``: a collection of one kind (no groupings; relationships
    with an end of that kind)."""
    lowered = stix_id.lower()
    if lowered.startswith(GROUPING_PREFIX) and kind is None:
        ops = op_store.by_stix_ids(conn, [lowered]) + op_store.by_uids(conn, [lowered[len(GROUPING_PREFIX):]])
        found = [op for op in ops if stix_ops.grouping_id(op) == lowered and viewer.can_see(op.tlp, op.org)]
        if found:
            orgs = stix_export.load_orgs(conn)
            return [operation_parts(conn, viewer, found[:1], orgs)[0].grouping]
    if lowered.startswith(RELATIONSHIP_PREFIX):
        rows = rel_store.by_stix_ids(conn, [lowered]) + rel_store.by_uids(conn, [lowered[len(RELATIONSHIP_PREFIX):]])
        found = [r for r in rows if stix_ops.relationship_id(r) == lowered and viewer.can_see(r.tlp, r.org)
                 and (kind is None or kind in (r.source_kind, r.target_kind))]
        if found:
            return [entry.obj for entry in _relationship_objects(conn, viewer, found[:1], stix_export.load_orgs(conn))]
    return []
