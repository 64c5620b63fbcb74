"""A per-user session epoch, counted up to end every session of the user (at logout, a new password or role)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('admin_user') as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))
    # Defaults live in the models; the server default only fills the rows there were.
    with op.batch_alter_table('admin_user') as batch_op:
        batch_op.alter_column('session_epoch', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('admin_user') as batch_op:
        batch_op.drop_column('session_epoch')
