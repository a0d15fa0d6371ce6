"""The ``audit_checkpoint`` table: signed heads of the audit chain (docs/security.md, "Audit
checkpoints"), newest by id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from registry.storage import tables as t

_C = t.audit_checkpoint


def lock(conn: Connection) -> None:
    """Serialise checkpoint takers inside the caller's write transaction, so schedulers that
    share a database agree on whether one is due. SQLite's BEGIN IMMEDIATE already does; on
    PostgreSQL this lock mode conflicts with itself only, never with readers."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE audit_checkpoint IN SHARE ROW EXCLUSIVE MODE")


def add(conn: Connection, *, seq: int, hash: str, time: datetime, public_key: str, signature: str) -> None:
    conn.execute(_C.insert().values(seq=seq, hash=hash, time=time, public_key=public_key, signature=signature))


def latest(conn: Connection) -> dict | None:
    """The newest checkpoint's columns (id, seq, hash, time, public_key, signature), or None."""
    row = conn.execute(select(_C).order_by(_C.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row is not None else None
