"""Operations: operations, their members and notes; relationships between indicators; values
submitted together and an index of sightings by case (the suggested links)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cosubmission',
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('tlp', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('batch', 'indicator_id')
    )
    with op.batch_alter_table('cosubmission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cosubmission_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('tlp', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('labels', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('modified', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('first_activity', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_activity', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('stix_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('stix_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_seq'), ['seq'], unique=False)
        batch_op.create_index('uq_operation_stix_id', ['stix_id'], unique=True, sqlite_where=sa.text('stix_id IS NOT NULL'), postgresql_where=sa.text('stix_id IS NOT NULL'))

    op.create_table('relationship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('tlp', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('modified', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('stix_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['indicator.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'target_id', 'type', 'org_id', name='uq_relationship'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_seq'), ['seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_relationship_target_id'), ['target_id'], unique=False)
        batch_op.create_index('uq_relationship_stix_id', ['stix_id'], unique=True, sqlite_where=sa.text('stix_id IS NOT NULL'), postgresql_where=sa.text('stix_id IS NOT NULL'))

    op.create_table('operation_member',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('added', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('operation_id', 'indicator_id')
    )
    with op.batch_alter_table('operation_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_member_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('operation_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operation_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_note_operation_id'), ['operation_id'], unique=False)

    # The suggested links' "same case" rule reads an org's sightings of one case reference.
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.create_index('ix_sighting_case', ['org_id', 'case_ref'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.drop_index('ix_sighting_case')

    with op.batch_alter_table('operation_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_note_operation_id'))

    op.drop_table('operation_note')
    with op.batch_alter_table('operation_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_member_indicator_id'))

    op.drop_table('operation_member')
    with op.batch_alter_table('relationship', schema=None) as batch_op:
        batch_op.drop_index('uq_relationship_stix_id', sqlite_where=sa.text('stix_id IS NOT NULL'), postgresql_where=sa.text('stix_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_relationship_target_id'))
        batch_op.drop_index(batch_op.f('ix_relationship_seq'))

    op.drop_table('relationship')
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.drop_index('uq_operation_stix_id', sqlite_where=sa.text('stix_id IS NOT NULL'), postgresql_where=sa.text('stix_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_operation_seq'))
        batch_op.drop_index(batch_op.f('ix_operation_org_id'))

    op.drop_table('operation')
    with op.batch_alter_table('cosubmission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cosubmission_indicator_id'))

    op.drop_table('cosubmission')
