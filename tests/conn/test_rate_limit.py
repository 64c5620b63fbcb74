"""The rate limit under threads: calls spaced by the token bucket, RateLimited past the total timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from zato_outconn import CallError, RateLimited
from zato_outconn.conn.rate_limit import TokenBucket

from tests.support.scripted_server import ScriptedServer


def run_threads(count: int, target: Callable[[], None]) -> None:
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        target()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_calls_from_many_threads_are_spaced_past_the_burst(server: ScriptedServer, conn: Any) -> None:
    get = conn(rate_limit=10, total_timeout=10).get
    statuses: list[int] = []
    run_threads(20, lambda: statuses.append(get('cid-rl').status_code))
    assert statuses == [200] * 20
    times = sorted(arrival.at for arrival in server.arrivals)
    start = times[0]
    # A burst of one second's worth (10) at once, then one every 0.1 s.
    assert times[9] - start < 0.3
    for number in range(10, 20):
        assert times[number] - start >= (number - 9) * 0.1 - 0.05, number
    assert times[-1] - start < 1.6


def test_a_call_whose_token_would_come_after_its_total_timeout_is_refused_at_once(server: ScriptedServer,
                                                                                  conn: Any) -> None:
    get = conn(rate_limit=1, total_timeout=0.5).get
    assert get('cid-1').status_code == 200
    start = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        get('cid-2')
    # Sooner than the 0.5 s total timeout it would otherwise wait out.
    assert time.monotonic() - start < 0.4
    assert 'rate_limit' in str(caught.value) and caught.value.cid == 'cid-2'
    assert server.count == 1


def test_under_threads_callers_wait_within_their_timeout_then_are_refused(server: ScriptedServer,
                                                                         conn: Any) -> None:
    get = conn(rate_limit=4, total_timeout=1).get
    outcomes: list[str] = []

    def call() -> None:
        try:
            outcomes.append(str(get('cid-t').status_code))
        except RateLimited:
            outcomes.append('limited')
        except CallError as error:
            outcomes.append(type(error).__name__)

    run_threads(12, call)
    # Four at once, then one every 0.25 s; a token must come with a tenth of the second left (by
    # 0.9 s): three more, the rest refused.
    assert outcomes.count('200') == 7
    assert outcomes.count('limited') == 12 - outcomes.count('200')
    assert server.count == outcomes.count('200')


def test_ping_is_not_rate_limited(server: ScriptedServer, conn: Any) -> None:
    item = conn(rate_limit=1, total_timeout=0.3)
    item.get('cid')
    for _ in range(3):
        assert item.ping('cid-ping').ok


def test_the_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(5)
    now = time.monotonic()
    assert [bucket.reserve(now + 10) for _ in range(5)] == [0.0] * 5
    wait = bucket.reserve(now + 10)
    assert wait is not None and 0.15 < wait <= 0.2
    # The next token is reserved behind the one before.
    second = bucket.reserve(now + 10)
    assert second is not None and 0.35 < second <= 0.4
    assert bucket.reserve(time.monotonic() + 0.1) is None
