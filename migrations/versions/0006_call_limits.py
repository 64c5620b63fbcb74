"""The limits of a whole call: total_timeout and max_response_size

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# What rows written before this revision get: the default of the setting.
_DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024


def upgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_timeout', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max_response_size', sa.BigInteger(), nullable=False,
                                      server_default=str(_DEFAULT_MAX_RESPONSE_SIZE)))
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        # The store writes every column; the server default only fills the rows there were.
        batch_op.alter_column('max_response_size', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        batch_op.drop_column('max_response_size')
        batch_op.drop_column('total_timeout')
