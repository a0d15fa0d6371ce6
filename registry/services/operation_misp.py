"""Operations as MISP events, the reading (docs/exports.md, "Operations in MISP"): the MISP
feed lists the operations the caller may see beside its day events (``services.exports``), and
``GET /api/v1/operations/ID/misp`` answers one. The pure writer is ``export.misp_operations``.

A member's reports are those the feed's own events would show the caller (the selection's
expiry and allowlist rules); a member without one is in the event all the same, not for
detection; relationships are the visible ones between two members.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection

from registry.domain.kinds import FILE_HASH
from registry.domain.tlp import Viewer
from registry.export import misp
from registry.export import misp_operations as writer
from registry.export.records import group
from registry.services.operations import viewer_of, visible_operation
from registry.stix.operations import grouping_id
from registry.storage import aliases
from registry.storage import export_reads as reads
from registry.storage import operations as op_store
from registry.storage import relationships as rel_store

MAX_SEQ = 2**63 - 1


def _orgs(conn: Connection) -> dict[int, misp.Org]:
    return {org_id: misp.Org(name, stix_id) for org_id, (_slug, name, stix_id) in reads.organizations(conn).items()}


def events(conn: Connection, viewer: Viewer, *, source: str | None = None, since_seq: int | None = None,
           since_time: datetime | None = None) -> list[tuple[writer.OperationEvent, op_store.OperationRow]]:
    """The event of each operation the viewer may see (``source``: owned by that org; ``since``:
    changed after that position or at or after that time), with its row."""
    rows = op_store.page(conn, viewer, after_seq=since_seq or 0, limit=MAX_SEQ, since_time=since_time, org=source)
    newest = op_store.newest_changes(conn, viewer, [row.id for row in rows])
    orgs = _orgs(conn)
    return [(writer.operation_event(row, orgs[row.org_id], grouping_id(row), newest.get(row.id, ())), row)
            for row in rows]


def event_file(conn: Connection, viewer: Viewer, selection: reads.Selection, event: writer.OperationEvent,
               row: op_store.OperationRow) -> bytes:
    """The event file of one operation (its event from ``events``)."""
    members = [writer.Member(m.indicator_id, m.kind, m.value) for m in op_store.members(conn, row.id)]
    ids = [m.indicator_id for m in members]
    listed = {item.id: item for item in group(reads.indicator_rows(conn, viewer, selection, ids))} if ids else {}
    files = [item.id for item in listed.values() if item.kind == FILE_HASH]
    for indicator_id, hashes in (aliases.aliases_of(conn, files) if files else {}).items():
        listed[indicator_id].hashes = hashes
    links = [writer.Link(r.uid, r.source_id, r.target_id, r.type, r.org, r.tlp, r.confidence, r.modified)
             for r in rel_store.between(conn, ids, viewer)]
    return writer.write_event(event, members, listed, links)


def hash_pairs(conn: Connection, found: list[tuple[writer.OperationEvent, op_store.OperationRow]]) -> Iterator[tuple[str, str]]:
    """(MISP value, event uuid) of each member of these operations' events, for ``hashes.csv``."""
    members = op_store.members_of(conn, [row.id for _event, row in found])
    for event, row in found:
        for member in members[row.id]:
            yield writer.written_value(member.kind, member.value), event.uuid


def operation_event(conn: Connection, uid: str, by, *, now: datetime) -> bytes:
    """The MISP event of operation ``uid`` as ``by`` may see it (NotFound as for an unknown id):
    its members' reports in force, allowlisted values without them, as the feed's defaults."""
    row = visible_operation(conn, uid, by)
    viewer = viewer_of(by)
    newest = op_store.newest_changes(conn, viewer, [row.id])
    event = writer.operation_event(row, _orgs(conn)[row.org_id], grouping_id(row), newest.get(row.id, ()))
    return event_file(conn, viewer, reads.Selection(current_at=now), event, row)
