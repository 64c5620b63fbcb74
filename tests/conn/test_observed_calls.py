"""Real calls, observed: interceptors on the wire (an HMAC signature the server side checks), a W3C
traceparent on the wire, and the metrics each attempt records.

These go through the whole pipeline (``Runtime.add_interceptor`` -> the registry -> the connection),
against the recording server, which keeps what arrived on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from zato_outconn import InterceptorError, OutconnConfig, RequestError, Runtime, SecurityConfig, metrics
from zato_outconn.conn.interceptors import CallInfo

from tests.conn.test_tracing import _RECORDING, lower, run
from tests.support.servers import RecordingServer, Seen

KEY = b'shared-signing-key-of-the-crm'


def signature(method: str, path: str, body: bytes) -> str:
    return hmac.new(KEY, b'\n'.join((method.encode(), path.encode(), body)), hashlib.sha256).hexdigest()


class Signer:
    """The README's example: signs method, path (with its query) and body with a shared key."""

    def __init__(self) -> None:
        self.calls: list[CallInfo] = []
        self.saw_authorization: list[bool] = []

    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        self.calls.append(call)
        self.saw_authorization.append('Authorization' in request.headers)
        url = urlsplit(request.url or '')
        path = url.path + (f'?{url.query}' if url.query else '')
        body = request.body or b''
        request.headers['X-Signature'] = signature(request.method or '', path,
                                                   body.encode() if isinstance(body, str) else body)


def verified(seen: Seen) -> bool:
    """What the server side does: the signature over what arrived."""
    return hmac.compare_digest(seen.headers.get('X-Signature', ''), signature(seen.method, seen.path, seen.body))


class Tagging:
    def __init__(self, tag: str, answers: list[tuple[str, int]]) -> None:
        self.tag = tag
        self.answers = answers

    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        before = request.headers.get('X-Order')
        request.headers['X-Order'] = f'{before},{self.tag}' if before else self.tag

    def after_receive(self, response: requests.Response, call: CallInfo) -> None:
        self.answers.append((self.tag, response.status_code))


class Refusing:
    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        raise PermissionError('no signing key for this tenant')


def _create(runtime: Runtime, server: RecordingServer, name: str, **settings: Any) -> Any:
    runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, **settings))
    return runtime.outgoing.plain_http[name].conn


def test_a_signing_interceptor_signs_the_final_request_and_the_server_verifies_it(
        runtime: Runtime, http_server: RecordingServer) -> None:
    runtime.store.create_security(SecurityConfig(name='crm-creds', sec_type='basic_auth', username='alice',
                                                 secret='S3cret-x'))
    conn = _create(runtime, http_server, 'CRM Customer Profile', url_path='/customer/{id}', security='crm-creds')
    signer = Signer()
    runtime.add_interceptor(signer, 'CRM *')
    conn.post('cid-1', data='{"name": "Anna"}', params={'id': 7, 'type': 'retail'}).close()
    conn.get('cid-2', {'id': 8}).close()
    assert len(http_server.recorder.requests) == 2
    assert all(verified(seen) for seen in http_server.recorder.requests)
    # Security was applied before the interceptor saw the request: it signs what is sent.
    assert signer.saw_authorization == [True, True]
    assert [(call.name, call.method, call.cid, call.attempt) for call in signer.calls] == [
        ('CRM Customer Profile', 'POST', 'cid-1', 1), ('CRM Customer Profile', 'GET', 'cid-2', 1)]
    # A body changed on its way breaks the signature: the check is real.
    tampered = http_server.recorder.requests[0]
    assert not verified(Seen(tampered.method, tampered.path, tampered.headers, tampered.body + b' ', 0))


def test_interceptors_run_in_the_order_added_on_the_connections_chosen(
        runtime: Runtime, http_server: RecordingServer) -> None:
    crm = _create(runtime, http_server, 'CRM')
    billing = _create(runtime, http_server, 'Billing', url_path='/status/404')
    answers: list[tuple[str, int]] = []
    runtime.add_interceptor(Tagging('first', answers))
    runtime.add_interceptor(Tagging('crm only', answers), 'CRM')
    runtime.add_interceptor(Tagging('last', answers), ['CRM', 'Bill*'])
    crm.get('cid-1').close()
    assert http_server.recorder.last.headers['X-Order'] == 'first,crm only,last'
    billing.get('cid-2').close()
    assert http_server.recorder.last.headers['X-Order'] == 'first,last'
    assert answers == [('first', 200), ('crm only', 200), ('last', 200), ('first', 404), ('last', 404)]


def test_an_interceptor_that_raises_fails_the_call_and_nothing_is_sent(
        runtime: Runtime, http_server: RecordingServer) -> None:
    conn = _create(runtime, http_server, 'CRM')
    runtime.add_interceptor(Refusing(), 'CRM')
    with pytest.raises(InterceptorError, match='interceptor Refusing failed in before_send') as raised:
        conn.get('cid-1')
    assert isinstance(raised.value.__cause__, PermissionError)
    assert (raised.value.name, raised.value.cid) == ('CRM', 'cid-1')
    assert not http_server.recorder.requests


