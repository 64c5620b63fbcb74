"""The policies of a connection: retries, the circuit breaker and the rate limit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# What rows written before this revision get: the defaults of the settings, every policy off.
_DEFAULTS = (
    ('max_retries', sa.Integer(), '0'),
    ('retry_on_status', sa.String(length=200), '429,502,503,504'),
    ('retry_methods', sa.String(length=200), 'GET,HEAD,PUT,DELETE,OPTIONS'),
    ('retry_backoff', sa.Float(), '0.5'),
    ('retry_after_max', sa.Float(), '30'),
    ('breaker_threshold', sa.Integer(), '0'),
    ('breaker_reset', sa.Float(), '30'),
    ('rate_limit', sa.Integer(), '0'),
)


def upgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        for name, type_, default in _DEFAULTS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        # The store writes every column; the server defaults only fill the rows there were.
        for name, _type, _default in _DEFAULTS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_connection', schema=None) as batch_op:
        for name, _type, _default in reversed(_DEFAULTS):
            batch_op.drop_column(name)
