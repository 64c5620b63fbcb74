"""Failed sign-ins, counted per user name and client address to throttle guessing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'failed_login',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_login')),
    )
    op.create_index('ix_failed_login_kind_key_failed_at', 'failed_login', ['kind', 'key', 'failed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_failed_login_kind_key_failed_at', table_name='failed_login')
    op.drop_table('failed_login')
