"""Write lanes: assertion and sighting rows a writer may not see are never its to update

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, unique constraint, its columns before the lane)
_KEYS = (
    ("assertion", "uq_assertion_source", ["indicator_id", "org_id", "feed"]),
    ("sighting", "uq_sighting_case", ["indicator_id", "org_id", "case_ref"]),
)


def upgrade() -> None:
    # On SQLite, batch mode copies each table (a constraint cannot be dropped in place).
    for table, name, columns in _KEYS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('lane', sa.SmallInteger(), server_default=sa.text('0'), nullable=False))
            batch.drop_constraint(name, type_='unique')
            batch.create_unique_constraint(name, [*columns, 'lane'])


def downgrade() -> None:
    # Only the ordinary rows fit the older key: rows in other lanes are dropped.
    for table, name, columns in _KEYS:
        op.execute(sa.text(f"DELETE FROM {table} WHERE lane <> 0"))
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_='unique')
            batch.create_unique_constraint(name, columns)
            batch.drop_column('lane')
