"""Exchange: events (and their counter), each org's routed events, watches, webhooks and their
deliveries, the hourly tally of lookup hits; orgs' hit sharing, users' last seen alert; the index
the expiry events read

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('time', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('org', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('tlp', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('labels', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('to_org_id', sa.Integer(), nullable=True),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['to_org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_to_org_id'), ['to_org_id'], unique=False)

    op.create_table('event_inbox',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('watches', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'seq')
    )
    op.create_table('hit_tally',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('looker_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('window', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['looker_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('indicator_id', 'looker_id', 'owner_id')
    )
    op.create_table('watch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('prefix_len', sa.Integer(), nullable=True),
    sa.Column('range_start', sa.LargeBinary(length=16), nullable=True),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('kinds', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('labels', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('sources', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('watch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_label'), ['label'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_org_id'), ['org_id'], unique=False)

    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('watches', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('max_tlp', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('position', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('failing_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('next_attempt', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_org_id'), ['org_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('delivery', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('time', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_hook', ['webhook_id', 'id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alerts_seen', sa.BigInteger(), server_default=sa.text('0'), nullable=False))

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_hits', sa.String(length=16), server_default='anonymous', nullable=False))
    op.create_index('ix_assertion_valid_until', 'assertion', ['valid_until'], unique=False,
                    sqlite_where=sa.text('valid_until IS NOT NULL'), postgresql_where=sa.text('valid_until IS NOT NULL'))
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counter, [{"name": "event", "value": 0}])



def downgrade() -> None:
    op.execute("DELETE FROM counter WHERE name = 'event'")
    op.drop_index('ix_assertion_valid_until', table_name='assertion')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('share_hits')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('alerts_seen')

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_hook')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_org_id'))

    op.drop_table('webhook')
    with op.batch_alter_table('watch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_org_id'))
        batch_op.drop_index(batch_op.f('ix_watch_label'))
        batch_op.drop_index(batch_op.f('ix_watch_key'))

    op.drop_table('watch')
    op.drop_table('hit_tally')
    op.drop_table('event_inbox')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_to_org_id'))

    op.drop_table('event')
