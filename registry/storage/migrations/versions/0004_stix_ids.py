"""STIX ids: one id, one object. The secret Indicator ids are derived with; source ids unique

Every derived Indicator id changes once (they are now keyed with this database's secret, see
stix.ids). Stored ids are made lowercase; where several rows held one id the first keeps it (an
assertion's later holders fall back to derived ids, a sighting's get random ones); sightings
stored before ids were minted for them get one; both id indexes become unique. The change
sequence moves on by one, so export ETags and bundle ids change with the ids.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import secrets
import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_NOT_NULL = sa.text("stix_id IS NOT NULL")
_LATER_HOLDER = "id > (SELECT MIN(o.id) FROM {table} o WHERE o.stix_id = {table}.stix_id)"


def upgrade() -> None:
    op.create_table('stix_id_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO stix_id_key (id, key) VALUES (1, :key)"), {"key": secrets.token_hex(32)})
    for table in ("assertion", "sighting"):
        conn.execute(sa.text(f"UPDATE {table} SET stix_id = lower(stix_id) WHERE stix_id <> lower(stix_id)"))
    conn.execute(sa.text(f"UPDATE assertion SET stix_id = NULL WHERE stix_id IS NOT NULL AND "
                         f"{_LATER_HOLDER.format(table='assertion')}"))
    renamed = conn.execute(sa.text(f"SELECT id FROM sighting WHERE stix_id IS NULL OR "
                                   f"{_LATER_HOLDER.format(table='sighting')}")).scalars().all()
    for sighting_id in renamed:  # few: every sighting stored since ids were minted has one
        conn.execute(sa.text("UPDATE sighting SET stix_id = :new WHERE id = :id"),
                     {"new": f"sighting--{uuid.uuid4()}", "id": sighting_id})
    conn.execute(sa.text("UPDATE counter SET value = value + 1 WHERE name = 'seq'"))
    op.drop_index('ix_assertion_stix_id', table_name='assertion')
    op.drop_index('ix_sighting_stix_id', table_name='sighting')
    op.create_index('uq_assertion_stix_id', 'assertion', ['stix_id'], unique=True,
                    sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL)
    op.create_index('uq_sighting_stix_id', 'sighting', ['stix_id'], unique=True,
                    sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL)


def downgrade() -> None:
    op.drop_index('uq_sighting_stix_id', table_name='sighting')
    op.drop_index('uq_assertion_stix_id', table_name='assertion')
    op.create_index('ix_sighting_stix_id', 'sighting', ['stix_id'], unique=False,
                    sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL)
    op.create_index('ix_assertion_stix_id', 'assertion', ['stix_id'], unique=False,
                    sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL)
    op.drop_table('stix_id_key')
