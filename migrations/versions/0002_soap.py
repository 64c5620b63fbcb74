"""SOAP settings of connections and WS-Security settings of definitions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        # Rows written before SOAP settings existed are SOAP 1.1, the default.
        batch_op.add_column(sa.Column('soap_version', sa.String(length=8), nullable=False, server_default='1.1'))
        batch_op.add_column(sa.Column('soap_action', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('wsdl', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('wsdl_service', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('wsdl_port', sa.String(length=200), nullable=True))
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        # Defaults belong to the config classes; the column keeps none once existing rows are filled.
        batch_op.alter_column('soap_version', server_default=None)
    with op.batch_alter_table('security_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('timestamp_ttl', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('security_definition', schema=None) as batch_op:
        batch_op.drop_column('timestamp_ttl')
        batch_op.drop_column('password_type')
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        batch_op.drop_column('wsdl_port')
        batch_op.drop_column('wsdl_service')
        batch_op.drop_column('wsdl')
        batch_op.drop_column('soap_action')
        batch_op.drop_column('soap_version')
