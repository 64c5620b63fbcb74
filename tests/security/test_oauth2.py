"""OAuth2 client credentials against a real token endpoint and a real protected API.

The token endpoint counts the requests it gets, so that caching, single-flight, expiry and the
retry on 401 are checked by what reaches the wire.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import trustme

from zato_outconn import CallError, ConnectError, OutconnConfig, SecretsError
from zato_outconn.exceptions import TokenError
from zato_outconn.security.token_cache import TOKENS

from tests.security.conftest import CLIENT_ID, CLIENT_SECRET, DEFINITION, MakeConn, oauth2
from tests.support.auth_servers import OAuth2Server, ProtectedAPIServer
from tests.support.servers import refused_port


def run_together(count: int, call: Callable[[], Any]) -> list[Any]:
    """Start ``count`` threads at the same moment; each one's result or exception, in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def work(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - handed back to the test to assert on
            results[index] = error

    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), 'callers still blocked after 30 s'
    return results


# ---------------------------------------------------------------------- the token and client authentication


@pytest.mark.parametrize('client_auth', ['basic', 'body'])
def test_token_is_fetched_and_sent_as_bearer(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                             api_server: ProtectedAPIServer, client_auth: str) -> None:
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url, client_auth=client_auth),
                     host=api_server.url, url_path='/orders')
    response = item.conn.get('cid-1')

    assert response.status_code == 200
    assert response.json()['client_id'] == CLIENT_ID
    [token_request] = oauth2_server.issuer.requests
    assert token_request.client_auth == client_auth
    assert token_request.authenticated and token_request.client_id == CLIENT_ID
    assert token_request.content_type == 'application/x-www-form-urlencoded'
    assert token_request.form['grant_type'] == ['client_credentials']
    # The client id goes where the secret goes: in the form only when the client authenticates there.
    assert ('client_id' in token_request.form) is (client_auth == 'body')
    [call] = api_server.calls
    assert call.token == oauth2_server.issuer.issued[0]


def test_scopes_audience_and_extra_fields_are_sent(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                   api_server: ProtectedAPIServer) -> None:
    security = oauth2(oauth2_server.token_url, scopes='orders.read,  orders.write',
                      audience='https://api.example.com', token_extra='resource=crm&tenant=acme%20corp')
    item = make_conn('Partner', security=security, host=api_server.url)
    assert item.conn.get('cid-1').json()['scope'] == 'orders.read orders.write'
    [token_request] = oauth2_server.issuer.requests
    assert token_request.form == {
        'grant_type': ['client_credentials'], 'scope': ['orders.read orders.write'],
        'audience': ['https://api.example.com'], 'resource': ['crm'], 'tenant': ['acme corp']}


@pytest.mark.parametrize('client_auth', ['basic', 'body'])
def test_non_ascii_client_secret(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                 api_server: ProtectedAPIServer, client_auth: str) -> None:
    # Basic authentication sends the secret as UTF-8 (RFC 7617), as the basic_auth type does.
    oauth2_server.issuer.clients[CLIENT_ID] = 'zażółć-gęślą-s3cret'
    security = oauth2(oauth2_server.token_url, client_auth=client_auth, secret='zażółć-gęślą-s3cret')
    item = make_conn('Partner', security=security, host=api_server.url)
    assert item.conn.get('cid-1').status_code == 200
    assert oauth2_server.issuer.requests[0].authenticated


def test_token_goes_on_every_verb_and_ping(partner: Any, oauth2_server: OAuth2Server,
                                           api_server: ProtectedAPIServer) -> None:
    assert json.loads(partner.conn.post('cid-1', {'a': 1}).json()['body']) == {'a': 1}
    assert partner.conn.delete('cid-2').status_code == 200
    ping = partner.conn.ping('cid-3')
    assert ping.status_code == 200, ping
    token = oauth2_server.issuer.issued[0]
    assert [(call.method, call.token, call.status) for call in api_server.calls] == [
        ('POST', token, 200), ('DELETE', token, 200), ('HEAD', token, 200)]
    assert oauth2_server.issuer.count == 1


