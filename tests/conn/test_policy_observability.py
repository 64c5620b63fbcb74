"""What the policies show of themselves: the attempt numbers interceptors get, retries, errors and circuit
state in the metrics."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from prometheus_client import REGISTRY

from zato_outconn import CircuitOpen, ConnectError, OutconnConfig, RetriesExhausted, Runtime
from zato_outconn.conn.interceptors import CallInfo
from zato_outconn.conn.policies import circuits

from tests.support.scripted_server import Answer, ScriptedServer
from tests.support.servers import refused_port


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Noting:
    def __init__(self) -> None:
        self.attempts: list[int] = []
        self.timestamps: list[str] = []

    def before_send(self, request: requests.PreparedRequest, call: CallInfo) -> None:
        self.attempts.append(call.attempt)
        self.timestamps.append(request.headers['X-Zato-Msg-TS'])


def test_interceptors_see_each_attempt_with_its_number(runtime: Runtime, server: ScriptedServer) -> None:
    name = f'CRM {uuid.uuid4()}'
    server.answer(Answer(503), Answer(503), Answer(200))
    runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, max_retries=3, retry_backoff=0.01))
    noting = Noting()
    runtime.add_interceptor(noting, name)
    assert runtime.outgoing.plain_http[name].conn.get('cid-i').status_code == 200
    assert noting.attempts == [1, 2, 3]
    # Each attempt is prepared anew: its own X-Zato-Msg-TS, as the server saw it.
    assert noting.timestamps == [arrival.headers['X-Zato-Msg-TS'] for arrival in server.arrivals]


def test_retries_and_the_calls_error_are_counted(runtime: Runtime) -> None:
    name = f'CRM {uuid.uuid4()}'
    runtime.store.create_outconn(OutconnConfig(name=name, host=f'http://127.0.0.1:{refused_port()}', max_retries=2,
                                               retry_backoff=0.01))
    with pytest.raises(RetriesExhausted):
        runtime.outgoing.plain_http[name].conn.get('cid-m')
    assert sample('zato_outconn_retries_total', connection=name) == 2
    # Three attempts, none answered; one failed call, by the error its caller got.
    assert sample('zato_outconn_requests_total', connection=name, transport='plain_http', method='GET',
                  code='error') == 3
    assert sample('zato_outconn_errors_total', connection=name, error='RetriesExhausted') == 1
    assert sample('zato_outconn_errors_total', connection=name, error='ConnectError') == 0


def test_the_circuit_gauge_follows_the_state(runtime: Runtime, server: ScriptedServer) -> None:
    name = f'CRM {uuid.uuid4()}'
    server.answer(Answer(500), otherwise=Answer(200))
    runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, breaker_threshold=1, breaker_reset=0.2))
    conn = runtime.outgoing.plain_http[name].conn
    conn.get('cid')
    assert sample('zato_outconn_circuit_open', connection=name) == 1
    with pytest.raises(CircuitOpen):
        conn.get('cid')
    assert sample('zato_outconn_errors_total', connection=name, error='CircuitOpen') == 1
    time.sleep(0.25)
    conn.get('cid')
    assert sample('zato_outconn_circuit_open', connection=name) == 0


def test_a_connect_error_without_policies_is_counted_as_itself(runtime: Runtime) -> None:
    name = f'CRM {uuid.uuid4()}'
    runtime.store.create_outconn(OutconnConfig(name=name, host=f'http://127.0.0.1:{refused_port()}'))
    with pytest.raises(ConnectError):
        runtime.outgoing.plain_http[name].conn.get('cid')
    assert sample('zato_outconn_errors_total', connection=name, error='ConnectError') == 1
    assert sample('zato_outconn_retries_total', connection=name) == 0


@pytest.mark.parametrize('change', [{'breaker_threshold': 2}, {'breaker_threshold': 0}])
def test_an_edit_that_replaces_or_removes_an_open_circuit_shows_it_closed(runtime: Runtime, server: ScriptedServer,
                                                                        change: dict[str, int]) -> None:
    # The new generation's circuit is closed (or there is none): the gauge must not say open for 30 s more.
    name = f'CRM {uuid.uuid4()}'
    server.answer(Answer(500), otherwise=Answer(200))
    runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, breaker_threshold=1, breaker_reset=30))
    runtime.outgoing.plain_http[name].conn.get('cid')
    assert sample('zato_outconn_circuit_open', connection=name) == 1
    runtime.store.edit_outconn('plain_http', name, change)
    runtime.outgoing.plain_http[name].conn.get('cid')
    assert sample('zato_outconn_circuit_open', connection=name) == 0
    assert all(circuit.state == 'closed' for circuit in circuits('plain_http', name))


def test_a_connection_deleted_with_an_open_circuit_and_made_again_starts_closed(runtime: Runtime,
                                                                             server: ScriptedServer) -> None:
    name = f'CRM {uuid.uuid4()}'
    server.answer(Answer(500), otherwise=Answer(200))
    config = OutconnConfig(name=name, host=server.url, breaker_threshold=1, breaker_reset=30)
    runtime.store.create_outconn(config)
    runtime.outgoing.plain_http[name].conn.get('cid')
    runtime.store.delete_outconn('plain_http', name)
    assert circuits('plain_http', name) == []
    runtime.store.create_outconn(config)
    assert runtime.outgoing.plain_http[name].conn.get('cid').status_code == 200


def test_an_edit_that_removes_the_breaker_shows_the_circuit_closed_before_any_call(runtime: Runtime,
                                                                                  server: ScriptedServer) -> None:
    # A connection is built on its first call: the gauge and outconn show must not wait for one.
    name = f'CRM {uuid.uuid4()}'
    server.answer(otherwise=Answer(500))
    runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, breaker_threshold=1, breaker_reset=30))
    runtime.outgoing.plain_http[name].conn.get('cid')
    runtime.store.edit_outconn('plain_http', name, {'breaker_threshold': 0})
    assert sample('zato_outconn_circuit_open', connection=name) == 0
    assert circuits('plain_http', name) == []
