"""The shipped migrations build exactly the schema the models describe, on both engines."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from registry.domain.times import utcnow
from registry.services import users
from registry.services.access import ON_SERVER
from registry.services.orgs import add_org
from registry.storage import migrate, stix_reads
from registry.storage import tables as t
from registry.storage.db import Database, current_seq
from registry.storage.tables import metadata
from tests.helpers import PG_SKIP, PG_URL, create_pg_schema, drop_pg_schema

PASSWORD = "correct horse battery staple"


def test_migrations_match_the_models(db):
    assert not migrate.pending(db)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_users_made_before_session_generations_can_still_sign_in(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    user = users.add_user(db, "somchai", org="ccib-th", role="reader", password=PASSWORD, by=ON_SERVER)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    before = ScriptDirectory.from_config(cfg).get_revision("0005").down_revision
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    assert migrate.pending(db)
    migrate.upgrade(db)
    signed = users.authenticate(db, "somchai", PASSWORD)
    assert signed is not None and signed.session_generation == 0
    assert users.from_session(db, user.id, 0) is not None


def _migrated_to(request, tmp_path, revision: str):
    """A database of the engine ``request.param`` names, migrated up to ``revision`` only."""
    if request.param == "sqlite":
        db, schema = Database(f"sqlite:///{tmp_path / 'old.db'}"), None
    else:
        if not PG_URL:
            pytest.skip(PG_SKIP)
        schema, url = create_pg_schema()
        db = Database(url)
    migrate.upgrade(db, revision)
    yield db
    db.dispose()
    if schema:
        drop_pg_schema(schema)


ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def at_0003(request, tmp_path):
    """A database migrated up to 0003 only (before STIX ids were made unique)."""
    yield from _migrated_to(request, tmp_path, "0003")


@pytest.fixture(params=ENGINES)
def at_0006(request, tmp_path):
    """A database migrated up to 0006 only (kinds of 8 characters, no file aliases)."""
    yield from _migrated_to(request, tmp_path, "0006")


def test_the_upgrade_leaves_each_stix_id_to_one_object(at_0003):
    now = utcnow()
    taken = "indicator--3a000000-0000-4000-8000-00000000000A"
    with at_0003.write() as conn:
        for n, slug in enumerate(("first", "second"), 1):
            conn.execute(t.organization.insert().values(id=n, slug=slug, name=slug, stix_id=f"identity--{n}",
                                                        created=now))
        conn.execute(t.indicator.insert().values(id=1, kind="domain", value="a.example", first_seen=now,
                                                 last_seen=now))
        common = {"indicator_id": 1, "feed": "", "confidence": 50, "tlp": "green", "labels": ",",
                  "first_seen": now, "last_seen": now, "modified": now}
        conn.execute(t.assertion.insert(), [
            {**common, "id": 1, "org_id": 1, "stix_id": taken, "seq": 1},  # the first holder, upper case
            {**common, "id": 2, "org_id": 2, "stix_id": taken.lower(), "seq": 2},  # a later one
        ])
        common = {"indicator_id": 1, "count": 1, "tlp": "green", "first_seen": now, "last_seen": now,
                  "created": now, "modified": now}
        conn.execute(t.sighting.insert(), [
            {**common, "id": 1, "org_id": 1, "case_ref": "a", "stix_id": None, "seq": 3},
            {**common, "id": 2, "org_id": 1, "case_ref": "b", "stix_id": "sighting--3b", "seq": 4},
            {**common, "id": 3, "org_id": 2, "case_ref": "b", "stix_id": "sighting--3b", "seq": 5},
        ])
        conn.execute(t.counter.update().where(t.counter.c.name == "seq").values(value=5))
    migrate.upgrade(at_0003)
    with at_0003.read() as conn:
        assertions = conn.execute(text("SELECT id, stix_id FROM assertion ORDER BY id")).all()
        sightings = dict(conn.execute(text("SELECT id, stix_id FROM sighting")).all())
        assert current_seq(conn) == 6  # export ETags and bundle ids change with the derived ids
        assert len(stix_reads.id_key(conn)) == 64
    assert assertions == [(1, taken.lower()), (2, None)]
    assert sightings[2] == "sighting--3b" and len({sightings[1], sightings[2], sightings[3]}) == 3
    assert sightings[1].startswith("sighting--") and sightings[3].startswith("sighting--")
    with pytest.raises(IntegrityError), at_0003.write() as conn:  # and the indexes keep it so
        conn.execute(text("UPDATE assertion SET stix_id = :taken WHERE id = 2"), {"taken": taken.lower()})


def test_the_new_kinds_and_file_aliases_come_and_go_with_their_migrations(at_0006):
    now = utcnow()
    times = {"first_seen": now, "last_seen": now}
    with at_0006.write() as conn:
        conn.execute(t.organization.insert().values(id=1, slug="ccib-th", name="CCIB", stix_id="identity--1",
                                                    created=now))
        conn.execute(t.indicator.insert().values(id=1, kind="ipv4", value="1.10.16.5", **times))
    migrate.upgrade(at_0006)
    sha256, md5 = f"sha256:{'a' * 64}", f"md5:{'b' * 32}"
    with at_0006.write() as conn:  # a kind longer than 8 characters fits now, and its aliases
        conn.execute(t.indicator.insert().values(id=2, kind="file-hash", value=sha256, **times))
        conn.execute(t.indicator_alias.insert().values(alias=md5, indicator_id=2))
        conn.execute(t.assertion.insert().values(indicator_id=2, org_id=1, feed="", confidence=50, tlp="green",
                                                 labels=",", modified=now, seq=1, **times))
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    with at_0006.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with at_0006.read() as conn:
        assert conn.execute(text("SELECT value FROM indicator")).scalars().all() == ["1.10.16.5"]
        assert conn.execute(text("SELECT count(*) FROM assertion")).scalar_one() == 0
    migrate.upgrade(at_0006)
    assert not migrate.pending(at_0006)
