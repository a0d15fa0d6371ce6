"""Kind columns hold the longer kind names (bank-account, crypto-wallet, user-account, file-hash)

``kind`` was 8 characters, enough for ipv4 … email; PostgreSQL refuses the new kinds' names in
it. On SQLite, batch mode copies each table (a column's type cannot be changed in place).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_TABLES = ('indicator', 'allowlist_entry', 'prefix_length')


def _kind_length(old: int, new: int) -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column('kind', existing_type=sqlmodel.sql.sqltypes.AutoString(length=old),
                               type_=sqlmodel.sql.sqltypes.AutoString(length=new), existing_nullable=False)


def upgrade() -> None:
    _kind_length(8, 16)


def downgrade() -> None:
    # Rows of the longer kinds do not fit the older column: they go, with what hangs on them.
    long = sa.text("SELECT id FROM indicator WHERE length(kind) > 8")
    for table in ('sighting', 'assertion'):
        op.execute(sa.text(f"DELETE FROM {table} WHERE indicator_id IN ({long.text})"))
    for table in _TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE length(kind) > 8"))
    _kind_length(16, 8)
