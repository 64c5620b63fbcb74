"""Fixtures: real HTTP servers, SQLite files and fresh PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from zato_outconn import OutconnConfig, Runtime, SecurityConfig, Store
from zato_outconn.security.token_cache import TOKENS
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from zato_outconn.store.secret_box import KEYS_ENV

from tests.support.servers import RecordingServer

PG_ENV = 'ZATO_OUTCONN_TEST_PG'
PG_DEFAULT = 'postgresql+psycopg://postgres@127.0.0.1:5432/test'


def pg_admin_url() -> str:
    return os.environ.get(PG_ENV, PG_DEFAULT)


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    # OAuth2 tokens are cached for the whole process; each test starts and ends without any.
    TOKENS.clear()
    yield
    TOKENS.clear()


@pytest.fixture(scope='session')
def pg_server() -> str:
    """The PostgreSQL server's admin URL; the run fails, not skips, when it cannot be reached."""
    url = pg_admin_url()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text('select 1'))
    except Exception as error:  # noqa: BLE001
        pytest.fail(f'PostgreSQL at {url} is not reachable ({error}); start it or set {PG_ENV}', pytrace=False)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f'zato_outconn_test_{uuid.uuid4().hex[:12]}'
    admin = create_engine(pg_server, isolation_level='AUTOCOMMIT')
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE {name}'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=['sqlite', 'postgresql'])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database of each kind, with no schema."""
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path / "zato-outconn.db"}'
    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    return request.getfixturevalue('pg_database')


def upgraded(url: str) -> str:
    """The database at ``url`` with the schema brought to head; the URL itself, for chaining."""
    engine = create_db_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A database of each kind with the schema at head."""
    return upgraded(empty_db_url)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    """An SQLite database with the schema at head, for tests that need one database only."""
    return upgraded(f'sqlite:///{tmp_path / "zato-outconn.db"}')


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


@pytest.fixture
def runtime(sqlite_url: str) -> Iterator[Runtime]:
    with Runtime(sqlite_url, cluster='parallel', server='esb1') as runtime:
        yield runtime


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def make_conn(runtime: Runtime, http_server: RecordingServer) -> Callable[..., Any]:
    """Create a plain_http connection to the recording server and return its registry item."""

    def make(name: str = 'CRM', *, security: dict[str, Any] | None = None, **settings: Any) -> Any:
        if security is not None:
            runtime.store.create_security(SecurityConfig(**security))
            settings['security'] = security['name']
        settings.setdefault('host', http_server.url)
        runtime.store.create_outconn(OutconnConfig(name=name, **settings))
        return runtime.outgoing.plain_http[name]

    return make
