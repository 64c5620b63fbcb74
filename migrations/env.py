"""Alembic environment: runs migrations on the engine zato-outconn hands over."""

from __future__ import annotations

from alembic import context

from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.models import Base

config = context.config
engine = config.attributes.get('engine')
if engine is None:
    # Run by the alembic command itself: take the URL from its ini file or -x db=...
    url = context.get_x_argument(as_dictionary=True).get('db') or config.get_main_option('sqlalchemy.url')
    engine = create_db_engine(url)

with engine.connect() as connection:
    is_sqlite = connection.dialect.name == 'sqlite'
    if is_sqlite:
        # SQLite alters a table by copying it and dropping the old one; with foreign keys enforced,
        # dropping a table that others point at fails halfway through. They are checked at the end.
        connection.exec_driver_sql('PRAGMA foreign_keys=OFF')
        connection.commit()
    try:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=is_sqlite)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if is_sqlite:
            broken = connection.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
            if broken:
                raise RuntimeError(f'The migration left rows whose foreign keys point nowhere: {broken}')
    finally:
        if is_sqlite:
            connection.rollback()
            connection.exec_driver_sql('PRAGMA foreign_keys=ON')
            connection.commit()
