"""What every part of the store shares: the engine, transactions, the secret box and the change feed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from zato_outconn.exceptions import ConfigError, Conflict, SchemaError
from zato_outconn.store.engine import create_db_engine, resolve_db_url
from zato_outconn.store.schema import check_current
from zato_outconn.store.secret_box import SecretBox, load_secret_box
from zato_outconn.sync.changes import Change, ChangeFeed, Subscriber


class StoreBase:
    """Opens one database, checks its schema, and runs writes in transactions that commit whole."""

    def __init__(self, db_url: str | None = None, *, engine: Engine | None = None,
                 check_schema: bool = True) -> None:
        self.db_url = resolve_db_url(db_url)
        if engine is None and check_schema:
            _refuse_missing_sqlite_file(self.db_url)
        self.engine = engine if engine is not None else create_db_engine(self.db_url)
        if check_schema:
            try:
                check_current(self.engine)
            except BaseException:
                # The caller never gets this store to close, so close the engine made for it here.
                if engine is None:
                    self.engine.dispose()
                raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
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


def _refuse_missing_sqlite_file(db_url: str) -> None:
    """Opening a missing SQLite file would create an empty one; say what to run instead."""
    url = make_url(db_url)
    if url.get_backend_name() == 'sqlite' and url.database not in (None, '', ':memory:') \
            and not os.path.exists(url.database):
        raise SchemaError(f'The database file {url.database} does not exist; '
                          f'create it with: zato-outconn --db {db_url} db upgrade')
