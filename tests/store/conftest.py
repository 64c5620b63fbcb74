"""Fixtures of the store tests: an engine on an empty database, stores opened mid-test, keys, a client identity.

The databases themselves (``empty_db_url``, ``db_url``, ``sqlite_url``, ``store``) come from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import trustme
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from zato_outconn import Store
from zato_outconn.store.engine import create_db_engine

from tests.support.tls_servers import ClientIdentity, client_identity

# The password of the client key in ``identity``; test_secrets looks for it where it must not be.
KEY_PASSWORD = 'Key-pa55-0c7e42'


@pytest.fixture
def engine(empty_db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(empty_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def open_store(db_url: str) -> Iterator[Callable[[], Store]]:
    """Open stores on ``db_url`` with the keys set at the time; all are closed afterwards."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(Store(db_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def fresh_store(open_store: Callable[[], Store]) -> Callable[[], Store]:
    """The same as open_store, by the name test_store uses."""
    return open_store


@pytest.fixture
def keys() -> dict[str, str]:
    return {name: Fernet.generate_key().decode() for name in 'ABC'}


@pytest.fixture(scope='module')
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope='module')
def identity(ca: trustme.CA) -> ClientIdentity:
    return client_identity(ca, 'payments-client', key_password=KEY_PASSWORD)
