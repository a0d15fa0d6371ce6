"""SQLite's one-statement batch insert stores exactly what executemany would, or steps aside."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine

from registry.storage import bulk

COLUMNS = ("id", "name", "n", "ratio", "flag", "start", "stop", "note")


def _rows(count: int) -> list[tuple]:
    rows = []
    for i in range(count):
        blob = os.urandom(16) if i % 3 else None  # NULL first: the column is found by any value
        rows.append((i + 1, f"v{i} 'quoted' \"and\" ünïcødé ⚠ \\ back", i * 7 - 50, i / 3, i % 2 == 0,
                     blob, blob and blob[::-1], None if i % 5 else f"note {i}"))
    return rows


def _table(tmp_path, name):
    engine = create_engine(f"sqlite:///{tmp_path / name}")
    conn = engine.connect()
    conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, ratio REAL, flag INTEGER, "
                         "start BLOB, stop BLOB, note TEXT)")
    return engine, conn


def test_json_insert_equals_executemany(tmp_path):
    rows = _rows(500)
    engine, conn = _table(tmp_path, "a.db")
    assert bulk._json_insert(conn, "t", COLUMNS, rows, False)
    got = conn.exec_driver_sql("SELECT * FROM t ORDER BY id").fetchall()
    plain = sqlite3.connect(":memory:")
    plain.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, ratio REAL, flag INTEGER, "
                  "start BLOB, stop BLOB, note TEXT)")
    plain.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    expected = plain.execute("SELECT * FROM t ORDER BY id").fetchall()
    assert [tuple(r) for r in got] == expected
    types = conn.exec_driver_sql("SELECT DISTINCT typeof(n), typeof(start) FROM t WHERE start IS NOT NULL").fetchall()
    assert [tuple(r) for r in types] == [("integer", "blob")]
    # Conflicts are skipped when asked, like ON CONFLICT DO NOTHING with executemany.
    assert bulk._json_insert(conn, "t", COLUMNS, rows[:100], True)
    assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 500
    conn.close()
    engine.dispose()


@pytest.mark.parametrize("odd", [
    datetime(2026, 11, 22, tzinfo=UTC),  # would become ISO text, not SQLAlchemy's format
    "has a \x00 NUL",
    2**70,
    "not-a-blob-but-16",  # text in a BLOB column
])
def test_json_insert_steps_aside_for_what_json_cannot_carry(tmp_path, odd):
    rows = _rows(100)
    column = 5 if odd == "not-a-blob-but-16" else 7
    rows[50] = rows[50][:column] + (odd,) + rows[50][column + 1:]
    engine, conn = _table(tmp_path, "b.db")
    assert not bulk._json_insert(conn, "t", COLUMNS, rows, False)
    assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    if odd != "not-a-blob-but-16" and not isinstance(odd, int):
        bulk.insert_many(conn, "t", COLUMNS, rows)  # falls back to executemany
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 100
    conn.close()
    engine.dispose()
