"""The shipped migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from registry.storage import migrate
from registry.storage.tables import metadata


def test_migrations_match_the_models(db):
    assert not migrate.pending(db)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
