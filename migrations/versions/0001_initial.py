"""outgoing connections and security definitions

Revision ID: 0001
Revises:
Create Date: 2026-11-21 07:18:34.889524
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('security_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sec_type', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('header_name', sa.String(length=200), nullable=True),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_definition')),
    sa.UniqueConstraint('name', name=op.f('uq_security_definition_name'))
    )
    op.create_table('outgoing_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transport', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=2000), nullable=False),
    sa.Column('url_path', sa.String(length=2000), nullable=False),
    sa.Column('security_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('connect_timeout', sa.Float(), nullable=False),
    sa.Column('read_timeout', sa.Float(), nullable=False),
    sa.Column('pool_size', sa.Integer(), nullable=False),
    sa.Column('ping_method', sa.String(length=16), nullable=False),
    sa.Column('data_format', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('validate_tls', sa.Boolean(), nullable=False),
    sa.Column('ca_bundle', sa.Text(), nullable=True),
    sa.Column('proxy', sa.String(length=2000), nullable=True),
    sa.Column('follow_redirects', sa.Boolean(), nullable=False),
    sa.Column('max_redirects', sa.Integer(), nullable=False),
    sa.Column('cid_header', sa.String(length=200), nullable=False),
    sa.Column('component_header', sa.String(length=200), nullable=False),
    sa.Column('msg_ts_header', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['security_id'], ['security_definition.id'],
                            name=op.f('fk_outgoing_connection_security_id'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_connection')),
    sa.UniqueConstraint('transport', 'name', name=op.f('uq_outgoing_connection_transport_name'))
    )
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_connection_security_id'), ['security_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_connection_security_id'))

    op.drop_table('outgoing_connection')
    op.drop_table('security_definition')
