"""Retries in the one pipeline, against a scripted server: what is retried, how often, how far apart."""

from __future__ import annotations

import io
import logging
import time
from email.utils import formatdate
from typing import Any

import pytest

from zato_outconn import ConnectError, ReadTimeout, RetriesExhausted, Runtime

from tests.support.scripted_server import Answer, ScriptedServer
from tests.support.servers import refused_port

UNAVAILABLE = Answer(503, body=b'busy')




def test_a_retried_status_is_tried_again_until_an_answer_is_not(server: ScriptedServer, conn: Any) -> None:
    server.answer(UNAVAILABLE, Answer(502), Answer(200, body=b'fine'))
    response = conn(max_retries=3, retry_backoff=0.01).get('cid-r1')
    assert response.status_code == 200 and response.text == 'fine'
    assert server.count == 3


def test_every_attempt_has_the_same_cid_and_component_and_a_fresh_timestamp(server: ScriptedServer,
                                                                            conn: Any) -> None:
    server.answer(UNAVAILABLE, UNAVAILABLE, Answer(200))
    conn(max_retries=2, retry_backoff=0.01).get('cid-same')
    arrivals = server.arrivals
    assert [arrival.headers['X-Zato-CID'] for arrival in arrivals] == ['cid-same'] * 3
    assert len({arrival.headers['X-Zato-Component'] for arrival in arrivals}) == 1
    assert len({arrival.headers['X-Zato-Msg-TS'] for arrival in arrivals}) == 3


def test_the_body_is_sent_intact_each_time(server: ScriptedServer, conn: Any) -> None:
    server.answer(UNAVAILABLE, Answer(200))
    conn(max_retries=1, retry_backoff=0).put('cid-b', {'id': 1, 'name': 'Zoë'})
    bodies = [arrival.body for arrival in server.arrivals]
    assert bodies == ['{"id":1,"name":"Zoë"}'.encode()] * 2


def test_retries_stop_at_max_retries_and_the_last_answer_is_returned(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=UNAVAILABLE)
    response = conn(max_retries=2, retry_backoff=0).get('cid-r2')
    assert response.status_code == 503 and response.text == 'busy'
    assert server.count == 3


def test_no_retries_without_max_retries(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=UNAVAILABLE)
    assert conn().get('cid-r0').status_code == 503
    assert server.count == 1


def test_a_status_not_in_retry_on_status_is_not_retried(server: ScriptedServer, conn: Any) -> None:
    server.answer(Answer(500), Answer(200))
    assert conn(max_retries=3, retry_backoff=0).get('cid-500').status_code == 500
    assert server.count == 1


def test_retry_after_in_seconds_is_waited_for(server: ScriptedServer, conn: Any) -> None:
    server.answer(Answer(503, {'Retry-After': '1'}), Answer(200))
    assert conn(max_retries=1, retry_backoff=0).get('cid-ra').status_code == 200
    [gap] = server.gaps()
    assert 1.0 <= gap < 1.5


def test_retry_after_as_an_http_date_is_waited_for(server: ScriptedServer, conn: Any) -> None:
    # An HTTP date has whole seconds: two seconds from now is between one and two seconds away.
    server.answer(Answer(429, {'Retry-After': formatdate(time.time() + 2, usegmt=True)}), Answer(200))
    assert conn(max_retries=1, retry_backoff=0).get('cid-rd').status_code == 200
    [gap] = server.gaps()
    assert 0.9 <= gap < 2.5


def test_a_retry_after_longer_than_retry_after_max_ends_the_retries(server: ScriptedServer, conn: Any) -> None:
    server.answer(Answer(503, {'Retry-After': '5'}), Answer(200))
    # Made before the clock starts: the store's write is no part of the call.
    long_wait = conn(max_retries=3, retry_after_max=2)
    start = time.monotonic()
    assert long_wait.get('cid-long').status_code == 503
    assert time.monotonic() - start < 1
    assert server.count == 1


def test_backoff_waits_grow_within_their_cap(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=UNAVAILABLE)
    conn(max_retries=4, retry_backoff=0.05, retry_after_max=0.1).get('cid-bo')
    gaps = server.gaps()
    assert len(gaps) == 4
    # Full jitter: each wait is anywhere from 0 to min(cap, 0.05 * 2 ** n); never above the cap.
    for number, gap in enumerate(gaps):
        assert gap < min(0.1, 0.05 * 2 ** number) + 0.1


def test_post_is_not_retried_by_default(server: ScriptedServer, conn: Any) -> None:
    server.answer(UNAVAILABLE, Answer(200))
    assert conn(max_retries=3, retry_backoff=0).post('cid-p', 'data').status_code == 503
    assert server.count == 1


