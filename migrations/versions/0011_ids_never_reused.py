"""Ids of connections and security definitions never given twice on SQLite (AUTOINCREMENT)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:05:00

Without AUTOINCREMENT, SQLite gives a new row the highest id in the table plus one: a row made after
the newest one was deleted takes the deleted one's id, and with it its history (kept by id), its
pings, and any stale edit made by that id (an If-Match of the same version). PostgreSQL's sequences
never give an id twice. The counter starts past every id the table, its history and the ping audit
have seen, so that an id already deleted is not given again either.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Each table, the history kind of its rows, and another table that keeps its ids after a delete.
_TABLES = (('security_definition', 'security', None), ('outgoing_connection', 'outconn', ('ping', 'outconn_id')))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, kind, kept in _TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
        highest = [bind.execute(sa.text(f'SELECT MAX(id) FROM {table}')).scalar(),
                   bind.execute(sa.text('SELECT MAX(object_id) FROM history WHERE kind = :kind'),
                                {'kind': kind}).scalar()]
        if kept is not None:
            highest.append(bind.execute(sa.text(f'SELECT MAX({kept[1]}) FROM {kept[0]}')).scalar())
        seen = max((value for value in highest if value is not None), default=0)
        # sqlite_sequence exists once a table with AUTOINCREMENT does; its row for the table once a row was added.
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :table'), {'table': table})
        bind.execute(sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seen)'),
                     {'table': table, 'seen': seen})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, _kind, _kept in reversed(_TABLES):
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :table'), {'table': table})
