"""Plain-DBAPI statements for the hot paths (imports, feed runs, batch lookups).

At a million rows SQLAlchemy's per-row parameter processing costs more than the database does,
so bulk writes pass plain tuples to ``executemany`` and bulk reads send one parameter holding
all values: ``IN (SELECT value FROM json_each(?))`` on SQLite (one short statement instead of
thousands of host parameters; DESIGN warns that a temp-table JOIN makes SQLite scan), and
``= ANY(%s)`` with an array on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection

# SQLAlchemy's SQLite DATETIME storage format: rows written here read back through Core.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def db_time(conn: Connection, dt: datetime | None):
    """A time as the driver should receive it: UTC text on SQLite, aware datetime on PostgreSQL."""
    if dt is None:
        return None
    if is_sqlite(conn):
        return dt.astimezone(UTC).strftime(SQLITE_TIME)
    return dt


def in_values(conn: Connection, column: str) -> str:
    """SQL for ``column`` being one of the values bound as ``:vals`` (see ``values_param``)."""
    if is_sqlite(conn):
        return f"{column} IN (SELECT value FROM json_each(:vals))"
    return f"{column} = ANY(:vals)"


def values_param(conn: Connection, values: Sequence) -> object:
    if is_sqlite(conn):
        return orjson.dumps(list(values)).decode()
    return list(values)


def insert_many(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple], *,
                ignore_conflicts: bool = False) -> None:
    """One executemany of plain tuples (times already passed through ``db_time``)."""
    if not rows:
        return
    mark = "?" if is_sqlite(conn) else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    conn.exec_driver_sql(sql, rows)


def update_many(conn: Connection, table: str, set_columns: Sequence[str], rows: list[tuple], *,
                key: str = "id", extra_set: str = "") -> None:
    """One executemany of ``UPDATE table SET a=?, b=? [, extra] WHERE key=?``; each row ends with the key."""
    if not rows:
        return
    mark = "?" if is_sqlite(conn) else "%s"
    sets = ", ".join(f"{c} = {mark}" for c in set_columns)
    if extra_set:
        sets += ", " + extra_set
    conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {key} = {mark}", rows)
