"""Fixtures of the command tests: a working folder with its default database, its key, and the commands.

``store`` here is a store on that folder's database and replaces the one of ``tests/conftest.py``;
``http_server`` and ``pg_database`` come from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from zato_outconn import Store
from zato_outconn.store.secret_box import KEYS_ENV

from tests.conftest import upgraded
from tests.support.cli_runner import CLI, DEFAULT_DB, EXECUTABLE


def upgraded_sqlite(path: Path) -> str:
    return upgraded(f'sqlite:///{path}')


@pytest.fixture(scope='module', autouse=True)
def _executable() -> None:
    assert EXECUTABLE, 'zato-outconn is not on PATH; install the package with pip install -e .'


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A Fernet key shared by the commands and this process, which sets up data through the store."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEYS_ENV, key)
    return key


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """The default database file of the working folder, with the schema in place."""
    upgraded_sqlite(tmp_path / DEFAULT_DB)
    return tmp_path / DEFAULT_DB


@pytest.fixture
def store(db_file: Path, secret_key: str) -> Iterator[Store]:
    store = Store(f'sqlite:///{db_file}')
    yield store
    store.close()


@pytest.fixture
def cli(tmp_path: Path, db_file: Path, secret_key: str) -> CLI:
    """Commands in tmp_path on its default database, keys from the environment."""
    return CLI(tmp_path, **{KEYS_ENV: secret_key})
