"""What a database's readers keep between calls belongs to that Database (storage.caches):
two databases in one process, even two Database objects on one URL, never see each other's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.domain.normalize import normalize
from registry.domain.tlp import Viewer
from registry.services.lookup import lookup
from registry.storage import tables as t
from registry.storage.allowlist import load_allowlist
from registry.storage.caches import caches_of
from registry.storage.db import Database
from registry.storage.networks import network_set
from tests.web.conftest import another_database

PARTNER = "partner.example.org"


def _allow(db: Database, value: str) -> None:
    with db.write() as conn:
        conn.execute(t.allowlist_entry.insert().values(kind="domain", value=value, reason="our partner",
                                                       created=datetime.now(UTC)))


def _reason(db: Database, raw: str) -> str | None:
    (value,) = normalize(raw, "domain", None)
    with db.read() as conn:
        return load_allowlist(conn).reason_for(value)


def _lookup(db: Database, raw: str) -> dict:
    with db.read() as conn:
        return lookup(conn, [raw], Viewer.operator())[0]


@pytest.fixture
def two(db, tmp_path):
    """``db`` and a second database on the same engine."""
    url, cleanup = another_database(db.url, tmp_path)
    other = Database(url)
    yield db, other
    other.dispose()
    cleanup()


def test_the_allowlist_of_one_database_is_not_seen_by_another(two):
    a, b = two
    assert _reason(a, PARTNER) is None and _reason(b, PARTNER) is None  # both kept, both empty
    _allow(a, PARTNER)
    assert _reason(a, PARTNER) == "our partner"
    assert _reason(b, PARTNER) is None
    assert a.caches is not b.caches and a.caches.allowlist[1] is not b.caches.allowlist[1]
    assert _lookup(a, PARTNER)["allowlisted"] and not _lookup(b, PARTNER)["allowlisted"]


def test_two_database_objects_on_one_url_keep_their_own(db):
    other = Database(db.url)
    try:
        with db.read() as conn:
            kept = network_set(conn, 0)
        with other.read() as conn:
            assert network_set(conn, 0) is not kept
        assert db.caches.networks[0] is kept and other.caches.networks[0] is not kept
    finally:
        other.dispose()


def test_a_connection_reaches_its_database_caches(db):
    with db.read() as conn:
        assert caches_of(conn) is db.caches
    with db.write() as conn:
        assert caches_of(conn) is db.caches
    with db.engine.connect() as conn:
        assert caches_of(conn) is db.caches
