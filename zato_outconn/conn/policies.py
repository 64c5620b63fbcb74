"""The policies around the attempts of one call: the circuit breaker, the rate limit and retries.

A connection with none of them set (max_retries, breaker_threshold and rate_limit all 0) has no
``Policies`` at all, and its calls pay nothing for them. Otherwise each call runs here:

1. The whole call, every attempt and every wait between them, is bounded by its total deadline
   (total_timeout, or its default from the timeouts), counted from the call's start. An attempt
   after a wait (for a rate-limit token, or before a retry) is sent within what is left of it
   (``wire.deadline`` nests the attempt's own deadline in the call's); a first attempt that did not
   wait arms its deadline itself, as a call without policies does, so that it pays nothing more. A
   wait that would end past the deadline is not taken: the call ends at once instead, with
   ``RateLimited``, ``RetriesExhausted``, or the last answer (see below).
2. Before each attempt the breaker is asked (``CircuitOpen`` at once, nothing sent) and a token
   taken from the bucket. Each attempt's outcome is the breaker's verdict: a transport error or a
   5xx answer fails, any other answer succeeds, and an error of the caller's input decides nothing.
3. An attempt that failed in a way ``conn.retry`` retries is made again after its wait, with the
   same cid and X-Zato headers and a fresh X-Zato-Msg-TS (the request is prepared anew each time,
   security included, from what the caller passed: the body is re-sent intact).

When the retries run out on an error, ``RetriesExhausted`` is raised with the last error as its
``__cause__``. When they run out on an answer whose status is retried (a 503, say), that last
answer is returned, as it would be without retries: the caller reads its status as ever.

The breaker and the bucket are per connection and process, and outlive the connection's edits:
a new generation of the connection (an edit of any setting) keeps its predecessor's circuit and
bucket as long as its host and their own settings are the same.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any

import requests

from zato_outconn import metrics
from zato_outconn.config import OutconnConfig
from zato_outconn.conn.breaker import GO, REFUSED, Breaker
from zato_outconn.conn.rate_limit import TokenBucket
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.conn.retry import RetryPolicy, replayable
from zato_outconn.exceptions import CallError, CircuitOpen, RateLimited, RetriesExhausted, TransportError
from zato_outconn.wire import deadline
from zato_outconn.wire.call import Call

logger = logging.getLogger('zato_outconn.call')

# One attempt of a call: the request, the call and the attempt's number (1 for the first).
Attempt = Callable[[OutgoingRequest, Call, int], requests.Response]

# The breakers and buckets of each owner (a registry's socket budgets), by kind, transport and
# name, each with the settings it was made for. Kept while the owner lives: a connection's
# generations come and go between calls, and its circuit must not go with them.
_SHARED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str], tuple[Any, Any]]] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()
_KINDS = ('breaker', 'bucket')


def policies_for(config: OutconnConfig, owner: Any) -> Policies | None:
    """The policies of a connection, or None when it has none set."""
    if _SHARED:
        settle(owner, config)
    if not (config.max_retries or config.breaker_threshold or config.rate_limit):
        return None
    return Policies(config, owner)


def settle(owner: Any, config: OutconnConfig) -> None:
    """Drop the owner's breaker and bucket of the connection that ``config`` would not keep (its
    breaker or rate-limit settings or host changed, or it has none now), so that a circuit that was
    open no longer shows open, before the new generation's first call or without one."""
    _drop(owner, config.transport, config.name, lambda kind, wanted: wanted != _wanted(kind, config))


def forget(owner: Any, transport: str, name: str) -> None:
    """Drop the owner's breaker and bucket of a connection deleted or renamed: one made again under
    its name starts with a closed circuit and a full bucket."""
    _drop(owner, transport, name, lambda kind, wanted: True)


def _drop(owner: Any, transport: str, name: str, stale: Callable[[str, Any], bool]) -> None:
    dropped = []
    with _SHARED_LOCK:
        states = _SHARED.get(owner, {})
        for kind in _KINDS:
            key = (kind, transport, name)
            found = states.get(key)
            if found is not None and stale(kind, found[0]):
                dropped.append(states.pop(key)[1])
    for made in dropped:
        if isinstance(made, Breaker):
            made.closed_for_good()


def _wanted(kind: str, config: OutconnConfig) -> Any:
    """What a breaker or bucket is kept for: the host and its own settings; None when it is off."""
    if kind == 'breaker':
        return (config.host, (config.breaker_threshold, config.breaker_reset)) if config.breaker_threshold else None
    return (config.host, config.rate_limit) if config.rate_limit else None


