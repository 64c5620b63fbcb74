"""Database URLs and engines: SQLite by default, PostgreSQL for clusters; how long a write waits for a lock.

SQLAlchemy and the config checks are imported by the functions that use them: the command line
reads the settings here (the default URL, say) to show its help, which needs neither.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zato_outconn.exceptions import ConfigError, printable

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

DB_ENV = 'ZATO_OUTCONN_DB'
DEFAULT_DB_URL = 'sqlite:///zato-outconn.db'
LOCK_TIMEOUT_ENV = 'ZATO_OUTCONN_LOCK_TIMEOUT'
# Long enough for another writer's short transaction, short enough that a held row is reported, not waited on.
DEFAULT_LOCK_TIMEOUT = 5.0


def resolve_db_url(url: str | None = None) -> str:
    """The URL given, else ``ZATO_OUTCONN_DB``, else an SQLite file in the working folder."""
    return url or os.environ.get(DB_ENV) or DEFAULT_DB_URL


def lock_timeout(value: float | str | None = None) -> float:
    """Seconds a statement waits for a lock another session holds: the value given, else the environment, else 5."""
    from zato_outconn.config.checks import seconds_setting

    # Zero would mean "wait forever" on PostgreSQL but "never wait" on SQLite: refused rather than ambiguous.
    return seconds_setting(LOCK_TIMEOUT_ENV, value, DEFAULT_LOCK_TIMEOUT)


def shown_url(url: str | URL) -> str:
    """The URL as it may be shown (errors, output): without the password of ``user:password@``, nor
    any query parameter that holds one (libpq takes ``?password=`` and ``?sslpassword=`` too)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url) if isinstance(url, str) else url
    hidden = {key: '***' for key in parsed.query if 'password' in key.lower()}
    if not hidden:
        return parsed.render_as_string(hide_password=True)
    # The query's values are rendered escaped: the mask is shown as the user part's is.
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace('=%2A%2A%2A', '=***')


def normalise_url(url: str) -> URL:
    """The URL to open, refused (ConfigError naming the database URL) unless it is SQLite or PostgreSQL:
    the two databases the schema and the tests know."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError('database URL', f'{_SUPPORTED}; got text that is no URL') from None
    if parsed.get_backend_name() not in ('sqlite', 'postgresql', 'postgres'):
        raise ConfigError('database URL', f'{_SUPPORTED}; got a {printable(parsed.get_backend_name())[:40]!r} URL')
    # psycopg 3 is the driver installed with the package; plain postgresql:// would ask for psycopg2.
    if parsed.drivername in ('postgresql', 'postgres'):
        parsed = parsed.set(drivername='postgresql+psycopg')
    return parsed


_SUPPORTED = (f'must be sqlite:///FILE or postgresql://USER@HOST/DATABASE (--db, or {DB_ENV}; the default is '
              f'{DEFAULT_DB_URL})')


def sqlite_path(url: URL) -> str | None:
    """The file an SQLite URL opens (``file:`` URIs too), or None for an in-memory database or another backend."""
    if url.get_backend_name() != 'sqlite' or url.database in (None, '', ':memory:'):
        return None
    path = url.database
    assert path is not None
    if path.startswith('file:') and str(url.query.get('uri', '')).lower() in ('true', '1'):
        from urllib.parse import unquote

        path = path[len('file:'):].split('?', 1)[0]
        # file:///abs/path has an empty authority before the path; file:rel/path has none.
        if path.startswith('//'):
            path = path[2:]
        if path in ('', ':memory:') or url.query.get('mode') == 'memory':
            return None
        path = unquote(path)
    return path


def create_db_engine(url: str, *, timeout: float | None = None) -> Engine:
    """An engine whose statements wait at most ``timeout`` (see lock_timeout) for a lock, on either backend."""
    from sqlalchemy import create_engine, event

    parsed = normalise_url(url)
    milliseconds = max(1, round(lock_timeout(timeout) * 1000))
    engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != 'sqlite')
    if parsed.get_backend_name() == 'sqlite':
        event.listen(engine, 'connect', _sqlite_on_connect(milliseconds))
    elif parsed.get_backend_name() == 'postgresql':
        event.listen(engine, 'connect', _postgresql_on_connect(milliseconds))
    return engine


def _sqlite_on_connect(milliseconds: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLite ignores foreign keys unless asked; the busy timeout is how long a write waits for
        # another process's lock on the file before "database is locked".
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute(f'PRAGMA busy_timeout={int(milliseconds)}')
        cursor.close()

    return on_connect


def _postgresql_on_connect(milliseconds: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Without it an edit waits as long as another session holds the row. Set in autocommit, as
        # a SET inside the driver's implicit transaction would be undone by the pool's first rollback.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{int(milliseconds)}ms'")
        finally:
            dbapi_connection.autocommit = autocommit

    return on_connect
