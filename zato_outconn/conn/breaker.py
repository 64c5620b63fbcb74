"""The circuit breaker of a connection in one process: closed, open, half-open.

Closed, every call goes out and consecutive failures (transport errors, 5xx answers) are counted;
``breaker_threshold`` of them open the circuit. Open, calls raise ``CircuitOpen`` at once, sending
nothing, for ``breaker_reset`` seconds; then the first caller becomes the one trial call (half-open)
while every other still fails at once. The trial's success closes the circuit, its failure opens it
again for another ``breaker_reset``. A trial that ends with no verdict (its caller's input was
refused before sending, or the rate limit refused it, say) leaves the circuit half-open and hands the
trial to the next caller: that is no change of state, so it logs nothing.

Each change of state logs one line and sets the ``zato_outconn_circuit_open`` gauge (1 while open
or half-open: calls then fail at once but for the trial).
"""

from __future__ import annotations

import logging
import threading
from time import monotonic
from typing import Any

from zato_outconn import metrics

logger = logging.getLogger('zato_outconn.breaker')

CLOSED, OPEN, HALF_OPEN = 'closed', 'open', 'half-open'

# What allow() hands out: go as an ordinary call, go as the one trial, or do not go.
GO, TRIAL, REFUSED = 1, 2, 0


class Breaker:
    """One connection's circuit in this process; thread-safe."""

    __slots__ = ('_lock', '_trial_out', 'failures', 'name', 'opened_at', 'reset', 'state', 'threshold')

    def __init__(self, name: str, threshold: int, reset: float) -> None:
        self.name = name
        self.threshold = threshold
        self.reset = reset
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        # Half-open, whether the one trial is out; a trial handed on (undecided) puts it back.
        self._trial_out = False
        self._lock = threading.Lock()

    def allow(self) -> int:
        """GO, TRIAL or REFUSED for a call about to be sent."""
        if self.state == CLOSED:
            return GO  # read without the lock: the usual case costs one comparison
        with self._lock:
            if self.state == CLOSED:
                return GO
            if self.state == HALF_OPEN:
                if self._trial_out:
                    return REFUSED
                self._trial_out = True
                return TRIAL
            if monotonic() < self.opened_at + self.reset:
                return REFUSED
            self.state, self._trial_out = HALF_OPEN, True
        self._changed(f'half-open after {self.reset:g} s (breaker_reset): one trial call decides', True)
        return TRIAL

    def succeeded(self, ticket: int) -> None:
        if ticket == TRIAL:
            with self._lock:
                self.state, self.failures, self._trial_out = CLOSED, 0, False
            self._changed('closed: the trial call succeeded', False)
        elif self.failures:
            # Only a closed circuit counts; an answer to a call sent before it opened decides nothing.
            with self._lock:
                if self.state == CLOSED:
                    self.failures = 0

    def failed(self, ticket: int) -> None:
        with self._lock:
            if ticket == TRIAL:
                self.state, self.opened_at, self._trial_out = OPEN, monotonic(), False
                why = 'the trial call failed'
            elif self.state == CLOSED:
                self.failures += 1
                if self.failures < self.threshold:
                    return
                self.state, self.opened_at = OPEN, monotonic()
                why = f'{self.failures} consecutive failures (breaker_threshold {self.threshold})'
            else:
                return
        self._changed(f'open after {why}; calls fail at once for {self.reset:g} s (breaker_reset)', True)

    def undecided(self, ticket: int) -> None:
        """The call ended without a verdict: a trial goes back, for the next caller to make at once."""
        if ticket == TRIAL:
            with self._lock:
                self._trial_out = False

    def seconds_to_trial(self) -> float:
        return max(self.opened_at + self.reset - monotonic(), 0.0)

    def refusal(self) -> str:
        """Why a call is refused, for CircuitOpen's message."""
        if self.state == HALF_OPEN:
            return 'the circuit is half-open and its one trial call is in progress; calls fail at once until ' \
                   'it ends'
        return f'the circuit is open after failures of the remote end; calls fail at once for ' \
               f'{self.seconds_to_trial():.1f} s more, then one trial call decides (breaker_reset)'

    def as_dict(self) -> dict[str, Any]:
        """What ``outconn show`` tells of it."""
        with self._lock:
            state, failures = self.state, self.failures
        values: dict[str, Any] = {'state': state, 'failures': failures}
        if state == OPEN:
            values['trial_in'] = round(self.seconds_to_trial(), 3)
        return values

    def closed_for_good(self) -> None:
        """Its connection has another circuit now, or none: an open one no longer shows open."""
        with self._lock:
            was_open = self.state != CLOSED
        if was_open:
            metrics.set_circuit(self.name, False)

    def _changed(self, what: str, is_open: bool) -> None:
        logger.warning('circuit of %r %s', self.name, what)
        metrics.set_circuit(self.name, is_open)
