"""Trust: review dates, why an assertion ended, grading; disputes and their decisions, and the
feed runs' count of held reports; orgs that require a lookup's purpose; signed audit checkpoints

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assertion') as batch:
        batch.add_column(sa.Column('review_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column('reliability', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True))
        batch.add_column(sa.Column('credibility', sa.SmallInteger(), nullable=True))
    with op.batch_alter_table('organization') as batch:
        batch.add_column(sa.Column('require_purpose', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('feed_run') as batch:
        batch.add_column(sa.Column('held', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.create_table('dispute',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('flagged', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    op.create_index(op.f('ix_dispute_indicator_id'), 'dispute', ['indicator_id'], unique=False)
    op.create_index(op.f('ix_dispute_status'), 'dispute', ['status'], unique=False)
    op.create_table('dispute_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('assertion_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('decided', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assertion_id'], ['assertion.id'], ),
    sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_dispute_decision_dispute_id'), 'dispute_decision', ['dispute_id'], unique=False)
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('time', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoint')
    op.drop_index(op.f('ix_dispute_decision_dispute_id'), table_name='dispute_decision')
    op.drop_table('dispute_decision')
    op.drop_index(op.f('ix_dispute_status'), table_name='dispute')
    op.drop_index(op.f('ix_dispute_indicator_id'), table_name='dispute')
    op.drop_table('dispute')
    with op.batch_alter_table('feed_run') as batch:
        batch.drop_column('held')
    with op.batch_alter_table('organization') as batch:
        batch.drop_column('require_purpose')
    with op.batch_alter_table('assertion') as batch:
        batch.drop_column('credibility')
        batch.drop_column('reliability')
        batch.drop_column('end_reason')
        batch.drop_column('review_at')
