"""What every part of the store shares: the engine, transactions, the secret box and the change feed.

Every database failure leaves the store as an OutconnError (StoreError, Conflict, SchemaError) whose
message says what to do; the SQLAlchemy error stays chained as its cause, for the traceback.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from zato_outconn.exceptions import ConfigError, Conflict, OutconnError, SchemaError, StoreError
from zato_outconn.store.engine import (
    LOCK_TIMEOUT_ENV,
    create_db_engine,
    lock_timeout,
    normalise_url,
    resolve_db_url,
    shown_url,
    sqlite_path,
)
from zato_outconn.store.schema import check_current
from zato_outconn.store.secret_box import SecretBox, load_secret_box
from zato_outconn.sync.changes import Change, ChangeFeed, Subscriber


class StoreBase:
    """Opens one database, checks its schema, and runs writes in transactions that commit whole.

    ``lock_timeout`` is how many seconds a statement waits for a lock another session holds
    (default: ZATO_OUTCONN_LOCK_TIMEOUT, else 5); past it the store raises StoreError, busy.
    """

    def __init__(self, db_url: str | None = None, *, engine: Engine | None = None,
                 check_schema: bool = True, lock_timeout: float | None = None) -> None:
        self.db_url = resolve_db_url(db_url)
        if engine is None and check_schema:
            check_sqlite_file(normalise_url(self.db_url), must_exist=True)
        self.engine = engine if engine is not None else create_db_engine(self.db_url, timeout=lock_timeout)
        # The timeout the engine was made with, for the busy message; an engine handed in has its own.
        self._lock_timeout = _timeout_or_none(lock_timeout)
        if check_schema:
            try:
                with database_errors(self.engine.url, self._lock_timeout):
                    check_current(self.engine)
            except BaseException:
                # The caller never gets this store to close, so close the engine made for it here.
                if engine is None:
                    self.engine.dispose()
                raise
        self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # Checked before each session: an SQLite file deleted under an open store would otherwise
        # go on taking writes through a pooled connection, or be recreated empty by a new one.
        self._sqlite_file = sqlite_path(self.engine.url)
        self._secret_box: SecretBox | None = None
        self._box_lock = threading.Lock()
        self._feed = ChangeFeed()

    def close(self) -> None:
        self.engine.dispose()

    def subscribe(self, callback: Subscriber) -> None:
        self._feed.subscribe(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._feed.unsubscribe(callback)

    def _notify(self, change: Change) -> None:
        self._feed.publish(change)

    @property
    def secret_box(self) -> SecretBox:
        with self._box_lock:
            if self._secret_box is None:
                self._secret_box = load_secret_box(self.db_url)
            return self._secret_box

    @contextmanager
    def _sessions(self) -> Iterator[Session]:
        """A session for reads (and the base of every transaction); database failures become StoreError."""
        if self._sqlite_file is not None and not os.path.exists(self._sqlite_file):
            target = shown_url(self.engine.url)
            raise StoreError(f'The database file {self._sqlite_file} is gone: it was deleted or moved while '
                             f'the store was open; put it back, or create a new one with: '
                             f'zato-outconn --db {target} db upgrade, and open the store again')
        with database_errors(self.engine.url, self._lock_timeout), self._session_factory() as session:
            yield session

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                with session.begin():
                    yield session
            except StaleDataError:
                raise Conflict('The row was changed by someone else since it was read; '
                               'read it again and repeat the change') from None

    @staticmethod
    def _flush_unique(session: Session, field_name: str, message: str) -> None:
        # The check before the write gives the clear message; this catches a concurrent writer.
        try:
            session.flush()
        except IntegrityError:
            raise ConfigError(field_name, message) from None


# ---------------------------------------------------------------------- database failures


@contextmanager
def database_errors(url: URL, timeout: float | None = None) -> Iterator[None]:
    """Turn the driver's failures inside the block into OutconnErrors that say what to do."""
    try:
        yield
    except (DBAPIError, PoolTimeoutError) as error:
        raise store_error(error, url, timeout) from error


