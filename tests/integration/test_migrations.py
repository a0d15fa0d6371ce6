"""The shipped migrations build exactly the schema the models describe, on both engines."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from registry.services import users
from registry.services.access import ON_SERVER
from registry.services.orgs import add_org
from registry.storage import migrate
from registry.storage.tables import metadata

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
    before = ScriptDirectory.from_config(cfg).get_revision("0006").down_revision
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    assert migrate.pending(db)
    migrate.upgrade(db)
    signed = users.authenticate(db, "somchai", PASSWORD)
    assert signed is not None and signed.session_generation == 0
    assert users.from_session(db, user.id, 0) is not None
