"""Shared fixtures: a fresh database per test on SQLite and, when REGISTRY_TEST_DATABASE_URL
is set, on PostgreSQL too (a schema of its own per test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.storage import migrate
from registry.storage.db import Database
from tests.helpers import FIXTURES, PG_SKIP, PG_URL, create_pg_schema, drop_pg_schema


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every time costs more)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def _sqlite_db(template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "registry.db"
    shutil.copy(template, path)
    return Database(f"sqlite:///{path}")


def _pg_db():
    schema, url = create_pg_schema()
    db = Database(url)
    migrate.upgrade(db)
    return db, schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, sqlite_template, tmp_path):
    """A fresh, migrated database on each engine (the storage contract suite)."""
    if request.param == "sqlite":
        database = _sqlite_db(sqlite_template, tmp_path)
        yield database
        database.dispose()
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    database, schema = _pg_db()
    yield database
    database.dispose()
    drop_pg_schema(schema)


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path):
    database = _sqlite_db(sqlite_template, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