# ---------------------------------------------------------------------- caching and single-flight


def test_token_is_reused_across_calls_and_connections(runtime: Any, partner: Any, oauth2_server: OAuth2Server,
                                                      api_server: ProtectedAPIServer) -> None:
    runtime.store.create_outconn(OutconnConfig(name='Partner 2', host=api_server.url, security=DEFINITION))
    other = runtime.outgoing.plain_http['Partner 2']
    for cid in range(5):
        assert partner.conn.get(f'cid-{cid}').status_code == 200
        assert other.conn.get(f'cid-{cid}').status_code == 200

    assert oauth2_server.issuer.count == 1
    assert {call.token for call in api_server.calls} == {oauth2_server.issuer.issued[0]}
    assert len(api_server.calls) == 10


def test_sixteen_threads_at_once_make_one_token_request(partner: Any, oauth2_server: OAuth2Server,
                                                        api_server: ProtectedAPIServer) -> None:
    # A slow token endpoint keeps the first request in flight while the others arrive.
    oauth2_server.issuer.delay = 0.3
    results = run_together(16, lambda: partner.conn.get('cid-1'))

    assert [getattr(result, 'status_code', result) for result in results] == [200] * 16
    assert oauth2_server.issuer.count == 1
    assert [call.token for call in api_server.calls] == oauth2_server.issuer.issued * 16


def test_threads_waiting_on_a_failed_token_request_share_its_error(partner: Any, oauth2_server: OAuth2Server,
                                                                   api_server: ProtectedAPIServer) -> None:
    # Each waiter asking again in turn would multiply the load, and the wait, by the number of callers.
    oauth2_server.issuer.delay = 0.3
    oauth2_server.issuer.failure = (503, {'error': 'temporarily_unavailable'})
    results = run_together(16, lambda: partner.conn.get('cid-1'))

    assert all(isinstance(result, TokenError) and result.status_code == 503 for result in results), results
    assert oauth2_server.issuer.count == 1
    assert api_server.calls == []

    # The failure is not cached: the next call asks again.
    oauth2_server.issuer.delay, oauth2_server.issuer.failure = 0.0, None
    assert partner.conn.get('cid-2').status_code == 200
    assert oauth2_server.issuer.count == 2


def test_token_is_renewed_shortly_before_it_expires(partner: Any, oauth2_server: OAuth2Server,
                                                    api_server: ProtectedAPIServer) -> None:
    oauth2_server.issuer.expires_in = 1
    partner.conn.get('cid-1')
    partner.conn.get('cid-2')
    assert oauth2_server.issuer.count == 1

    # A tenth of the lifetime early: at 0.95 s the API would still take the first token, but the
    # connection asks for a new one rather than send a token about to expire.
    time.sleep(0.95)
    partner.conn.get('cid-3')

    assert oauth2_server.issuer.count == 2
    first, second = oauth2_server.issuer.issued
    assert [call.token for call in api_server.calls] == [first, first, second]
    assert api_server.statuses == [200, 200, 200]


# ---------------------------------------------------------------------- 401 from the remote service


def test_401_drops_the_token_and_retries_once_with_a_new_one(partner: Any, oauth2_server: OAuth2Server,
                                                             api_server: ProtectedAPIServer) -> None:
    partner.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    response = partner.conn.post('cid-2', {'order': 7})

    assert response.status_code == 200
    assert json.loads(response.json()['body']) == {'order': 7}
    assert [old.status_code for old in response.history] == [401]
    assert oauth2_server.issuer.count == 2
    first, second = oauth2_server.issuer.issued
    assert [(call.token, call.status) for call in api_server.calls] == [
        (first, 200), (first, 401), (second, 200)]

    # The new token is the cached one now.
    partner.conn.get('cid-3')
    assert oauth2_server.issuer.count == 2


