"""Database URLs and engines: SQLite by default, PostgreSQL for clusters."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DB_ENV = 'ZATO_OUTCONN_DB'
DEFAULT_DB_URL = 'sqlite:///zato-outconn.db'


def resolve_db_url(url: str | None = None) -> str:
    """The URL given, else ``ZATO_OUTCONN_DB``, else an SQLite file in the working folder."""
    return url or os.environ.get(DB_ENV) or DEFAULT_DB_URL


def normalise_url(url: str) -> URL:
    parsed = make_url(url)
    # psycopg 3 is the driver installed with the package; plain postgresql:// would ask for psycopg2.
    if parsed.drivername in ('postgresql', 'postgres'):
        parsed = parsed.set(drivername='postgresql+psycopg')
    return parsed


def create_db_engine(url: str) -> Engine:
    parsed = normalise_url(url)
    engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != 'sqlite')
    if parsed.get_backend_name() == 'sqlite':
        event.listen(engine, 'connect', _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection: object, _record: object) -> None:
    # SQLite ignores foreign keys unless asked, and a busy timeout lets several processes share a file.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA busy_timeout=5000')
    cursor.close()