def store_error(error: Exception, url: URL, timeout: float | None = None) -> OutconnError:
    """The OutconnError for one database failure: what happened to which database, and what to do.

    The URL is shown without its password; the driver's own words, first line only, say the detail.
    """
    target = shown_url(url)
    original = getattr(error, 'orig', None) or error
    detail = _first_line(original)
    text = detail.lower()
    code = str(getattr(original, 'sqlstate', '') or '')
    if isinstance(error, PoolTimeoutError):
        return StoreError(f'The database {target} is busy: every connection of the pool is in use ({detail}); '
                          'try again')
    if code == '55P03' or 'database is locked' in text or 'database table is locked' in text:
        waited = f'{timeout:g} s' if timeout is not None else 'the lock timeout'
        return StoreError(f'The database {target} is busy: another session holds a lock on what this needs '
                          f'(waited {waited}, set by {LOCK_TIMEOUT_ENV}); nothing was changed; '
                          'try again once that session is done')
    if code in ('40P01', '40001') or isinstance(error, IntegrityError):
        return Conflict(f'Another session changed the same rows at the same time ({detail}); nothing was '
                        'written; read them again and repeat the change')
    if code == '25006' or 'readonly database' in text or 'read-only' in text:
        return StoreError(f'The database {target} is read-only ({detail}); nothing was written; open it '
                          'writable: check the file system and the permissions of the file and its folder, '
                          'a mode=ro in the URL, or whether the server is a read-only standby')
    if code in ('42P01', '3F000') or 'no such table' in text:
        return SchemaError(f'The database {target} has no zato-outconn schema ({detail}); '
                           f'run: zato-outconn --db {target} db upgrade')
    # A connection that fails has no SQLSTATE in psycopg: the server's FATAL line says it.
    if code == '3D000' or re.search(r'database ".*" does not exist', text):
        return StoreError(f'The database {target} does not exist on its server ({detail}); create it, or fix '
                          f'the URL, then run: zato-outconn --db {target} db upgrade')
    if code in ('28P01', '28000') or 'authentication failed' in text or re.search(r'role ".*" does not exist', text):
        return StoreError(f'Cannot log in to the database {target} ({detail}); check the user and password '
                          'in the URL and the server\'s pg_hba.conf')
    if code == '42501':
        return StoreError(f'The database user of {target} is not allowed to do this ({detail}); grant it '
                          'the rights on the zato-outconn tables')
    if code.startswith('53') or 'disk is full' in text:
        return StoreError(f'The database {target} is out of space or memory ({detail}); free some, then '
                          'try again')
    if 'unable to open database file' in text:
        return StoreError(f'The database {target} cannot be opened ({detail}); check that its file and '
                          'folder exist and can be read and written')
    if 'not a database' in text or 'malformed' in text or 'disk i/o error' in text:
        return StoreError(f'The database {target} cannot be read as an SQLite database ({detail}); point '
                          '--db at the right file, or restore it from a backup')
    if (isinstance(error, DBAPIError) and error.connection_invalidated) or code.startswith(('08', '57P')):
        return StoreError(f'The connection to the database {target} was lost ({detail}); check that the '
                          'server is up and the database exists, then try again')
    return StoreError(f'The database {target} failed ({detail}); check that it is up and the URL is right, '
                      'then try again')


# ---------------------------------------------------------------------- SQLite files


def check_sqlite_file(url: URL, *, must_exist: bool) -> None:
    """Say why an SQLite file cannot be opened, before SQLite says "unable to open" or creates it empty.

    ``must_exist`` is for the store: opening a missing file would create an empty one, so it says
    to run db upgrade instead. ``db upgrade`` itself creates the file, but not its folder.
    """
    path = sqlite_path(url)
    if path is None:
        return
    target = shown_url(url)
    cannot = f'The database file {path} cannot be opened'
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StoreError(f'{cannot}: {_folder_problem(folder)}') from None
        if must_exist:
            raise SchemaError(f'The database file {path} does not exist; '
                              f'create it with: zato-outconn --db {target} db upgrade') from None
        return
    except NotADirectoryError:
        raise StoreError(f'{cannot}: {_folder_problem(os.path.dirname(os.path.abspath(path)))}') from None
    except PermissionError:
        raise StoreError(f'{cannot}: permission denied on the file or a folder above it; let the user '
                         f'running zato-outconn read and write it') from None
    except OSError as error:
        raise StoreError(f'{cannot}: {error.strerror}') from None
    if stat.S_ISDIR(mode):
        raise StoreError(f'{cannot}: it is a folder, not a file; give the path of the database file in it, '
                         f'as in sqlite:///{os.path.join(path, "zato-outconn.db")}')
    if not stat.S_ISREG(mode):
        raise StoreError(f'{cannot}: it is not a regular file; give the path of an SQLite database file')
    if not os.access(path, os.R_OK):
        raise StoreError(f'{cannot}: permission denied; let the user running zato-outconn read and write it')


def _folder_problem(folder: str) -> str:
    """Why ``folder`` cannot hold the file: the first part of it that is missing or is a file."""
    parts = folder.split(os.sep)
    for index in range(2, len(parts) + 1):
        prefix = os.sep.join(parts[:index]) or os.sep
        if os.path.isdir(prefix):
            continue
        if os.path.lexists(prefix):
            return f'{prefix} is a file, not a folder; put the database in a folder'
        return f'the folder {prefix} does not exist; create it (mkdir -p {folder}), then run db upgrade'
    return f'the folder {folder} cannot be used'


def _timeout_or_none(value: float | None) -> float | None:
    try:
        return lock_timeout(value)
    except ConfigError:
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
