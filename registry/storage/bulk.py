"""Plain-DBAPI statements for the hot paths (imports, feed runs, batch lookups).

At a million rows SQLAlchemy's per-row parameter processing costs more than the database does,
so bulk writes pass plain tuples to ``executemany`` and bulk reads send one parameter holding
all values: a ``json_each(?)`` on SQLite (one short statement instead of thousands of host
parameters; a temp-table JOIN makes SQLite scan the table, so the reads put the JSON
values first, ``CROSS JOIN`` the table, and probe its index), and ``= ANY(%s)`` with an array on
PostgreSQL.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache

import orjson
from sqlalchemy import Connection

from registry.domain.rows import as_time, made

CHUNK = 5000  # values per IN list: one json_each/array parameter each, short enough for PG's planner


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# SQLAlchemy's SQLite DATETIME storage format: rows written here read back through Core.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def db_time(conn: Connection, dt: datetime | None):
    """A time as the driver should receive it: UTC text on SQLite, aware datetime on PostgreSQL."""
    return None if dt is None else time_writer(conn)(dt)


def time_writer(conn: Connection):
    """``db_time`` for one connection, as a one-argument function for loops over many rows."""
    return _sqlite_time if is_sqlite(conn) else _as_is


def _sqlite_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(SQLITE_TIME)


def _as_is(dt: datetime) -> datetime:
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
                ignore_conflicts: bool = False) -> int:
    """One executemany of plain tuples or lists (times already passed through ``db_time``); how
    many rows it inserted (fewer than given when ``ignore_conflicts`` skipped some)."""
    if not rows:
        return 0
    if is_sqlite(conn) and len(rows) >= _LITERALS_FROM:
        values, rows = _shared_as_literals(conn, rows)
    else:
        values = ", ".join(["?" if is_sqlite(conn) else "%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    return executemany(conn, sql, rows)


_LITERALS_FROM = 100  # rows: fewer gain less than the columns' scan costs


def _shared_as_literals(conn: Connection, rows: list) -> tuple[str, list]:
    """(VALUES list, rows of the other columns): a column holding one value in every row (an
    import's source, feed, TLP, labels, times) is written into the statement as SQLite's own
    ``quote()`` of that value instead of being bound again for every row. sqlite3 binds each
    parameter of each row holding the GIL, which the import's other threads then wait for:
    binding every column of every row costs the import its speed (docs/performance.md)."""
    columns = list(zip(*rows, strict=True))
    raw = conn.connection.dbapi_connection
    values, varying = [], []
    for column in columns:
        first = column[0]
        # Floats are left bound (quote() may round them); NUL cannot appear in statement text.
        if (not isinstance(first, float) and not (isinstance(first, str) and "\x00" in first)
                and column.count(first) == len(column)):
            values.append(raw.execute("SELECT quote(?)", (first,)).fetchone()[0])
        else:
            values.append("?")
            varying.append(column)
    return ", ".join(values), list(zip(*varying, strict=True)) if varying else [()] * len(rows)


def executemany(conn: Connection, sql: str, rows: list) -> int:
    """On the DBAPI cursor, inside ``conn``'s transaction: rows may be lists (the import fills
    drafted rows in place), which SQLAlchemy's own executemany refuses. The rows it changed."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


def update_many(conn: Connection, table: str, set_columns: Sequence[str], rows: list[tuple], *,
                key: str = "id", extra_set: str = "") -> None:
    """One executemany of ``UPDATE table SET a=?, b=? [, extra] WHERE key=?``; each row ends with the key."""
    if not rows:
        return
    mark = "?" if is_sqlite(conn) else "%s"
    sets = ", ".join(f"{c} = {mark}" for c in set_columns)
    if extra_set:
        sets += ", " + extra_set
    executemany(conn, f"UPDATE {table} SET {sets} WHERE {key} = {mark}", rows)


