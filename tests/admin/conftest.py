"""Fixtures of the admin tests: the app on a real store, and a client that calls it as each role.

``store`` (SQLite and PostgreSQL) and ``sqlite_url`` come from ``tests/conftest.py``; ``sqlite_api``
is for tests that need one database only (every role on every route, schemathesis); ``pages`` is a
person using the pages (tests.admin.pages_client).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from zato_outconn import OutconnConfig, SecurityConfig, Store
from zato_outconn.admin import create_app
from zato_outconn.store import users as users_module

from tests.admin.pages_client import Pages

ROLES = ('viewer', 'operator', 'admin')
SECRET_KEY = 'test-secret-key-of-the-admin-0123456789'
CHEAP_PASSWORD_METHOD = 'scrypt:1024:8:1'


class API:
    """Calls the app through Flask's test client as one of the roles (an API token each), or as nobody."""

    def __init__(self, app: APIFlask, store: Store) -> None:
        self.app = app
        self.store = store
        self.client: FlaskClient = app.test_client()
        self._tokens: dict[str, str] = {}

    def token(self, role: str) -> str:
        if role not in self._tokens:
            self._tokens[role] = self.store.create_token(f'{role}-bot', role)[1]
        return self._tokens[role]

    def call(self, method: str, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop('headers', {}))
        if role is not None:
            headers['Authorization'] = f'Bearer {self.token(role)}'
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        return self.call('GET', path, role, **kwargs)

    def post(self, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        return self.call('POST', path, role, **kwargs)

    def patch(self, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        return self.call('PATCH', path, role, **kwargs)

    def put(self, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        return self.call('PUT', path, role, **kwargs)

    def delete(self, path: str, role: str | None = 'admin', **kwargs: Any) -> TestResponse:
        return self.call('DELETE', path, role, **kwargs)

    def outconn(self, name: str = 'CRM', **settings: Any) -> int:
        settings.setdefault('host', 'http://127.0.0.1:9')
        return self.store.create_outconn(OutconnConfig(name=name, **settings)).id

    def security(self, name: str = 'crm-creds', **settings: Any) -> int:
        settings.setdefault('sec_type', 'basic_auth')
        settings.setdefault('username', 'alice')
        settings.setdefault('secret', 'S3cret-never-shown')
        return self.store.create_security(SecurityConfig(name=name, **settings)).id


def make_app(store: Store, **config: Any) -> APIFlask:
    return create_app({'STORE': store, 'SECRET_KEY': SECRET_KEY, 'TESTING': True, **config})


@pytest.fixture
def api(store: Store) -> API:
    """The API on a store of each database."""
    return API(make_app(store), store)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    store = Store(sqlite_url)
    yield store
    store.close()


@pytest.fixture
def sqlite_api(sqlite_store: Store) -> API:
    return API(make_app(sqlite_store), sqlite_store)


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Password hashes quick to make, for tests that make many users; the default stays slow scrypt."""
    monkeypatch.setattr(users_module, 'PASSWORD_METHOD', CHEAP_PASSWORD_METHOD)


@pytest.fixture
def pages(sqlite_store: Store, cheap_hashes: None) -> Pages:
    """The pages on SQLite, used as a person signed in to them would."""
    return Pages(make_app(sqlite_store), sqlite_store)


def problem_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The problem the answer holds, checked to be one of this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == 'application/problem+json', response.headers
    body = response.get_json(force=True)
    assert body['status'] == status and body['title'] and body['detail'] and body['type'], body
    return dict(body)