def test_post_is_retried_when_retry_methods_allow_it(server: ScriptedServer, conn: Any) -> None:
    server.answer(UNAVAILABLE, Answer(200))
    assert conn(max_retries=3, retry_backoff=0, retry_methods='GET,POST').post('cid-p2', 'data').status_code == 200
    assert [arrival.body for arrival in server.arrivals] == [b'data', b'data']


def test_a_file_upload_is_not_retried(server: ScriptedServer, conn: Any) -> None:
    # requests reads the file as it prepares the request: a second attempt would send it empty.
    server.answer(UNAVAILABLE, Answer(200))
    upload = io.BytesIO(b'file contents')
    response = conn(max_retries=3, retry_backoff=0, retry_methods='POST').post('cid-f', files={'f': upload})
    assert response.status_code == 503
    assert server.count == 1


def test_connect_errors_are_retried_for_every_method_then_retries_exhausted(runtime: Runtime, conn: Any) -> None:
    port = refused_port()
    post = conn(host=f'http://127.0.0.1:{port}', max_retries=2, retry_backoff=0.01).post
    with pytest.raises(RetriesExhausted) as caught:
        post('cid-c', 'data')
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, ConnectError)
    assert 'all 3 attempts failed' in str(caught.value) and 'max_retries (2) reached' in str(caught.value)
    assert caught.value.name == 'CRM' and caught.value.cid == 'cid-c'


def test_a_read_timeout_of_a_post_is_not_retried(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=Answer(200, delay=0.6))
    with pytest.raises(ReadTimeout):
        conn(max_retries=3, read_timeout=0.2, retry_backoff=0).post('cid-rt', 'data')
    assert server.count == 1


def test_a_read_timeout_of_a_get_is_retried(server: ScriptedServer, conn: Any) -> None:
    server.answer(Answer(200, delay=0.6), Answer(200, body=b'in time'))
    response = conn(max_retries=3, read_timeout=0.3, retry_backoff=0).get('cid-rt2')
    assert response.text == 'in time'
    assert server.count == 2


def test_retries_exhausted_keeps_the_last_error(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=Answer(200, delay=0.5))
    with pytest.raises(RetriesExhausted) as caught:
        conn(max_retries=1, read_timeout=0.2, retry_backoff=0).get('cid-rt3')
    assert isinstance(caught.value.__cause__, ReadTimeout)
    assert caught.value.attempts == 2 and server.count == 2


def test_all_attempts_end_within_the_total_timeout(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=Answer(503, {'Retry-After': '1'}))
    bounded_conn = conn(max_retries=10, total_timeout=2.5)
    start = time.monotonic()
    response = bounded_conn.get('cid-t')
    elapsed = time.monotonic() - start
    # Attempts at 0, 1 and 2 s; a wait to 3 s would pass the deadline, so it is not taken.
    assert response.status_code == 503
    assert server.count == 3
    assert elapsed < 2.5


def test_a_slow_attempt_is_cut_by_the_total_timeout_of_the_whole_call(server: ScriptedServer, conn: Any) -> None:
    from zato_outconn import TotalTimeout

    server.answer(UNAVAILABLE, otherwise=Answer(200, delay=3))
    # Made before the clock starts: on a busy machine the store's write alone once took 0.6 s.
    slow = conn(max_retries=3, retry_backoff=0, total_timeout=1, read_timeout=5)
    start = time.monotonic()
    with pytest.raises(TotalTimeout):
        slow.get('cid-tt')
    # Cut at 1 s, well before the 3 s the answer takes; the watchdog thread may wake late on a loaded
    # machine (CI once saw 1.59 s while other suites ran beside it).
    assert time.monotonic() - start < 2.3
    assert server.count == 2


def test_ping_never_retries(server: ScriptedServer, conn: Any) -> None:
    server.answer(otherwise=UNAVAILABLE)
    result = conn(max_retries=3, retry_backoff=0).ping('cid-ping')
    assert result.status_code == 503
    assert server.count == 1


def test_each_attempt_logs_a_line_with_its_number(server: ScriptedServer, conn: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    server.answer(UNAVAILABLE, Answer(200))
    with caplog.at_level(logging.INFO, logger='zato_outconn.call'):
        conn(max_retries=2, retry_backoff=0).get('cid-log')
    lines = [record.getMessage() for record in caplog.records if 'cid=cid-log' in record.getMessage()]
    assert any('-> 503' in line and 'attempt=1' in line for line in lines)
    assert any('-> 200' in line and 'attempt=2' in line for line in lines)
    assert any('attempt 1 answered 503; attempt 2 in' in line for line in lines)