class Enveloping:
    """Changes the body, as an encrypting or compressing interceptor would."""

    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        request.body = b'{"envelope":' + (request.body or b'""') + b'}'  # type: ignore[operator]


def test_a_body_an_interceptor_changes_is_sent_with_its_own_length(runtime: Runtime,
                                                                   http_server: RecordingServer) -> None:
    # With the length of the body before, the server would read part of it and take the rest for the
    # next request on the kept-alive socket.
    conn = _create(runtime, http_server, 'CRM', pool_size=1)
    runtime.add_interceptor(Enveloping())
    for cid in ('cid-1', 'cid-2'):
        assert conn.post(cid, data=b'"abc"').status_code == 200
    assert [seen.body for seen in http_server.recorder.requests] == [b'{"envelope":"abc"}'] * 2
    assert [seen.headers['Content-Length'] for seen in http_server.recorder.requests] == ['18'] * 2


@pytest.mark.parametrize('method', ['BREW\r\nX-Forged: 1', 'G E T', '', 'GET/'])
def test_a_method_that_is_no_http_token_is_the_callers_error_and_nothing_is_sent(
        runtime: Runtime, http_server: RecordingServer, method: str, caplog: pytest.LogCaptureFixture) -> None:
    # Not an answer's fault (it was reported as a redirect that cannot be followed, a transport error the
    # breaker counted), and never a line break in a log line or message.
    conn = _create(runtime, http_server, 'CRM', breaker_threshold=1)
    with pytest.raises(RequestError, match='method') as raised:
        conn.request(method, 'cid-1')
    assert '\n' not in str(raised.value) and not http_server.recorder.requests
    assert all('\n' not in record.getMessage() for record in caplog.records)
    assert conn.get('cid-2').status_code == 200


def test_a_method_in_lower_case_is_sent_as_http_writes_it(runtime: Runtime, http_server: RecordingServer) -> None:
    conn = _create(runtime, http_server, 'CRM')
    assert conn.request('get', 'cid-1').status_code == 200
    assert http_server.recorder.last.method == 'GET'


def test_each_attempt_of_a_retried_call_is_signed_and_numbered(runtime: Runtime, http_server: RecordingServer) -> None:
    conn = _create(runtime, http_server, 'CRM', url_path='/status/503', max_retries=2, retry_backoff=0.01)
    signer = Signer()
    runtime.add_interceptor(signer)
    response = conn.get('cid-1')
    response.close()
    assert response.status_code == 503
    assert [call.attempt for call in signer.calls] == [1, 2, 3]
    assert len(http_server.recorder.requests) == 3 and all(verified(seen) for seen in http_server.recorder.requests)


def test_each_attempt_is_counted_in_the_metrics(runtime: Runtime, http_server: RecordingServer) -> None:
    name = f'CRM {uuid.uuid4().hex[:8]}'
    conn = _create(runtime, http_server, name)
    conn.get('cid-1').close()
    conn.post('cid-2', data='x').close()
    figures = metrics.stats(name)
    assert figures['calls'] == 2 and figures['codes'] == {'200': 2} and figures['errors'] == 0
    assert figures['p50'] is not None


_WIRE = _RECORDING + '''
import tempfile
from zato_outconn import OutconnConfig, Runtime
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from tests.support.servers import RecordingServer

folder = tempfile.mkdtemp()
url = f'sqlite:///{folder}/trace.db'
engine = create_db_engine(url)
upgrade(engine)
engine.dispose()
with RecordingServer() as server, Runtime(url, sync=False) as runtime:
    runtime.store.create_outconn(OutconnConfig(name='CRM', host=server.url, url_path='/customer/{id}'))
    conn = runtime.outgoing.plain_http['CRM'].conn
    with tracer.start_as_current_span('service'):
        conn.get('cid-1', {'id': 7}).close()
    conn.get('cid-2', {'id': 8}).close()
    seen = [request.headers for request in server.recorder.requests]
print(json.dumps({'seen': seen, 'spans': spans()}))
'''



def test_traceparent_goes_on_the_wire_in_a_span_and_the_call_is_recorded() -> None:
    found = run(_WIRE)
    in_span, outside = (lower(headers) for headers in found['seen'])
    service = next(span for span in found['spans'] if span['name'] == 'service')
    calls = [span for span in found['spans'] if span['kind'] == 'CLIENT' and span['name'] == 'GET CRM']
    assert len(calls) == 2
    first = next(span for span in calls if span['parent_id'] == service['span_id'])
    assert in_span['traceparent'].startswith(f'00-{service["trace_id"]}-{first["span_id"]}-')
    assert first['attributes']['zato.outconn.connection'] == 'CRM'
    assert first['attributes']['http.response.status_code'] == 200
    assert first['attributes']['url.full'].endswith('/customer/7')
    # Outside any span the provider still makes the call a trace of its own.
    assert outside['traceparent'].split('-')[1] != service['trace_id']
