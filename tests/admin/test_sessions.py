"""Sessions end for real: a copy of a session's cookie is refused once its user logs out, changes
password or role, or leaves it idle past the session lifetime."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from zato_outconn import Store

from tests.admin.conftest import make_app
from tests.admin.pages_client import PASSWORD_OF, Pages


@pytest.fixture
def pages(sqlite_store: Store) -> Pages:
    return Pages(make_app(sqlite_store), sqlite_store)


def _copy(pages: Pages) -> FlaskClient:
    """Another browser holding a copy of the session cookie, as someone who stole it would."""
    cookie = pages.client.get_cookie('session')
    assert cookie is not None
    thief = pages.app.test_client()
    thief.set_cookie('session', cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get('/outconns').status_code == 200


def test_a_copied_cookie_is_refused_after_logout(pages: Pages) -> None:
    pages.sign_in('viewer', 'alice')
    thief = _copy(pages)
    assert _signed_in(thief)
    assert pages.submit('/outconns', '/logout').status_code == 302
    assert not _signed_in(thief)
    assert not _signed_in(pages.client)


def test_logging_out_leaves_other_users_signed_in(pages: Pages, sqlite_store: Store) -> None:
    bob = Pages(pages.app, sqlite_store)
    bob.sign_in('viewer', 'bob')
    pages.sign_in('viewer', 'alice')
    assert pages.submit('/outconns', '/logout').status_code == 302
    assert _signed_in(bob.client)


def test_signing_in_again_after_logout_works(pages: Pages) -> None:
    pages.sign_in('viewer', 'alice')
    assert pages.submit('/outconns', '/logout').status_code == 302
    answer = pages.submit('/login', '/login', {'name': 'alice', 'password': PASSWORD_OF.format(name='alice')})
    assert answer.status_code == 302 and _signed_in(pages.client)


def test_a_new_password_ends_other_sessions_and_keeps_this_one(pages: Pages) -> None:
    pages.sign_in('admin', 'alice')
    thief = _copy(pages)
    answer = pages.submit('/users', '/users/password', {'name': 'alice', 'password': 'An0ther-long-password',
                                                             'password_again': 'An0ther-long-password'})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert _signed_in(pages.client)
    assert not _signed_in(thief)


def test_a_new_role_ends_the_users_sessions(pages: Pages, sqlite_store: Store) -> None:
    pages.sign_in('viewer', 'alice')
    thief = _copy(pages)
    sqlite_store.set_user_role('alice', 'operator')
    assert not _signed_in(thief)
    assert not _signed_in(pages.client)


def test_the_session_expires_after_its_idle_lifetime(sqlite_store: Store) -> None:
    """The session's cookie carries an expiry and Flask refuses it once signed longer ago than the
    lifetime; each request signs it again, so only an idle session ends."""
    pages = Pages(make_app(sqlite_store, PERMANENT_SESSION_LIFETIME=1), sqlite_store)
    pages.sign_in('viewer', 'alice')
    cookie = pages.client.get_cookie('session')
    assert cookie is not None and cookie.expires is not None
    with pages.client.session_transaction() as session:
        assert session.permanent
    time.sleep(0.6)
    assert _signed_in(pages.client)  # signed again: the second counts from here
    time.sleep(0.6)
    assert _signed_in(pages.client)
    time.sleep(2.1)
    assert not _signed_in(pages.client)

