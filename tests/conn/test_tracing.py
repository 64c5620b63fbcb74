"""Tracing: each call a client span, and W3C traceparent on the wire, with OpenTelemetry's SDK recording.

A tracer provider, once set, stays for the life of a process, and would then put a traceparent on
every request of every later test: the tests that set one run in a process of their own, recording
with the SDK's in-memory exporter and printing what it recorded as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from zato_outconn.conn import tracing

ROOT = Path(__file__).parents[2]

_RECORDING = '''
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer('tests')


def spans():
    return [{'name': span.name, 'kind': span.kind.name, 'attributes': dict(span.attributes),
             'status': span.status.status_code.name, 'description': span.status.description,
             'trace_id': format(span.context.trace_id, '032x'), 'span_id': format(span.context.span_id, '016x'),
             'parent_id': format(span.parent.span_id, '016x') if span.parent else None,
             'events': [event.name for event in span.events]} for span in exporter.get_finished_spans()]
'''

_SPANS = _RECORDING + '''
from zato_outconn.conn.tracing import client_span
from zato_outconn.exceptions import ConnectError

headers = {}
with tracer.start_as_current_span('service'):
    with client_span('CRM', 'GET', 'http://127.0.0.1:9/customer/1') as span:
        span.inject(headers)
        span.set_status(503, None)
    try:
        with client_span('CRM', 'POST', 'http://127.0.0.1:9/customer') as span:
            raise ConnectError('connection refused', name='CRM', method='POST', url='http://127.0.0.1:9/customer',
                               cid='cid-1')
    except ConnectError:
        pass
    with client_span('CRM', 'GET', 'http://127.0.0.1:9/customer/2') as span:
        span.set_status(200, None)
# No span active, but a provider set: a call is a trace of its own.
alone = {}
with client_span('CRM', 'GET', 'http://127.0.0.1:9/') as span:
    span.inject(alone)
print(json.dumps({'headers': headers, 'alone': alone, 'spans': spans()}))
'''

_WITHOUT_OTEL = '''
import json, sys, tempfile
sys.modules['opentelemetry'] = None  # as if the otel extra were not installed
from zato_outconn.conn import tracing
assert not tracing.ENABLED and 'opentelemetry.trace' not in sys.modules
with tracing.client_span('CRM', 'GET', 'http://x/') as span:
    headers = {}
    span.inject(headers)
    span.set_status(500, None)
assert headers == {} and span is tracing.NO_SPAN
from zato_outconn import OutconnConfig, Runtime
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from tests.support.servers import RecordingServer

url = f'sqlite:///{tempfile.mkdtemp()}/plain.db'
engine = create_db_engine(url)
upgrade(engine)
engine.dispose()
with RecordingServer() as server, Runtime(url, sync=False) as runtime:
    runtime.store.create_outconn(OutconnConfig(name='CRM', host=server.url))
    response = runtime.outgoing.plain_http['CRM'].conn.get('cid-1')
    status = response.status_code
    response.close()
    seen = server.recorder.last.headers
print(json.dumps({'status': status, 'seen': seen}))
'''


def run(code: str) -> Any:
    done = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT, check=False, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_a_call_is_a_client_span_naming_the_connection_with_its_status() -> None:
    found = run(_SPANS)
    spans = {f"{span['name']} {span['attributes'].get('url.full', '')}": span for span in found['spans']}
    service = next(span for span in found['spans'] if span['name'] == 'service')
    failed = spans['GET CRM http://127.0.0.1:9/customer/1']
    refused = spans['POST CRM http://127.0.0.1:9/customer']
    fine = spans['GET CRM http://127.0.0.1:9/customer/2']
    for span in (failed, refused, fine):
        assert span['kind'] == 'CLIENT' and span['parent_id'] == service['span_id']
        assert span['trace_id'] == service['trace_id']
        assert span['attributes']['zato.outconn.connection'] == 'CRM'
    assert failed['attributes']['http.request.method'] == 'GET'
    assert failed['attributes']['http.response.status_code'] == 503 and failed['status'] == 'ERROR'
    assert failed['attributes']['error.type'] == '503'
    assert refused['status'] == 'ERROR' and refused['attributes']['error.type'] == 'ConnectError'
    assert 'connection refused' in refused['description'] and refused['events'] == ['exception']
    assert fine['status'] == 'UNSET' and fine['attributes']['http.response.status_code'] == 200
    assert 'error.type' not in fine['attributes']
    # The header names the client span as the parent of whatever the server does.
    version, trace_id, parent_id, flags = found['headers']['traceparent'].split('-')
    assert (version, trace_id, parent_id) == ('00', failed['trace_id'], failed['span_id'])
    assert int(flags, 16) & 1  # sampled (newer SDKs mark their random trace ids too)
    assert found['alone']['traceparent'].split('-')[1] != service['trace_id']


def test_without_a_provider_or_a_span_a_call_records_and_sends_nothing() -> None:
    # This process sets no tracer provider (see the module's docstring).
    with tracing.client_span('CRM', 'GET', 'http://127.0.0.1:9/') as span:
        headers: dict[str, str] = {}
        span.inject(headers)
        span.set_status(500, None)
    assert headers == {}
    assert span is tracing.NO_SPAN


def test_without_opentelemetry_nothing_changes() -> None:
    found = run(_WITHOUT_OTEL)
    assert found['status'] == 200
    assert not {'traceparent', 'tracestate'} & set(lower(found['seen']))


_AFTER_ANSWER = _RECORDING + '''
from zato_outconn.conn.tracing import client_span
from zato_outconn.exceptions import InterceptorError

try:
    with client_span('CRM', 'GET', 'http://127.0.0.1:9/') as span:
        span.set_status(200, None)
        raise InterceptorError('interceptor Checker failed in after_receive: ValueError: no signature',
                               name='CRM', method='GET', url='http://127.0.0.1:9/', cid='cid-1')
except InterceptorError:
    pass
print(json.dumps({'spans': spans()}))
'''


def test_an_attempt_that_fails_after_its_answer_came_is_an_error_span() -> None:
    # An after_receive that raises fails the call: its span must not say it went well.
    span, = run(_AFTER_ANSWER)['spans']
    assert span['status'] == 'ERROR' and span['attributes']['error.type'] == 'InterceptorError'
    assert span['attributes']['http.response.status_code'] == 200 and span['events'] == ['exception']


def test_without_a_provider_a_trace_the_caller_joined_still_goes_on_the_wire() -> None:
    # A trace context taken from an incoming request (a non-recording span) is current: the call passes it on.
    from opentelemetry import context, trace
    joined = trace.SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=True,
                               trace_flags=trace.TraceFlags(1))
    token = context.attach(trace.set_span_in_context(trace.NonRecordingSpan(joined)))
    try:
        with tracing.client_span('CRM', 'GET', 'http://127.0.0.1:9/') as span:
            headers: dict[str, str] = {}
            span.inject(headers)
    finally:
        context.detach(token)
    assert span is not tracing.NO_SPAN
    assert headers['traceparent'] == '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'


_PROVIDER_LATER = '''
from zato_outconn.conn.tracing import NO_SPAN, client_span
before = client_span('CRM', 'GET', 'http://127.0.0.1:9/')
''' + _RECORDING + '''
headers = {}
with client_span('CRM', 'GET', 'http://127.0.0.1:9/') as span:
    span.inject(headers)
print(json.dumps({'before': before is NO_SPAN, 'headers': headers, 'spans': spans()}))
'''


def test_a_provider_set_after_the_first_call_records_the_next_ones() -> None:
    found = run(_PROVIDER_LATER)
    assert found['before']
    span, = found['spans']
    assert span['name'] == 'GET CRM'
    assert found['headers']['traceparent'].split('-')[1] == span['trace_id']
