"""The ping audit: who pinged which connection when, and the result

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outconn_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('transport', sa.String(length=32), nullable=False),
        sa.Column('pinged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('pinged_by', sa.String(length=200), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('elapsed', sa.Float(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('url', sa.String(length=4000), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ping')),
    )
    op.create_index('ix_ping_outconn_id_pinged_at', 'ping', ['outconn_id', 'pinged_at'], unique=False)
    op.create_index('ix_ping_pinged_by_pinged_at', 'ping', ['pinged_by', 'pinged_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ping_pinged_by_pinged_at', table_name='ping')
    op.drop_index('ix_ping_outconn_id_pinged_at', table_name='ping')
    op.drop_table('ping')
