"""TAXII rows: the status resources of POSTs and the cursors of federation pulls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, select

from registry.storage import tables as t


@dataclass(frozen=True)
class StatusRow:
    id: str
    org: str
    collection_id: str
    status: str
    request_timestamp: datetime
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    details: dict  # successes, failures, pendings: lists of {"id", "version", "message"}


def insert_status(conn: Connection, row: StatusRow) -> None:
    values = {**row.__dict__, "details": orjson.dumps(row.details).decode()}
    conn.execute(t.taxii_status.insert().values(**values))


def get_status(conn: Connection, status_id: str) -> StatusRow | None:
    row = conn.execute(select(t.taxii_status).where(t.taxii_status.c.id == status_id)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["details"] = orjson.loads(values["details"])
    return StatusRow(**values)


@dataclass(frozen=True)
class PullStateRow:
    url: str
    collection_id: str
    org: str
    cursor: str | None
    pulled: datetime
    last_counts: dict


def get_pull_state(conn: Connection, url: str, collection_id: str) -> PullStateRow | None:
    p = t.pull_state.c
    row = conn.execute(select(t.pull_state).where(p.url == url, p.collection_id == collection_id)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["last_counts"] = orjson.loads(values["last_counts"])
    return PullStateRow(**values)


def save_pull_state(conn: Connection, state: PullStateRow) -> None:
    """Insert or replace the state of one (url, collection) pull."""
    p = t.pull_state.c
    values = {**state.__dict__, "last_counts": orjson.dumps(state.last_counts).decode()}
    updated = conn.execute(
        t.pull_state.update().where(p.url == state.url, p.collection_id == state.collection_id).values(**values)
    ).rowcount
    if not updated:
        conn.execute(t.pull_state.insert().values(**values))
