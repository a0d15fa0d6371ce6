"""Bulk inserts on SQLite: a column that holds one value in every row is written into the
statement as a literal; what lands must be exactly what binding stores. (PostgreSQL binds
every row as before: its path is covered by every storage test.)"""

from __future__ import annotations

import sqlite3

import pytest

from registry.storage import bulk

# One value per column for every row, of each kind a column can hold, including text that
# would break a hand-quoted literal; and a float (left bound) and a NUL (cannot be a literal).
SHARED = (7, "it's a 'quoted' value; DROP TABLE t; --", None, b"\x00\x01'", 0.1 + 0.2, "nul\x00inside", "", -3)
COLUMNS = ("n", "a", "b", "c", "d", "e", "f", "g", "h")


def _rows(count: int) -> list[tuple]:
    return [(i, *SHARED) for i in range(count)]


@pytest.mark.parametrize("count", [3, 150])  # below and above the size that uses literals
def test_shared_columns_store_what_binding_stores(sqlite_db, count):
    with sqlite_db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE bulk_probe (n INTEGER, a INTEGER, b TEXT, c TEXT, d BLOB, e REAL, "
                             "f TEXT, g TEXT, h INTEGER)")
        bulk.insert_many(conn, "bulk_probe", COLUMNS, _rows(count))
    with sqlite_db.read() as conn:
        got = conn.exec_driver_sql("SELECT * FROM bulk_probe ORDER BY n").fetchall()
    assert [tuple(r) for r in got] == _rows(count)


def test_a_constant_column_becomes_a_literal_and_a_varying_one_stays_bound(sqlite_db):
    with sqlite_db.write() as conn:
        values, rows = bulk._shared_as_literals(conn, [(1, "x", 0.5), (2, "x", 0.5)])
    assert values == "?, 'x', ?"
    assert rows == [(1, 0.5), (2, 0.5)]


def test_every_column_shared_still_inserts_every_row(sqlite_db):
    with sqlite_db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE all_same (a TEXT, b INTEGER)")
        bulk.insert_many(conn, "all_same", ("a", "b"), [("same", 1)] * 200)
    with sqlite_db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*), min(a), max(b) FROM all_same").one() == (200, "same", 1)


def test_sqlite_quote_is_what_makes_the_literal():
    # The literal comes from SQLite itself, so it is one token whatever the text holds.
    raw = sqlite3.connect(":memory:")
    text = SHARED[1]
    literal = raw.execute("SELECT quote(?)", (text,)).fetchone()[0]
    assert raw.execute(f"SELECT {literal}").fetchone()[0] == text
