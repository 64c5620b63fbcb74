"""Settings of digest, ntlm, oauth2 and mtls security definitions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_COLUMNS = (
    ('token_url', sa.String(length=2000)),
    ('client_id', sa.String(length=500)),
    ('scopes', sa.String(length=2000)),
    ('audience', sa.String(length=2000)),
    ('token_extra', sa.Text()),
    ('client_auth', sa.String(length=16)),
    ('client_cert', sa.Text()),
    ('key_password', sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table('security_definition', schema=None) as batch_op:
        for name, column_type in _COLUMNS:
            batch_op.add_column(sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('security_definition', schema=None) as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
