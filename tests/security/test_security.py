"""Digest, NTLM and bearer security definitions against real servers that check each scheme.

OAuth2 client credentials have tests of their own in ``test_oauth2.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from zato_outconn import CallError, SecretsError

from tests.security.conftest import PASSWORD, MakeConn
from tests.support.auth_servers import DigestServer, NTLMServer, ProtectedAPIServer


def digest(password: str | None = PASSWORD, **settings: Any) -> dict[str, Any]:
    return {'name': 'crm-digest', 'sec_type': 'digest', 'username': 'alice', 'secret': password, **settings}


def ntlm(password: str | None = PASSWORD, **settings: Any) -> dict[str, Any]:
    return {'name': 'crm-ntlm', 'sec_type': 'ntlm', 'username': 'CORP\\alice', 'secret': password, **settings}


def bearer(token: str | None = 'eyJhbGciOiJIUzI1NiJ9.e30.static-s1gnature') -> dict[str, Any]:
    return {'name': 'crm-bearer', 'sec_type': 'bearer', 'secret': token}


# ---------------------------------------------------------------------- digest


def test_digest_answers_the_challenge(make_conn: MakeConn, digest_server: DigestServer) -> None:
    item = make_conn(security=digest(), host=digest_server.url, url_path='/customers/{id}')
    response = item.conn.get('cid-1', {'id': 7, 'type': 'full'})

    assert response.status_code == 200
    assert response.json() == {'user': 'alice', 'path': '/customers/7?type=full', 'body': ''}
    assert [old.status_code for old in response.history] == [401]
    assert digest_server.counts == {'challenged': 1, 'rejected': 0, 'accepted': 1}


def test_digest_reuses_the_nonce_with_a_growing_count(make_conn: MakeConn,
                                                      digest_server: DigestServer) -> None:
    item = make_conn(security=digest(), host=digest_server.url)
    item.conn.get('cid-1')
    response = item.conn.post('cid-2', {'name': 'Łódź'})

    # The second call answers the nonce it already has at once, with nc=00000002, and the server
    # (which refuses a count it has seen) takes it: one challenge for both calls.
    assert response.status_code == 200 and response.history == []
    assert json.loads(response.json()['body']) == {'name': 'Łódź'}
    assert digest_server.counts == {'challenged': 1, 'rejected': 0, 'accepted': 2}


def test_digest_with_a_wrong_password_gets_the_401(make_conn: MakeConn,
                                                   digest_server: DigestServer) -> None:
    item = make_conn(security=digest('not the password'), host=digest_server.url)
    response = item.conn.get('cid-1')

    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'].startswith('Digest ')
    # One challenge, one wrong answer, and no loop.
    assert digest_server.counts == {'challenged': 1, 'rejected': 1, 'accepted': 0}


# ---------------------------------------------------------------------- NTLM


def test_ntlm_handshake(make_conn: MakeConn, ntlm_server: NTLMServer) -> None:
    item = make_conn(security=ntlm(), host=ntlm_server.url, url_path='/reports')
    response = item.conn.post('cid-1', {'period': '2026-Q1'})

    assert response.status_code == 200
    assert response.json()['user'] == 'CORP\\alice'
    assert json.loads(response.json()['body']) == {'period': '2026-Q1'}
    # Anonymous request, negotiate, authenticate: three messages on one socket.
    assert [old.status_code for old in response.history] == [401, 401]
    assert ntlm_server.counts == {'challenged': 1, 'negotiate': 1, 'authenticated': 1, 'failed': 0,
                                  'out_of_order': 0}


def test_ntlm_authenticates_the_socket_once(make_conn: MakeConn, ntlm_server: NTLMServer) -> None:
    item = make_conn(security=ntlm(), host=ntlm_server.url)
    item.conn.get('cid-1')
    response = item.conn.get('cid-2')

    assert response.status_code == 200 and response.history == []
    assert response.json()['user'] == 'CORP\\alice'
    assert ntlm_server.counts['authenticated'] == 1


def test_ntlm_with_a_wrong_password_gets_the_401(make_conn: MakeConn, ntlm_server: NTLMServer) -> None:
    item = make_conn(security=ntlm('not the password'), host=ntlm_server.url)
    response = item.conn.get('cid-1')

    assert response.status_code == 401
    assert response.json() == {'error': 'logon denied'}
    assert ntlm_server.counts == {'challenged': 1, 'negotiate': 1, 'authenticated': 0, 'failed': 1,
                                  'out_of_order': 0}


# ---------------------------------------------------------------------- bearer


def test_static_bearer_token_is_accepted(make_conn: MakeConn, bearer_api: ProtectedAPIServer) -> None:
    item = make_conn(security=bearer(), host=bearer_api.url, url_path='/orders')
    response = item.conn.get('cid-1')
    assert response.status_code == 200
    assert response.json()['client_id'] == 'static'
    assert [call.token for call in bearer_api.calls] == ['eyJhbGciOiJIUzI1NiJ9.e30.static-s1gnature']


def test_wrong_bearer_token_gets_the_401_once(make_conn: MakeConn, bearer_api: ProtectedAPIServer) -> None:
    # A static token cannot be renewed, so a 401 is the caller's to see, without a retry.
    item = make_conn(security=bearer('revoked-token'), host=bearer_api.url)
    response = item.conn.get('cid-1')
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == 'Bearer error="invalid_token"'
    assert bearer_api.statuses == [401]


# ---------------------------------------------------------------------- placeholder secrets and set-password


@pytest.mark.parametrize('placeholder', ['', None, '******'])
@pytest.mark.parametrize('security', [digest, ntlm, bearer])
def test_placeholder_secret_fails_before_anything_is_sent(make_conn: MakeConn, http_server: Any,
                                                          security: Callable[[str | None], dict[str, Any]],
                                                          placeholder: str | None) -> None:
    definition = security(placeholder)
    item = make_conn(security=definition)
    with pytest.raises(SecretsError) as raised:
        item.conn.get('cid-1')
    message = str(raised.value)
    assert repr(definition['name']) in message and "'CRM'" in message and 'set-password' in message
    # A ping reports the same, and nothing reached the wire, not even a request without credentials.
    ping = item.conn.ping('cid-2')
    assert not ping.ok and 'set-password' in ping.error
    assert http_server.recorder.requests == []


def test_set_password_reaches_a_digest_connection(runtime: Any, make_conn: MakeConn,
                                                  digest_server: DigestServer) -> None:
    make_conn(security=digest('******'), host=digest_server.url)
    with pytest.raises(SecretsError):
        runtime.outgoing.plain_http['CRM'].conn.get('cid-1')

    runtime.store.set_secret('crm-digest', PASSWORD)
    assert runtime.outgoing.plain_http['CRM'].conn.get('cid-2').status_code == 200
    runtime.store.set_secret('crm-digest', 'an old password')
    assert runtime.outgoing.plain_http['CRM'].conn.get('cid-3').status_code == 401


def test_set_password_reaches_an_ntlm_connection(runtime: Any, make_conn: MakeConn,
                                                 ntlm_server: NTLMServer) -> None:
    make_conn(security=ntlm('an old password'), host=ntlm_server.url)
    assert runtime.outgoing.plain_http['CRM'].conn.get('cid-1').status_code == 401

    runtime.store.set_secret('crm-ntlm', PASSWORD)
    response = runtime.outgoing.plain_http['CRM'].conn.get('cid-2')
    assert response.status_code == 200 and response.json()['user'] == 'CORP\\alice'


# ---------------------------------------------------------------------- logs


def test_logs_hold_no_password_or_authorization(make_conn: MakeConn, digest_server: DigestServer,
                                                ntlm_server: NTLMServer, bearer_api: ProtectedAPIServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    calls = [
        make_conn('Digest', security=digest(), host=digest_server.url),
        make_conn('Digest wrong', security=digest('wr0ng-passw0rd', name='digest-wrong'),
                  host=digest_server.url),
        make_conn('NTLM', security=ntlm(), host=ntlm_server.url),
        make_conn('NTLM wrong', security=ntlm('wr0ng-passw0rd', name='ntlm-wrong'), host=ntlm_server.url),
        make_conn('Bearer', security=bearer(), host=bearer_api.url),
    ]
    statuses = []
    for item in calls:
        statuses.append(item.conn.get('cid-1').status_code)
        statuses.append(item.conn.post('cid-2', {'a': 1}).status_code)
        item.conn.ping('cid-3')
    assert statuses == [200, 200, 401, 401, 200, 200, 401, 401, 200, 200]

    text = caplog.text + '\n'.join(repr(record.args) for record in caplog.records)
    # The capture did hold the debug lines of urllib3 and pyspnego.
    assert 'GET / HTTP/1.1' in text and 'NTLM step output' in text
    for value in (PASSWORD, 'wr0ng-passw0rd', 'eyJhbGciOiJIUzI1NiJ9.e30.static-s1gnature'):
        assert value not in text
    authorizations = digest_server.authorizations + ntlm_server.authorizations + bearer_api.authorizations
    assert {value.split(' ')[0] for value in authorizations} == {'Digest', 'NTLM', 'Bearer'}
    for value in authorizations:
        scheme, _, credentials = value.partition(' ')
        assert credentials not in text, f'a {scheme} Authorization value is in the logs'


@pytest.mark.parametrize('security', [digest, ntlm, bearer])
def test_a_missing_secret_is_a_call_error_naming_the_call(make_conn: MakeConn, http_server: Any,
                                                          security: Callable[[str | None], dict[str, Any]]) -> None:
    item = make_conn(security=security(None))
    with pytest.raises(CallError) as raised:
        item.conn.get('cid-7')
    error = raised.value
    assert isinstance(error, SecretsError)
    assert (error.name, error.method, error.url, error.cid) == ('CRM', 'GET', http_server.url + '/', 'cid-7')
    assert http_server.recorder.requests == []
