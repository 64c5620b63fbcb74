"""OAuth2's renewal after a 401 is an attempt of its own: prepared anew, signed anew by the interceptors,
counted in the metrics, and not one of max_retries.

The API server here checks an HMAC signature over the method, the path, the Authorization header and
a nonce the signing interceptor adds, on every request it gets, refused or not: a request re-sent with
a new token but the old signature would fail it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from zato_outconn import Runtime, metrics
from zato_outconn.conn.interceptors import CallInfo

from tests.conn.test_tracing import _RECORDING, run
from tests.security.conftest import MakeConn, oauth2
from tests.support.auth_servers import APICall, OAuth2Server, ProtectedAPIServer, TokenIssuer, _OAuth2Handler

KEY = b'partner-signing-key'


def signature(method: str, path: str, authorization: str, nonce: str) -> str:
    signed = '\n'.join((method, path, authorization, nonce)).encode('utf-8')
    return hmac.new(KEY, signed, hashlib.sha256).hexdigest()


class Signer:
    """Signs each final request, Authorization included, with a nonce of its own."""

    def __init__(self) -> None:
        self.calls: list[CallInfo] = []
        self.answers: list[tuple[str, int]] = []

    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        self.calls.append(call)
        nonce = secrets.token_hex(8)
        path = (request.path_url or '/')
        request.headers['X-Nonce'] = nonce
        request.headers['X-Signature'] = signature(request.method or '', path,
                                                   str(request.headers.get('Authorization', '')), nonce)

    def after_receive(self, response: requests.Response, call: CallInfo) -> None:
        self.answers.append((call.cid, response.status_code))


@dataclass(frozen=True)
class Signed:
    """What the server saw of one request's signature."""

    nonce: str
    authorization: str
    verified: bool


class _SignedHandler(_OAuth2Handler):
    def _protected(self, owner: Any, body: bytes) -> None:
        authorization = self.headers.get('Authorization', '')
        nonce = self.headers.get('X-Nonce', '')
        expected = signature(self.command, self.path, authorization, nonce)
        verified = hmac.compare_digest(self.headers.get('X-Signature', ''), expected)
        owner.signed.append(Signed(nonce, authorization, verified))
        token = authorization.partition(' ')[2]
        with owner.lock:
            unavailable = owner.unavailable > 0 and owner.issuer.owner_of(token) is not None
            if unavailable:
                owner.unavailable -= 1
        if unavailable:
            # A valid token, and the API is down for a moment: the connection's retries are for this.
            owner.record(APICall(self.command, self.path, token, 503, body))
            self.reply(503, {'error': 'unavailable'})
            return
        super()._protected(owner, body)


class SignedAPIServer(ProtectedAPIServer):
    """The protected API that also checks each request's signature, and answers 503 to the next
    ``unavailable`` requests that have a valid token."""

    handler = _SignedHandler

    def __init__(self, issuer: TokenIssuer) -> None:
        self.signed: list[Signed] = []
        self.unavailable = 0
        self.lock = threading.Lock()
        super().__init__(issuer)


@pytest.fixture
def signed_api(oauth2_server: OAuth2Server) -> Iterator[SignedAPIServer]:
    with SignedAPIServer(oauth2_server.issuer) as server:
        yield server


@pytest.fixture
def signer(runtime: Runtime) -> Signer:
    made = Signer()
    runtime.add_interceptor(made, 'Partner *')
    return made


def partner(make_conn: MakeConn, oauth2_server: OAuth2Server, api: SignedAPIServer, **settings: Any) -> Any:
    """A connection of its own name, so that its metrics are its own in this process."""
    name = f'Partner {uuid.uuid4().hex[:8]}'
    return make_conn(name, security=oauth2(oauth2_server.token_url), host=api.url, url_path='/orders', **settings)


def test_the_refused_and_the_renewed_request_are_each_signed_and_counted(
        make_conn: MakeConn, oauth2_server: OAuth2Server, signed_api: SignedAPIServer, signer: Signer) -> None:
    item = partner(make_conn, oauth2_server, signed_api)
    item.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    response = item.conn.post('cid-2', {'order': 7})

    assert response.status_code == 200
    assert [old.status_code for old in response.history] == [401]
    first, second = oauth2_server.issuer.issued
    refused, renewed = signed_api.signed[1:]
    # Both verified over what arrived: the second was signed anew, over its new Authorization.
    assert refused.verified and renewed.verified
    assert (refused.authorization, renewed.authorization) == (f'Bearer {first}', f'Bearer {second}')
    assert refused.nonce != renewed.nonce
    assert [(call.token, call.status) for call in signed_api.calls] == [(first, 200), (first, 401), (second, 200)]
    # The same attempt number for both: the renewal is no retry of the call.
    assert [(call.cid, call.attempt) for call in signer.calls] == [('cid-1', 1), ('cid-2', 1), ('cid-2', 1)]
    assert signer.answers == [('cid-1', 200), ('cid-2', 401), ('cid-2', 200)]
    figures = metrics.stats(item.conn.name)
    assert figures['calls'] == 3 and figures['codes'] == {'200': 2, '401': 1}
    assert figures['errors'] == 0 and figures['retries'] == 0


