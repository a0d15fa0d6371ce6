"""A file's other hashes: indicator_alias, each alias naming one file-hash indicator

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_alias',
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.PrimaryKeyConstraint('alias')
    )
    op.create_index(op.f('ix_indicator_alias_indicator_id'), 'indicator_alias', ['indicator_id'], unique=False)


def downgrade() -> None:
    # The aliases' indicators stay, each known by its strongest hash only.
    op.drop_index(op.f('ix_indicator_alias_indicator_id'), table_name='indicator_alias')
    op.drop_table('indicator_alias')
