"""Leases on a row: which process works on a feed or delivers a webhook now (``lease_owner``,
``lease_until`` columns). Several schedulers may share one database; a lease makes one of them
do the work, and lets another take over once its holder's lease has run out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, or_


def take(conn: Connection, table: Table, row_id: int, owner: str, now: datetime, until: datetime,
         *, replacing: str | None = None) -> bool:
    """Take the row's lease when it is free, expired, or held by ``replacing`` (a holder known
    dead). One UPDATE with the condition: on PostgreSQL a concurrent taker waits for the row
    lock and then finds the lease taken; on SQLite writers are serialised."""
    c = table.c
    free = or_(c.lease_owner.is_(None), c.lease_until.is_(None), c.lease_until < now)
    if replacing is not None:
        free = or_(free, c.lease_owner == replacing)
    result = conn.execute(table.update().where(c.id == row_id, free).values(lease_owner=owner, lease_until=until))
    return result.rowcount == 1


def renew(conn: Connection, table: Table, row_id: int, owner: str, until: datetime) -> bool:
    """Extend the lease ``owner`` holds; False when it holds it no more (another took it over)."""
    c = table.c
    result = conn.execute(table.update().where(c.id == row_id, c.lease_owner == owner).values(lease_until=until))
    return result.rowcount == 1


def release(conn: Connection, table: Table, row_id: int, owner: str) -> None:
    c = table.c
    conn.execute(table.update().where(c.id == row_id, c.lease_owner == owner).values(lease_owner=None,
                                                                                     lease_until=None))
