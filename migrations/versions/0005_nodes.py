"""Nodes: the running processes that follow the database, and the change each has applied

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'node',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('component', sa.String(length=500), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_change', sa.Integer(), nullable=False),
        sa.Column('interval', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_node')),
    )


def downgrade() -> None:
    op.drop_table('node')