class Policies:
    """The breaker, bucket and retry policy of one connection; runs its calls' attempts."""

    __slots__ = ('breaker', 'bucket', 'name', 'rate', 'retry')

    def __init__(self, config: OutconnConfig, owner: Any) -> None:
        self.name = config.name
        self.retry = RetryPolicy(config) if config.max_retries else None
        self.breaker: Breaker | None = None
        self.bucket: TokenBucket | None = None
        self.rate = config.rate_limit
        if config.breaker_threshold:
            self.breaker = _shared(owner, 'breaker', config,
                                   lambda: Breaker(config.name, config.breaker_threshold, config.breaker_reset))
        if config.rate_limit:
            self.bucket = _shared(owner, 'bucket', config, lambda: TokenBucket(config.rate_limit))

    def run(self, attempt: Attempt, request: OutgoingRequest, call: Call, total: float) -> requests.Response:
        """Make the call's attempts within ``total`` seconds, as the module says."""
        at = monotonic() + total
        retry = self.retry if self.retry is not None and replayable(request) else None
        method = request.method
        last: CallError | None = None
        number = 0
        while True:
            number += 1
            ticket, waited = self._admit(call, at, total, last)
            verdict: bool | None = None
            try:
                if number == 1 and not waited:
                    # The usual call: its one send arms the deadline itself, from about now.
                    response = attempt(request, call, number)
                else:
                    response = bounded(attempt, request, call, number, at, total)
            except CallError as error:
                # A transport error fails the breaker's count; the caller's input decides nothing.
                verdict = True if isinstance(error, TransportError) else None
                if retry is None or not retry.retries_error(error, method):
                    raise
                wait, stop = _next_wait(retry, number, None, at, total)
                if wait is None:
                    tried = 'the attempt' if number == 1 else f'all {number} attempts'
                    raise RetriesExhausted(f'{tried} failed, the last: {error.message}; {stop}', attempts=number,
                                           **call.context()) from error
                last, why = error, error.message
            else:
                verdict = response.status_code >= 500
                if retry is None or not retry.retries_answer(response, method):
                    return response
                wait, stop = _next_wait(retry, number, response, at, total)
                if wait is None:
                    logger.warning('%s %s %s attempt %d answered %s, which is the answer: %s cid=%s', self.name,
                                   method, call.url, number, response.status_code, stop, call.cid)
                    return response
                # Read or not, its socket goes back to the pool before the wait.
                response.close()
                last, why = None, f'answered {response.status_code}'
            finally:
                self._judge(ticket, verdict)
            logger.info('%s %s %s attempt %d %s; attempt %d in %.3f s cid=%s', self.name, method, call.url, number,
                        why, number + 1, wait, call.cid)
            metrics.count_retry(self.name)
            # time.sleep looked up at the call, so that gevent's patching, made after this import, holds.
            time.sleep(wait)

    def _admit(self, call: Call, at: float, total: float, last: CallError | None) -> tuple[int, bool]:
        """The breaker's ticket for an attempt about to go, once it has its rate-limit token, and
        whether it waited for that token."""
        ticket = GO
        breaker = self.breaker
        if breaker is not None:
            ticket = breaker.allow()
            if ticket == REFUSED:
                raise CircuitOpen(breaker.refusal(), **call.context()) from last
        bucket = self.bucket
        if bucket is None:
            return ticket, False
        try:
            # A token that came with almost nothing of the deadline left would admit a call bound to
            # time out: one must come with a tenth of the total left (a second at most).
            waited = bucket.take(at - min(total / 10, 1.0))
        except BaseException:
            self._judge(ticket, None)
            raise
        if waited is None:
            self._judge(ticket, None)
            raise RateLimited(f'no call may go within the total timeout of {total:g} s: the connection allows '
                              f'{self.rate} calls a second in this process (rate_limit)', **call.context()) from last
        return ticket, waited > 0

    def _judge(self, ticket: int, failed: bool | None) -> None:
        breaker = self.breaker
        if breaker is None:
            return
        if failed is None:
            breaker.undecided(ticket)
        elif failed:
            breaker.failed(ticket)
        else:
            breaker.succeeded(ticket)


def _next_wait(retry: RetryPolicy, number: int, response: requests.Response | None, at: float,
               total: float) -> tuple[float | None, str]:
    """The wait before the next attempt, or None and why there is none."""
    if number > retry.max_retries:
        return None, f'max_retries ({retry.max_retries}) reached'
    wait = retry.wait(number, response)
    if wait is None:
        return None, f"the server's Retry-After asks for more than retry_after_max ({retry.after_max:g} s)"
    if monotonic() + wait >= at:
        # Not slept at all: the call ends now rather than at its deadline with nothing more to show.
        return None, f'a wait of {wait:.3f} s would pass the total timeout of {total:g} s'
    return wait, ''


def bounded(attempt: Attempt, request: OutgoingRequest, call: Call, number: int, at: float,
             total: float) -> requests.Response:
    """An attempt after a wait: its send ends by the deadline of the whole call, which its errors name."""
    armed, token = deadline.arm(max(at - monotonic(), 0.001))
    # The attempt's own deadline is nested in this one and takes its figure: the call's total_timeout.
    armed.seconds = total
    try:
        return attempt(request, call, number)
    finally:
        deadline.disarm(armed, token)


def _shared(owner: Any, kind: str, config: OutconnConfig, make: Callable[[], Any]) -> Any:
    """The owner's breaker or bucket of this connection, made anew when its host or settings changed."""
    key = (kind, config.transport, config.name)
    wanted = _wanted(kind, config)
    with _SHARED_LOCK:
        states = _SHARED.get(owner)
        if states is None:
            states = _SHARED[owner] = {}
        found = states.get(key)
        if found is not None and found[0] == wanted:
            return found[1]
        made = make()
        states[key] = (wanted, made)
    if found is not None and isinstance(found[1], Breaker):
        # Its successor starts closed: the gauge must not go on showing the old one open.
        found[1].closed_for_good()
    return made


def circuits(transport: str, name: str) -> list[Breaker]:
    """The circuits this process has for the connection, one per registry that has called it."""
    with _SHARED_LOCK:
        return [states[key][1] for states in list(_SHARED.values())
                for key in [('breaker', transport, name)] if key in states]
