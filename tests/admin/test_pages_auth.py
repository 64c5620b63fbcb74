"""Signing in and out through the pages: the session, CSRF on the forms, and the login throttle."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from werkzeug.test import TestResponse

from zato_outconn import Store
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.models import FailedLogin, utc_now

from tests.admin.conftest import make_app
from tests.admin.pages_client import PASSWORD_OF, Pages


@pytest.fixture
def pages(sqlite_store: Store) -> Pages:
    return Pages(make_app(sqlite_store), sqlite_store)


def sign_in(pages: Pages, name: str, password: str, address: str = '127.0.0.1', **data: str) -> TestResponse:
    return pages.submit('/login', '/login', {'name': name, 'password': password, **data},
                        environ_base={'REMOTE_ADDR': address})


def test_sign_in_leads_to_the_page_asked_for_and_log_out_ends_the_session(pages: Pages) -> None:
    pages.store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    asked = pages.get('/outconns?transport=soap')
    assert asked.status_code == 302 and asked.headers['Location'].startswith('/login?next=')
    answer = sign_in(pages, 'alice', PASSWORD_OF.format(name='alice'), next='/outconns?transport=soap')
    assert answer.status_code == 302 and answer.headers['Location'] == '/outconns?transport=soap'
    assert 'alice (viewer)' in pages.text('/outconns')
    assert pages.get('/').headers['Location'] == '/outconns'
    # Signed in, /login goes on to the list.
    assert pages.get('/login').status_code == 302

    assert pages.submit('/outconns', '/logout').headers['Location'] == '/login'
    assert pages.get('/outconns').status_code == 302


def test_the_next_page_is_never_another_site(pages: Pages) -> None:
    pages.store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    # A line break would make the redirect's Location header one werkzeug refuses (a 500).
    for target in ('https://evil.example.com/', '//evil.example.com/x', '/\\evil.example.com', 'outconns',
                   '/\r\n/evil.example.com', '/outconns\r\nSet-Cookie: planted=1', '/outconns\x00',
                   '/\t/evil.example.com'):
        pages.client.delete_cookie('session')
        answer = sign_in(pages, 'alice', PASSWORD_OF.format(name='alice'), next=target)
        assert answer.headers['Location'] == '/outconns', target


def test_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    pages.store.create_user('alice', 'admin', PASSWORD_OF.format(name='alice'))
    assert pages.app.config['TESTING'] and pages.app.config.get('WTF_CSRF_ENABLED', True)
    refused = pages.submit('/login', '/login', {'name': 'alice', 'password': PASSWORD_OF.format(name='alice')},
                           csrf=False)
    assert refused.status_code == 400 and refused.mimetype == 'text/html'
    assert 'CSRF token is missing' in refused.get_data(as_text=True)
    assert sign_in(pages, 'alice', PASSWORD_OF.format(name='alice')).status_code == 302
    assert pages.client.post('/logout').status_code == 400
    assert 'alice (admin)' in pages.text('/outconns')


def test_a_wrong_password_and_an_unknown_user_read_the_same(pages: Pages) -> None:
    pages.store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    wrong = sign_in(pages, 'alice', 'not-her-password')
    unknown = sign_in(pages, 'nobody', 'not-her-password')
    assert wrong.status_code == unknown.status_code == 401
    assert 'The user name or password is wrong.' in wrong.get_data(as_text=True)
    assert 'The user name or password is wrong.' in unknown.get_data(as_text=True)
    assert 'not-her-password' not in wrong.get_data(as_text=True)


def test_five_failures_for_a_user_refuse_that_user_for_a_while(pages: Pages) -> None:
    password = PASSWORD_OF.format(name='alice')
    pages.store.create_user('alice', 'viewer', password)
    pages.store.create_user('bob', 'viewer', PASSWORD_OF.format(name='bob'))
    # From five addresses, so that it is the user's count that trips, not an address's.
    for attempt in range(5):
        assert sign_in(pages, 'alice', 'guess', address=f'10.0.0.{attempt}').status_code == 401
    refused = sign_in(pages, 'alice', password, address='10.0.0.9')
    text = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert 'Too many failed sign-ins for this user; try again in 15 minutes.' in text
    # A user that does not exist is throttled alike, so the answer tells nothing of who exists.
    for attempt in range(5):
        sign_in(pages, 'ghost', 'guess', address=f'10.0.1.{attempt}')
    assert 'Too many failed sign-ins for this user' in sign_in(pages, 'ghost', 'x', '10.0.1.9').get_data(as_text=True)
    # Another user is not affected.
    assert sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='10.0.0.9').status_code == 302


def test_five_failures_from_an_address_refuse_it_for_every_user(pages: Pages) -> None:
    pages.store.create_user('bob', 'viewer', PASSWORD_OF.format(name='bob'))
    for attempt in range(5):
        sign_in(pages, f'user{attempt}', 'guess', address='10.0.0.7')
    refused = sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='10.0.0.7')
    assert refused.status_code == 429
    assert 'Too many failed sign-ins from this address; try again in 15 minutes.' in refused.get_data(as_text=True)
    assert sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='10.0.0.8').status_code == 302


def test_sign_in_works_again_once_the_failures_leave_the_window(pages: Pages) -> None:
    password = PASSWORD_OF.format(name='alice')
    pages.store.create_user('alice', 'viewer', password)
    for attempt in range(5):
        sign_in(pages, 'alice', 'guess', address=f'10.0.0.{attempt}')
    assert sign_in(pages, 'alice', password).status_code == 429
    # The clock moved on: the failures were written 14 minutes ago, then 16.
    failed_ago(pages.store, minutes=14)
    refused = sign_in(pages, 'alice', password)
    assert 'try again in 1 minute.' in refused.get_data(as_text=True)
    failed_ago(pages.store, minutes=16)
    assert sign_in(pages, 'alice', password).status_code == 302


def failed_ago(store: Store, minutes: float) -> None:
    """Every failure recorded as if it had happened that long ago."""
    with store._transaction() as session:
        session.execute(update(FailedLogin).values(failed_at=utc_now() - timedelta(minutes=minutes)))


def test_a_success_clears_the_users_count(pages: Pages) -> None:
    password = PASSWORD_OF.format(name='alice')
    pages.store.create_user('alice', 'viewer', password)
    for attempt in range(4):
        sign_in(pages, 'alice', 'guess', address=f'10.0.0.{attempt}')
    assert sign_in(pages, 'alice', password).status_code == 302
    assert pages.store.failed_login_count('user', 'alice') == 0
    pages.client.delete_cookie('session')
    for attempt in range(4):
        sign_in(pages, 'alice', 'guess', address=f'10.0.1.{attempt}')
    assert sign_in(pages, 'alice', password).status_code == 302


def test_the_window_and_limit_are_settings(sqlite_store: Store) -> None:
    pages = Pages(make_app(sqlite_store, LOGIN_MAX_FAILURES=2, LOGIN_WINDOW=60), sqlite_store)
    sqlite_store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    sign_in(pages, 'alice', 'guess')
    sign_in(pages, 'alice', 'guess')
    refused = sign_in(pages, 'alice', PASSWORD_OF.format(name='alice'))
    assert refused.status_code == 429 and 'try again in 1 minute.' in refused.get_data(as_text=True)


def test_a_new_password_ends_the_session(pages: Pages) -> None:
    pages.store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    sign_in(pages, 'alice', PASSWORD_OF.format(name='alice'))
    assert pages.get('/outconns').status_code == 200
    pages.store.set_user_password('alice', 'An0ther-long-password')
    assert pages.get('/outconns').status_code == 302


@pytest.mark.parametrize('setting', [{'LOGIN_WINDOW': 0}, {'LOGIN_MAX_FAILURES': 'many'}])
def test_a_throttle_that_cannot_work_is_refused_at_start(sqlite_store: Store, setting: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as raised:
        make_app(sqlite_store, **setting)
    assert raised.value.field == f'ZATO_OUTCONN_{next(iter(setting))}'


def test_signing_in_and_out_starts_a_new_session(pages: Pages) -> None:
    """What the session held before (its CSRF token above all, which someone who planted the cookie
    would know) does not carry over into the signed-in session, nor from it after logging out."""
    pages.store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    before = pages.token_of('/login')
    with pages.client.session_transaction() as session:
        session['planted'] = 'by someone else'
    assert sign_in(pages, 'alice', PASSWORD_OF.format(name='alice')).status_code == 302
    with pages.client.session_transaction() as session:
        assert 'planted' not in session
    stale = pages.client.post('/logout', data={'csrf_token': before})
    assert stale.status_code == 400 and 'alice (viewer)' in pages.text('/outconns')
    signed_in_token = pages.token_of('/outconns')
    assert pages.client.post('/logout', data={'csrf_token': signed_in_token}).status_code == 302
    with pages.client.session_transaction() as session:
        assert '_user_id' not in session and 'csrf_token' not in session


def test_an_ipv6_client_is_counted_by_its_64_network(pages: Pages) -> None:
    """One host commonly holds a whole /64 and picks a new address in it at will; an IPv4 client
    seen through an IPv6 socket (::ffff:a.b.c.d) is the same client as a.b.c.d."""
    pages.store.create_user('bob', 'viewer', PASSWORD_OF.format(name='bob'))
    for attempt in range(5):
        sign_in(pages, f'user{attempt}', 'guess', address=f'2001:db8:0:1::{attempt + 1:x}')
    refused = sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='2001:db8:0:1:ffff::9')
    assert refused.status_code == 429 and 'from this address' in refused.get_data(as_text=True)
    assert sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='2001:db8:0:2::1').status_code == 302
    pages.client.delete_cookie('session')
    for attempt in range(5):
        sign_in(pages, f'user{attempt}', 'guess', address='::ffff:10.0.0.7')
    assert sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='10.0.0.7').status_code == 429


def test_headers_a_client_writes_do_not_change_its_address(pages: Pages) -> None:
    pages.store.create_user('bob', 'viewer', PASSWORD_OF.format(name='bob'))
    for attempt in range(5):
        spoofed = f'10.1.0.{attempt}'
        pages.submit('/login', '/login', {'name': f'user{attempt}', 'password': 'guess'},
                     environ_base={'REMOTE_ADDR': '10.0.0.7'},
                     headers={'X-Forwarded-For': spoofed, 'X-Real-IP': spoofed, 'Forwarded': f'for={spoofed}'})
    assert sign_in(pages, 'bob', PASSWORD_OF.format(name='bob'), address='10.0.0.7').status_code == 429
    assert pages.store.failed_login_count('address', '10.1.0.0') == 0


def test_behind_proxies_the_address_the_first_proxy_was_reached_from_counts(sqlite_store: Store) -> None:
    """With ZATO_OUTCONN_PROXY_HOPS=2, the second address from the right of X-Forwarded-For is the
    client's: the right-most is the inner proxy's, and whatever the client wrote comes first."""
    pages = Pages(make_app(sqlite_store, PROXY_HOPS=2), sqlite_store)
    sqlite_store.create_user('bob', 'viewer', PASSWORD_OF.format(name='bob'))
    for attempt in range(5):
        pages.submit('/login', '/login', {'name': f'user{attempt}', 'password': 'guess'},
                     environ_base={'REMOTE_ADDR': '10.0.0.2'},
                     headers={'X-Forwarded-For': f'10.9.9.{attempt}, 203.0.113.7, 10.0.0.1'})
    assert sqlite_store.failed_login_count('address', '203.0.113.7') == 5
    assert sqlite_store.failed_login_count('address', '10.0.0.2') == 0
    assert sqlite_store.failed_login_count('address', '10.9.9.0') == 0
    # Another client behind the same proxies is not locked out with the first.
    other = pages.submit('/login', '/login', {'name': 'bob', 'password': PASSWORD_OF.format(name='bob')},
                         environ_base={'REMOTE_ADDR': '10.0.0.2'},
                         headers={'X-Forwarded-For': '198.51.100.4, 10.0.0.1'})
    assert other.status_code == 302
    pages.client.delete_cookie('session')
    refused = pages.submit('/login', '/login', {'name': 'bob', 'password': PASSWORD_OF.format(name='bob')},
                           environ_base={'REMOTE_ADDR': '10.0.0.2'},
                           headers={'X-Forwarded-For': '203.0.113.7, 10.0.0.1'})
    assert refused.status_code == 429 and 'from this address' in refused.get_data(as_text=True)


@pytest.mark.parametrize('hops', [-1, 'two', True])
def test_proxy_hops_that_cannot_work_are_refused_at_start(sqlite_store: Store, hops: object) -> None:
    with pytest.raises(ConfigError) as raised:
        make_app(sqlite_store, PROXY_HOPS=hops)
    assert raised.value.field == 'ZATO_OUTCONN_PROXY_HOPS'
    assert 'whole number' in str(raised.value)


def test_proxy_hops_come_from_the_environment(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_PROXY_HOPS', '1')
    assert make_app(sqlite_store).config['PROXY_HOPS'] == 1
    monkeypatch.setenv('ZATO_OUTCONN_PROXY_HOPS', 'one')
    with pytest.raises(ConfigError, match='ZATO_OUTCONN_PROXY_HOPS'):
        make_app(sqlite_store)


def test_sign_ins_sent_at_once_are_throttled_as_if_one_after_another(store: Store) -> None:
    """Guesses sent together (a gevent worker takes them all at once, as does every worker of a
    server) each count before their password is checked: no more get checked than the limit."""
    store.create_user('alice', 'viewer', PASSWORD_OF.format(name='alice'))
    app = make_app(store, LOGIN_MAX_FAILURES=3)
    tokens = []
    clients = []
    for _ in range(12):
        client = Pages(app, store)
        tokens.append(client.token_of('/login'))
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client: Pages, token: str) -> None:
        barrier.wait()
        answer = client.client.post('/login', data={'name': 'alice', 'password': 'guess', 'csrf_token': token},
                                    environ_base={'REMOTE_ADDR': '10.0.0.7'})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 3 + [429] * 9
    assert store.failed_login_count('user', 'alice') == 3