def test_a_server_that_always_refuses_gets_one_renewal_and_its_second_401_is_the_answer(
        make_conn: MakeConn, oauth2_server: OAuth2Server, signed_api: SignedAPIServer, signer: Signer) -> None:
    item = partner(make_conn, oauth2_server, signed_api)
    signed_api.refuse_all = True
    response = item.conn.get('cid-1')

    assert response.status_code == 401
    assert response.json() == {'error': 'invalid_token'}
    assert [old.status_code for old in response.history] == [401]
    # The first token and its one renewal, in all.
    assert oauth2_server.issuer.count == 2
    assert len(signed_api.calls) == 2 and all(seen.verified for seen in signed_api.signed)
    assert signed_api.signed[0].nonce != signed_api.signed[1].nonce
    assert metrics.stats(item.conn.name)['codes'] == {'401': 2}


def test_the_renewal_takes_none_of_max_retries(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                               signed_api: SignedAPIServer, signer: Signer) -> None:
    item = partner(make_conn, oauth2_server, signed_api, max_retries=2, retry_backoff=0.01)
    item.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    signed_api.unavailable = 2
    response = item.conn.get('cid-2')

    # 401 and the renewal in the first attempt, then 503, 503 and the two retries max_retries allows.
    assert response.status_code == 200
    assert signed_api.statuses == [200, 401, 503, 503, 200]
    assert all(seen.verified for seen in signed_api.signed)
    assert len({seen.nonce for seen in signed_api.signed}) == 5
    assert [call.attempt for call in signer.calls if call.cid == 'cid-2'] == [1, 1, 2, 3]
    assert oauth2_server.issuer.count == 2
    figures = metrics.stats(item.conn.name)
    assert figures['calls'] == 5 and figures['retries'] == 2
    assert figures['codes'] == {'200': 2, '401': 1, '503': 2}


def test_a_streamed_refused_answer_gives_its_socket_back_to_a_pool_of_one(
        make_conn: MakeConn, oauth2_server: OAuth2Server) -> None:
    # The token endpoint on the API's host: the renewal's token request needs the one socket the refused
    # answer, not read by the caller (prefetch=False), would otherwise hold.
    item = make_conn(f'Partner {uuid.uuid4().hex[:8]}', security=oauth2(oauth2_server.token_url),
                     host=oauth2_server.url, url_path='/orders', pool_size=1)
    item.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    response = item.conn.get('cid-2', prefetch=False, timeout=5)
    try:
        assert response.status_code == 200
        assert response.json()['path'] == '/orders'
        [refused] = response.history
        # Read before it was closed, within max_response_size: its body is still there to look at.
        assert refused.status_code == 401 and refused.json() == {'error': 'invalid_token'}
    finally:
        response.close()
    assert oauth2_server.issuer.count == 2


def test_a_renewed_request_follows_its_redirect_on_the_same_host_again(
        make_conn: MakeConn, oauth2_server: OAuth2Server, signed_api: SignedAPIServer, signer: Signer) -> None:
    item = make_conn(f'Partner {uuid.uuid4().hex[:8]}', security=oauth2(oauth2_server.token_url),
                     host=signed_api.url, url_path='/redirect', follow_redirects=True)
    item.conn.get('cid-1', {'to': f'{signed_api.url}/orders'})
    oauth2_server.issuer.revoke_all()
    response = item.conn.get('cid-2', {'to': f'{signed_api.url}/orders'})

    assert response.status_code == 200 and response.json()['path'] == '/orders'
    # The refused answer first, then the redirect of the request made again, in the order they came.
    assert [old.status_code for old in response.history] == [401, 302]
    assert signed_api.statuses == [200, 200, 401, 200, 200]
    assert oauth2_server.issuer.count == 2


def test_a_callers_own_auth_refused_is_not_renewed(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                   signed_api: SignedAPIServer) -> None:
    item = partner(make_conn, oauth2_server, signed_api)
    response = item.conn.get('cid-1', auth=('alice', 'not-a-token'))
    # The caller's credentials replaced the definition's: no token of its own was refused.
    assert response.status_code == 401 and response.history == []
    assert oauth2_server.issuer.count == 0 and len(signed_api.calls) == 1


_SPANS = _RECORDING + '''
import tempfile
from zato_outconn import OutconnConfig, Runtime, SecurityConfig
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from tests.security.conftest import CLIENT_ID, CLIENT_SECRET
from tests.support.auth_servers import OAuth2Server

folder = tempfile.mkdtemp()
url = f'sqlite:///{folder}/trace.db'
engine = create_db_engine(url)
upgrade(engine)
engine.dispose()
with OAuth2Server({CLIENT_ID: CLIENT_SECRET}) as server, Runtime(url, sync=False) as runtime:
    runtime.store.create_security(SecurityConfig(name='partner-oauth', sec_type='oauth2', token_url=server.token_url,
                                                 client_id=CLIENT_ID, secret=CLIENT_SECRET))
    runtime.store.create_outconn(OutconnConfig(name='Partner', host=server.url, url_path='/orders',
                                               security='partner-oauth'))
    conn = runtime.outgoing.plain_http['Partner'].conn
    conn.get('cid-1').close()
    server.issuer.revoke_all()
    exporter.clear()
    with tracer.start_as_current_span('service'):
        conn.get('cid-2').close()
print(json.dumps({'spans': spans()}))
'''


def test_the_refused_and_the_renewed_request_are_each_a_span() -> None:
    found = run(_SPANS)
    service = next(span for span in found['spans'] if span['name'] == 'service')
    calls = [span for span in found['spans'] if span['kind'] == 'CLIENT']
    assert [span['attributes']['http.response.status_code'] for span in calls] == [401, 200]
    assert all(span['name'] == 'GET Partner' and span['parent_id'] == service['span_id'] for span in calls)
    assert calls[0]['span_id'] != calls[1]['span_id']
