"""Alembic environment: runs migrations on the engine zato-outconn hands over."""

from __future__ import annotations

from alembic import context

from zato_outconn.db import create_db_engine
from zato_outconn.models import Base

config = context.config
engine = config.attributes.get('engine')
if engine is None:
    # Run by the alembic command itself: take the URL from its ini file or -x db=...
    url = context.get_x_argument(as_dictionary=True).get('db') or config.get_main_option('sqlalchemy.url')
    engine = create_db_engine(url)

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()