def test_persistent_401_is_returned_after_exactly_one_retry(partner: Any, oauth2_server: OAuth2Server,
                                                            api_server: ProtectedAPIServer) -> None:
    api_server.refuse_all = True
    response = partner.conn.get('cid-1')
    assert response.status_code == 401
    assert response.json() == {'error': 'invalid_token'}
    assert oauth2_server.issuer.count == 2
    assert len(api_server.calls) == 2

    response = partner.conn.get('cid-2')
    assert response.status_code == 401
    assert oauth2_server.issuer.count == 3
    assert len(api_server.calls) == 4


def test_sixteen_threads_refused_together_fetch_one_new_token(partner: Any, oauth2_server: OAuth2Server,
                                                              api_server: ProtectedAPIServer) -> None:
    partner.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    oauth2_server.issuer.delay = 0.2
    results = run_together(16, lambda: partner.conn.get('cid-2'))

    assert [getattr(result, 'status_code', result) for result in results] == [200] * 16
    # A thread refused after the token was renewed must not drop the new one.
    assert oauth2_server.issuer.count == 2


def test_retry_with_the_token_endpoint_on_the_same_host_and_a_pool_of_one(
        make_conn: MakeConn, oauth2_server: OAuth2Server) -> None:
    # The refused answer must give its socket back before the token request needs one from the same pool.
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=oauth2_server.url,
                     url_path='/orders', pool_size=1)
    item.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    [response] = run_together(1, lambda: item.conn.get('cid-2', timeout=5))

    assert getattr(response, 'status_code', response) == 200
    assert oauth2_server.issuer.count == 2


def test_token_is_not_sent_to_another_host_after_a_redirect(make_conn: MakeConn, http_server: Any,
                                                            oauth2_server: OAuth2Server,
                                                            api_server: ProtectedAPIServer) -> None:
    # requests strips Authorization on a redirect to another host; a 401 there must not bring it back.
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url,
                     url_path='/redirect', follow_redirects=True)
    elsewhere = http_server.url.replace('127.0.0.1', 'localhost') + '/status/401'
    response = item.conn.get('cid-1', {'to': elsewhere})

    assert response.status_code == 401
    assert http_server.recorder.requests, 'the redirect was not followed'
    assert [seen.headers.get('Authorization') for seen in http_server.recorder.requests] == [None]
    assert oauth2_server.issuer.count == 1


# ---------------------------------------------------------------------- failing token endpoint


@pytest.mark.parametrize(('secret', 'failure', 'status', 'says'), [
    ('not-the-secret', None, 401, 'refused the token request (invalid_client)'),
    (CLIENT_SECRET, (500, {'error': 'server_error'}), 500, 'refused the token request (server_error)'),
    (CLIENT_SECRET, (502, None), 502, 'refused the token request'),
    (CLIENT_SECRET, (200, {'token_type': 'Bearer'}), 200, 'answered without an access_token'),
    # An "error" that is no OAuth2 code (one echoing the request, secret and all) is not quoted.
    (CLIENT_SECRET, (400, {'error': f'bad request grant_type=client_credentials&client_secret={CLIENT_SECRET}'}),
     400, 'refused the token request with HTTP 400'),
])
def test_failing_token_endpoint_is_a_token_error(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                 api_server: ProtectedAPIServer, secret: str,
                                                 failure: tuple[int, Any] | None, status: int,
                                                 says: str) -> None:
    oauth2_server.issuer.failure = failure
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url, secret=secret), host=api_server.url)
    with pytest.raises(TokenError) as raised:
        item.conn.get('cid-1')

    error = raised.value
    assert error.definition == DEFINITION
    assert (error.token_url, error.status_code) == (oauth2_server.token_url, status)
    message = str(error)
    assert repr(DEFINITION) in message and oauth2_server.token_url in message
    assert says in message and f'HTTP {status}' in message
    assert secret not in message and secret not in repr(error)
    assert api_server.calls == []


