"""Database failures through the Python API: each is an OutconnError that says what to do, never raw SQLAlchemy.

Real SQLite files (opened read-only, locked by another connection, deleted) and a real PostgreSQL
database (dropped under an open store, a row held by another session). The tests run as root,
which file modes do not stop, so read-only is SQLite's own mode=ro and "unreadable" paths are
ones no user can open: through a file, a folder, a missing folder.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from zato_outconn import ConfigError, OutconnConfig, OutconnError, Runtime, SchemaError, Store, StoreError
from zato_outconn.store.engine import LOCK_TIMEOUT_ENV, create_db_engine

from tests.conftest import upgraded


def add_crm(store: Store) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host='https://crm.example.com'))


def raises_store_error(call: object, *needles: str) -> StoreError:
    with pytest.raises(OutconnError) as info:
        call()  # type: ignore[operator]
    error = info.value
    assert isinstance(error, StoreError), repr(error)
    assert not isinstance(error, SQLAlchemyError)
    assert isinstance(error.__cause__, SQLAlchemyError) or error.__cause__ is None
    message = str(error)
    assert '\n' not in message
    for needle in needles:
        assert needle in message, message
    return error


@pytest.fixture
def sqlite_file(sqlite_url: str) -> Path:
    path = make_url(sqlite_url).database
    assert path is not None
    return Path(path)


# ---------------------------------------------------------------------- 17. SQLite


def test_read_only_sqlite_file_refuses_writes_with_store_error(sqlite_url: str, sqlite_file: Path) -> None:
    writable = Store(sqlite_url)
    add_crm(writable)
    writable.close()
    store = Store(f'sqlite:///file:{sqlite_file}?mode=ro&uri=true')
    try:
        # Reads go on working; writes say the database is read-only and what to check.
        assert [record.config.name for record in store.list_outconns()] == ['CRM']
        raises_store_error(lambda: store.create_outconn(OutconnConfig(name='ERP', host='https://erp.example.com')),
                           'read-only', 'nothing was written', 'mode=ro')
        raises_store_error(lambda: store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}), 'read-only')
        assert store.get_outconn('plain_http', 'CRM').version == 1
    finally:
        store.close()


def test_runtime_edits_on_a_read_only_database_raise_store_error(sqlite_url: str, sqlite_file: Path) -> None:
    with Runtime(f'sqlite:///file:{sqlite_file}?mode=ro&uri=true', sync=False) as runtime:
        raises_store_error(lambda: add_crm(runtime.store), 'read-only')
        assert runtime.store.list_outconns() == []


def test_locked_sqlite_file_is_reported_busy_within_the_lock_timeout(sqlite_url: str, sqlite_file: Path) -> None:
    store = Store(sqlite_url, lock_timeout=0.3)
    add_crm(store)
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        holder.execute('BEGIN EXCLUSIVE')
        started = time.monotonic()
        raises_store_error(lambda: store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}),
                           'busy', 'another session holds a lock', LOCK_TIMEOUT_ENV, 'try again')
        assert time.monotonic() - started < 3
    finally:
        holder.execute('ROLLBACK')
        holder.close()
    # Nothing was written, and the store works once the lock is gone.
    assert store.get_outconn('plain_http', 'CRM').version == 1
    assert store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}).version == 2
    store.close()


def test_deleted_sqlite_file_under_an_open_store(sqlite_url: str, sqlite_file: Path) -> None:
    store = Store(sqlite_url)
    try:
        add_crm(store)
        sqlite_file.unlink()
        raises_store_error(store.list_outconns, 'is gone', 'deleted or moved', 'db upgrade')
        raises_store_error(lambda: store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}), 'is gone')
        # Not recreated empty behind the caller's back.
        assert not sqlite_file.exists()
    finally:
        store.close()


# ---------------------------------------------------------------------- 17 and 18. PostgreSQL


@pytest.fixture
def pg_url(pg_database: str) -> str:
    return upgraded(pg_database)


@pytest.mark.postgres
def test_dropped_postgresql_database_under_an_open_store(pg_url: str, pg_server: str) -> None:
    store = Store(pg_url)
    try:
        add_crm(store)
        admin = create_engine(pg_server, isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE {make_url(pg_url).database} WITH (FORCE)'))
        finally:
            admin.dispose()
        error = raises_store_error(store.list_outconns, 'does not exist', 'db upgrade')
        raises_store_error(lambda: store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}), 'does not exist')
        password = make_url(pg_url).password
        if password:
            assert password not in str(error)
    finally:
        store.close()


@pytest.fixture
def row_holder(pg_url: str) -> Iterator[object]:
    """Another session that takes the row lock of CRM with SELECT ... FOR UPDATE, and keeps it until the end."""
    engine = create_db_engine(pg_url)
    connection = engine.connect()

    def hold() -> None:
        connection.execute(text("SELECT id FROM outgoing_connection WHERE name = 'CRM' FOR UPDATE"))

    yield hold
    connection.rollback()
    connection.close()
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize('how', ['argument', 'environment'])
def test_held_postgresql_row_fails_the_edit_after_the_lock_timeout(pg_url: str, row_holder: object, how: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if how == 'environment':
        monkeypatch.setenv(LOCK_TIMEOUT_ENV, '0.5')
        store = Store(pg_url)
    else:
        store = Store(pg_url, lock_timeout=0.5)
    try:
        add_crm(store)
        row_holder()  # type: ignore[operator]
        started = time.monotonic()
        raises_store_error(lambda: store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3}),
                           'busy', 'waited 0.5 s', LOCK_TIMEOUT_ENV, 'nothing was changed', 'try again')
        waited = time.monotonic() - started
        assert 0.4 < waited < 3, waited
        # The lock timeout holds on every pooled connection, not only the first (the pool's
        # rollback must not undo it).
        raises_store_error(lambda: store.delete_outconn('plain_http', 'CRM'), 'busy')
    finally:
        record = store.get_outconn('plain_http', 'CRM')
        store.close()
    assert (record.version, record.config.read_timeout) != (2, 3)
    assert record.version == 1


def test_lock_timeout_from_the_environment_must_be_a_positive_number(sqlite_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ('soon', '0', '-1', 'nan'):
        monkeypatch.setenv(LOCK_TIMEOUT_ENV, value)
        with pytest.raises(ConfigError) as info:
            Store(sqlite_url)
        assert info.value.field == LOCK_TIMEOUT_ENV


# ---------------------------------------------------------------------- 19. SQLite paths that cannot be opened


def test_sqlite_path_through_a_file_says_it_is_a_file(tmp_path: Path) -> None:
    (tmp_path / 'plain').write_text('not a folder')
    raises_store_error(lambda: Store(f'sqlite:///{tmp_path / "plain" / "zato-outconn.db"}'),
                       'cannot be opened', f'{tmp_path / "plain"} is a file, not a folder')


def test_sqlite_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / 'data').mkdir()
    raises_store_error(lambda: Store(f'sqlite:///{tmp_path / "data"}'), 'cannot be opened',
                       'is a folder, not a file', str(tmp_path / 'data' / 'zato-outconn.db'))


def test_sqlite_file_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / 'no-such-folder'
    raises_store_error(lambda: Store(f'sqlite:///{missing / "deeper" / "zato-outconn.db"}'),
                       f'the folder {missing} does not exist', 'mkdir -p')
    assert not missing.exists()


def test_missing_sqlite_file_in_an_existing_folder_still_says_run_db_upgrade(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match='does not exist; create it with: .* db upgrade'):
        Store(f'sqlite:///{tmp_path / "zato-outconn.db"}')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('url', ['postgresql://bob:S3CR3T-CANARY-1234@127.0.0.1:{port}/db',
                                 'postgresql://bob@127.0.0.1:{port}/db?password=S3CR3T-CANARY-1234',
                                 'postgresql://bob@127.0.0.1:{port}/db?sslpassword=S3CR3T-CANARY-1234&connect_timeout=2'])
def test_an_unreachable_database_is_named_without_its_password(url: str) -> None:
    """libpq takes a password in the query too; neither form is shown."""
    from tests.support.servers import refused_port

    with pytest.raises(StoreError) as raised:
        Store(url.format(port=refused_port())).list_outconns()
    message = str(raised.value)
    assert 'S3CR3T-CANARY-1234' not in message
    assert '127.0.0.1' in message and 'check that it is up' in message
    assert 'bob:***@' in message or 'password=***' in message