def driver_rows(conn: Connection, sql: str, params: Sequence = ()) -> tuple[list[tuple], list[str]]:
    """Rows and column names of one statement run on the DBAPI cursor of ``conn``, inside its
    transaction. SQLAlchemy's result set-up costs more than
    the statement on the hot paths, and a single lookup over HTTP runs several (docs/performance.md)."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall(), [d[0] for d in cursor.description or ()]
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _statement_in(sqlite: bool, sql: str, column: str) -> str:
    """``sql`` (``SELECT ... FROM ...``, no WHERE) narrowed to the rows whose ``column`` is one of
    the values bound as its one parameter (``values_param``, each value once)."""
    if sqlite:
        # The values drive the loop, probing the column's index: IN (SELECT ... json_each)
        # first copies them into a temporary B-tree, a part of the statement's time.
        select, _, tables = sql.partition(" FROM ")
        return (f"{select} FROM (SELECT value AS wanted FROM json_each(?)) AS wanted_values "
                f"CROSS JOIN {tables} WHERE {column} = wanted_values.wanted")
    return f"{sql} WHERE {column} = ANY(%s)"


def _results_in(conn: Connection, sql: str, column: str, values: Sequence) -> Iterator[tuple[list, list[str]]]:
    """``sql`` (``SELECT ... FROM ...``, no WHERE) for the rows whose ``column`` is one of ``values``."""
    sqlite = is_sqlite(conn)
    statement = _statement_in(sqlite, sql, column)
    if sqlite:
        values = list(dict.fromkeys(values))  # a join, unlike IN, would repeat a row per repeat
    for part in chunks(values):
        yield driver_rows(conn, statement, (values_param(conn, part),))


def tuples_in_each(conn: Connection, parts: Sequence[tuple[str, str]], values: Sequence) -> list[tuple]:
    """``tuples_in`` of several ``(sql, column)`` over the same ``values`` as one ``UNION ALL``
    statement per chunk (the rows of each part in turn; their columns must agree)."""
    sqlite = is_sqlite(conn)
    statement = " UNION ALL ".join(_statement_in(sqlite, sql, column) for sql, column in parts)
    out: list = []
    for part in chunks(list(dict.fromkeys(values)) if sqlite else values):
        param = values_param(conn, part)
        out.extend(driver_rows(conn, statement, (param,) * len(parts))[0])
    return out


def tuples_in(conn: Connection, sql: str, column: str, values: Sequence) -> list[tuple]:
    """Plain driver rows of ``sql WHERE column IN values``, in chunks, without SQLAlchemy's
    per-value type processing (which costs more than the query itself on a large lookup)."""
    out: list = []
    for rows, _ in _results_in(conn, sql, column, values):
        out.extend(rows)
    return out


def select_in(conn: Connection, sql: str, column: str, values: Sequence, *, times: Sequence[str] = ()) -> list:
    """``tuples_in`` as named tuples; ``times`` columns come back as aware datetimes."""
    out: list = []
    for rows, columns in _results_in(conn, sql, column, values):
        make = _row_type(tuple(columns), tuple(times))
        out.extend(map(make, rows))
    return out


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...], times: tuple[str, ...]):
    row_type = namedtuple("Row", columns)  # noqa: PYI024 - a plain record of one query's columns
    positions = [columns.index(name) for name in times]
    if not positions:
        return row_type._make

    def make(raw):
        values = list(raw)
        for pos in positions:
            values[pos] = as_time(values[pos])
        return row_type._make(values)

    return make


def fetch_as(conn: Connection, query, row_type: type[tuple]) -> list:
    """The rows of ``query`` as ``row_type`` (a named tuple whose fields are the select's
    columns), made from the driver's own tuples: SQLAlchemy's rows would be built first, for
    nothing (docs/performance.md, "Rows by name")."""
    result = conn.execute(query)
    try:
        return list(made(row_type, result.cursor.fetchall()))
    finally:
        result.close()