def test_token_endpoint_slower_than_the_read_timeout(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                     api_server: ProtectedAPIServer) -> None:
    oauth2_server.issuer.delay = 5
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url,
                     read_timeout=0.3)
    start = time.monotonic()
    with pytest.raises(TokenError) as raised:
        item.conn.get('cid-1')

    assert time.monotonic() - start < 3
    assert raised.value.status_code is None
    assert 'Timeout' in str(raised.value) and oauth2_server.token_url in str(raised.value)
    assert api_server.calls == []


def test_token_request_uses_the_connections_tls_settings(make_conn: MakeConn, ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert('127.0.0.1').configure_cert(context)
    with OAuth2Server({CLIENT_ID: CLIENT_SECRET}, tls=context) as server, \
            ProtectedAPIServer(server.issuer) as api:
        assert server.token_url.startswith('https://')
        trusting = make_conn('Trusting', security=oauth2(server.token_url, name='tls-a'), host=api.url,
                             ca_bundle=ca.cert_pem.bytes().decode())
        assert trusting.conn.get('cid-1').status_code == 200

        # Without the CA bundle, the token endpoint's certificate is not trusted.
        other = make_conn('Other', security=oauth2(server.token_url, name='tls-b'), host=api.url)
        with pytest.raises(TokenError, match='SSLError') as raised:
            other.conn.get('cid-1')
        assert raised.value.definition == 'tls-b'
        assert server.issuer.count == 1


# ---------------------------------------------------------------------- secrets


def test_new_client_secret_means_a_new_token(runtime: Any, partner: Any, oauth2_server: OAuth2Server,
                                             api_server: ProtectedAPIServer) -> None:
    partner.conn.get('cid-1')
    oauth2_server.issuer.clients[CLIENT_ID] = 'rotated-s3cret'
    runtime.store.set_secret(DEFINITION, 'rotated-s3cret')
    runtime.outgoing.plain_http['Partner'].conn.get('cid-2')

    # The first token would still be taken by the API; a new secret gets a new one all the same.
    assert oauth2_server.issuer.count == 2
    assert all(request.authenticated for request in oauth2_server.issuer.requests)
    first, second = oauth2_server.issuer.issued
    assert [call.token for call in api_server.calls] == [first, second]


@pytest.mark.parametrize('placeholder', ['', None, '******'])
def test_placeholder_secret_fails_before_anything_is_sent(make_conn: MakeConn,
                                                          oauth2_server: OAuth2Server,
                                                          api_server: ProtectedAPIServer,
                                                          placeholder: str | None) -> None:
    security = oauth2(oauth2_server.token_url, secret=placeholder)
    item = make_conn('Partner', security=security, host=api_server.url)
    with pytest.raises(SecretsError) as raised:
        item.conn.get('cid-1')
    assert repr(DEFINITION) in str(raised.value) and 'set-password' in str(raised.value)
    assert oauth2_server.issuer.count == 0
    assert api_server.calls == []


def test_logs_hold_no_secret_token_or_authorization(runtime: Any, make_conn: MakeConn,
                                                    oauth2_server: OAuth2Server,
                                                    api_server: ProtectedAPIServer,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    token_url = oauth2_server.token_url
    basic = make_conn('Basic', security=oauth2(token_url, name='oauth-basic'), host=api_server.url)
    body = make_conn('Body', security=oauth2(token_url, name='oauth-body', client_auth='body',
                                             scopes='orders.read'), host=api_server.url)
    wrong = make_conn('Wrong', security=oauth2(token_url, name='oauth-wrong', secret='wr0ng-s3cret'),
                      host=api_server.url)
    basic.conn.get('cid-1')
    body.conn.post('cid-2', {'a': 1})
    oauth2_server.issuer.revoke_all()
    basic.conn.get('cid-3')
    basic.conn.ping('cid-4')
    try:
        wrong.conn.get('cid-5')
    except TokenError as error:
        errors.append(repr(error))
        errors.append(str(error))
    oauth2_server.issuer.clients[CLIENT_ID] = 'rotated-s3cret'
    runtime.store.set_secret('oauth-body', 'rotated-s3cret')
    runtime.outgoing.plain_http['Body'].conn.get('cid-6')

    tokens = oauth2_server.issuer.issued
    assert len(tokens) == 4
    secrets = [CLIENT_SECRET, 'wr0ng-s3cret', 'rotated-s3cret']
    authorizations = [f'Bearer {token}' for token in tokens] + [
        base64.b64encode(f'{CLIENT_ID}:{secret}'.encode()).decode() for secret in secrets]
    text = caplog.text + '\n'.join(errors) + '\n'.join(repr(record.args) for record in caplog.records)

    # Both the library's lines and urllib3's debug lines were captured.
    assert 'Got a token' in text and 'retrying once' in text and 'POST /token' in text
    assert len(errors) == 2
    for value in [*secrets, *tokens, *authorizations]:
        assert value not in text


def test_a_token_failure_is_logged_once_and_notes_the_call(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    oauth2_server.issuer.failure = (401, {'error': 'invalid_client'})
    item = make_conn(host=oauth2_server.url, security=oauth2(oauth2_server.token_url))
    with caplog.at_level(logging.WARNING, logger='zato_outconn.call'), pytest.raises(TokenError) as raised:
        item.conn.get('cid-tok')
    (line,) = [record.getMessage() for record in caplog.records if record.name == 'zato_outconn.call']
    assert 'cid=cid-tok' in line and DEFINITION in line and '401' in line
    assert any('cid-tok' in note and "'CRM'" in note for note in raised.value.__notes__)
    assert CLIENT_SECRET not in line


# ---------------------------------------------------------------------- one tree of call errors


def test_a_token_failure_is_a_call_error_naming_the_call(partner: Any, oauth2_server: OAuth2Server,
                                                         api_server: ProtectedAPIServer) -> None:
    oauth2_server.issuer.failure = (401, {'error': 'invalid_client'})
    with pytest.raises(CallError) as raised:
        partner.conn.get('cid-tok')
    error = raised.value
    assert isinstance(error, TokenError) and error.definition == DEFINITION
    assert (error.name, error.method, error.url, error.cid) == ('Partner', 'GET', api_server.url + '/orders',
                                                                'cid-tok')
    assert api_server.calls == []


def test_an_unreachable_token_endpoint_is_a_token_error_through_the_one_send(make_conn: MakeConn,
                                                                           api_server: ProtectedAPIServer) -> None:
    token_url = f'http://127.0.0.1:{refused_port()}/token'
    item = make_conn('Partner', security=oauth2(token_url), host=api_server.url)
    with pytest.raises(TokenError) as raised:
        item.conn.get('cid-1')
    # Mapped by the one send like any call's failure, and kept as the cause.
    assert isinstance(raised.value.__cause__, ConnectError)
    assert 'cannot be reached' in str(raised.value) and raised.value.cid == 'cid-1'
    assert api_server.calls == []


def test_a_new_secret_drops_the_tokens_of_the_old_one(runtime: Any, partner: Any, oauth2_server: OAuth2Server,
                                                      api_server: ProtectedAPIServer) -> None:
    partner.conn.get('cid-1')
    assert len(TOKENS) == 1
    oauth2_server.issuer.clients[CLIENT_ID] = 'rotated-s3cret'
    runtime.store.set_secret(DEFINITION, 'rotated-s3cret')
    runtime.outgoing.plain_http['Partner'].conn.get('cid-2')
    # The old secret's token is gone from the cache, not only unused.
    assert len(TOKENS) == 1
    assert oauth2_server.issuer.count == 2
