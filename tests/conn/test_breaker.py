"""The circuit breaker against a scripted server: it opens, fails fast, and one trial call decides."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from zato_outconn import CircuitOpen, ConnectError, RateLimited, RequestError, Runtime
from zato_outconn.conn.breaker import CLOSED, HALF_OPEN, OPEN
from zato_outconn.conn.policies import circuits

from tests.support.scripted_server import Answer, ScriptedServer
from tests.support.servers import refused_port

FAILING = Answer(500, body=b'down')
FINE = Answer(200, body=b'up')




def state(name: str = 'CRM') -> str:
    # The newest registry's: an earlier test's runtime may not have been collected yet.
    return circuits('plain_http', name)[-1].state


def test_consecutive_failures_open_the_circuit_and_calls_then_fail_fast(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=FAILING)
    get = conn(breaker_threshold=3, breaker_reset=30).get
    assert [get(f'cid-{number}').status_code for number in range(3)] == [500] * 3
    assert state() == OPEN
    start = time.monotonic()
    with pytest.raises(CircuitOpen) as caught:
        get('cid-fast')
    # Far sooner than any answer; room left for a busy machine's scheduling.
    assert time.monotonic() - start < 0.5
    assert 'the circuit is open' in str(caught.value) and caught.value.cid == 'cid-fast'
    # Nothing reached the server.
    assert server.count == 3


def test_a_success_resets_the_count(server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, FAILING, FINE, FAILING, FAILING, FINE)
    get = conn(breaker_threshold=3).get
    assert [get('cid').status_code for _ in range(6)] == [500, 500, 200, 500, 500, 200]
    assert state() == CLOSED


def test_a_4xx_answer_is_no_failure(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=Answer(404))
    get = conn(breaker_threshold=2).get
    for _ in range(4):
        assert get('cid').status_code == 404
    assert state() == CLOSED


def test_transport_errors_count(runtime: Runtime, conn: Any) -> None:
    get = conn(host=f'http://127.0.0.1:{refused_port()}', breaker_threshold=2).get
    for _ in range(2):
        with pytest.raises(ConnectError):
            get('cid')
    with pytest.raises(CircuitOpen):
        get('cid')


def test_the_callers_own_errors_do_not_count(server: ScriptedServer, conn: Any) -> None:
    get = conn(breaker_threshold=1).get
    with pytest.raises(RequestError):
        get('bad\ncid')
    assert state() == CLOSED


def test_after_breaker_reset_one_trial_that_succeeds_closes_it(server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, FAILING, otherwise=FINE)
    get = conn(breaker_threshold=2, breaker_reset=0.3).get
    get('cid-1'), get('cid-2')
    with pytest.raises(CircuitOpen):
        get('cid-3')
    time.sleep(0.35)
    assert get('cid-trial').text == 'up'
    assert state() == CLOSED
    assert get('cid-after').status_code == 200
    assert server.count == 4


def test_a_trial_that_fails_opens_it_again(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=FAILING)
    get = conn(breaker_threshold=2, breaker_reset=0.3).get
    get('cid-1'), get('cid-2')
    time.sleep(0.35)
    assert get('cid-trial').status_code == 500
    assert state() == OPEN
    with pytest.raises(CircuitOpen):
        get('cid-after')
    assert server.count == 3


def test_sixteen_threads_on_a_half_open_circuit_make_one_trial(server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, otherwise=Answer(200, delay=0.3))
    get = conn(breaker_threshold=1, breaker_reset=0.2).get
    get('cid-open')
    time.sleep(0.25)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def call() -> None:
        barrier.wait()
        try:
            outcomes.append(str(get('cid-race').status_code))
        except CircuitOpen as error:
            outcomes.append('half-open' if 'half-open' in str(error) else 'open')

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ['200'] + ['half-open'] * 15
    assert server.count == 2
    assert state() == CLOSED


def test_a_trial_without_a_verdict_hands_the_trial_on(server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, otherwise=FINE)
    get = conn(breaker_threshold=1, breaker_reset=0.2).get
    get('cid-open')
    time.sleep(0.25)
    with pytest.raises(RequestError):
        get('bad\ncid')  # refused before sending: it decides nothing
    assert state() == HALF_OPEN
    assert get('cid-trial').status_code == 200
    assert state() == CLOSED


def test_ping_is_never_refused_and_never_counts(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=FAILING)
    item = conn(breaker_threshold=1, breaker_reset=30)
    for _ in range(3):
        assert item.ping('cid-ping').status_code == 500
    assert state() == CLOSED
    item.get('cid')
    assert state() == OPEN
    assert item.ping('cid-ping').status_code == 500


def test_each_change_of_state_logs_one_line(server: ScriptedServer, conn: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    server.answer(FAILING, FAILING, otherwise=FINE)
    get = conn(breaker_threshold=2, breaker_reset=0.2).get
    with caplog.at_level(logging.INFO, logger='zato_outconn.breaker'):
        get('cid'), get('cid')
        time.sleep(0.25)
        get('cid')
    lines = [record.getMessage() for record in caplog.records if record.name == 'zato_outconn.breaker']
    assert len(lines) == 3
    assert "'CRM' open after 2 consecutive failures" in lines[0]
    assert HALF_OPEN in lines[1] and 'closed' in lines[2]


def test_trials_handed_on_log_no_line_of_their_own(server: ScriptedServer, conn: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # A trial handed on leaves the circuit half-open, waiting for the next caller: no change of state,
    # so no line (the rate limit refusing trial after trial must not flood the log with half-open lines).
    server.answer(FAILING, otherwise=FINE)
    get = conn(breaker_threshold=1, breaker_reset=0.2).get
    with caplog.at_level(logging.INFO, logger='zato_outconn.breaker'):
        get('cid-open')
        time.sleep(0.25)
        for _ in range(5):
            with pytest.raises(RequestError):
                get('bad\ncid')
            assert state() == HALF_OPEN
        assert get('cid-trial').status_code == 200
    lines = [record.getMessage() for record in caplog.records if record.name == 'zato_outconn.breaker']
    assert len(lines) == 3
    assert 'open after' in lines[0] and HALF_OPEN in lines[1] and 'closed' in lines[2]


def test_an_edit_that_keeps_the_breaker_settings_keeps_the_circuit(runtime: Runtime, server: ScriptedServer,
                                                                 conn: Any) -> None:
    server.answer(otherwise=FAILING)
    get = conn(breaker_threshold=1, breaker_reset=30).get
    get('cid')
    runtime.store.edit_outconn('plain_http', 'CRM', {'read_timeout': 7})
    new = runtime.outgoing.plain_http['CRM'].conn
    assert new.config.read_timeout == 7
    with pytest.raises(CircuitOpen):
        new.get('cid')
    assert server.count == 1


def test_an_edit_of_the_breaker_settings_starts_a_closed_circuit(runtime: Runtime, server: ScriptedServer,
                                                               conn: Any) -> None:
    server.answer(FAILING, otherwise=FINE)
    conn(breaker_threshold=1, breaker_reset=30).get('cid')
    runtime.store.edit_outconn('plain_http', 'CRM', {'breaker_threshold': 2})
    assert runtime.outgoing.plain_http['CRM'].conn.get('cid').status_code == 200


def test_an_edit_of_the_host_starts_a_closed_circuit(runtime: Runtime, server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, otherwise=FINE)
    conn(breaker_threshold=1, breaker_reset=30, host=f'http://localhost:{server.port}').get('cid')
    runtime.store.edit_outconn('plain_http', 'CRM', {'host': server.url})
    assert runtime.outgoing.plain_http['CRM'].conn.get('cid').status_code == 200


def test_a_rate_limited_trial_hands_the_trial_on(server: ScriptedServer, conn: Any) -> None:
    server.answer(FAILING, otherwise=FINE)
    get = conn(breaker_threshold=1, breaker_reset=0.2, rate_limit=1, total_timeout=0.5).get
    get('cid-open')
    time.sleep(0.25)
    # Past breaker_reset, but the bucket's one token went to the call that opened the circuit.
    with pytest.raises(RateLimited):
        get('cid-limited')
    assert state() == HALF_OPEN
    time.sleep(0.8)
    assert get('cid-trial').status_code == 200
    assert state() == CLOSED
