"""The rate limit of a connection in one process: a token bucket of ``rate_limit`` calls a second.

The bucket holds at most a second's worth of tokens, so that a quiet connection may send a burst
of ``rate_limit`` calls at once; past that, calls are spaced ``1 / rate_limit`` seconds apart.
A caller that finds no token reserves the next one to come (the bucket goes below zero) and sleeps
until it is due, so that waiting callers go in the order they came and none is starved. A caller
whose token would come after its deadline (less a tenth of its total timeout, a second at most,
left for the call it admits) reserves nothing and is refused at once (``RateLimited``) rather than
sleeping for nothing. Sleeping is ``time.sleep``, which gevent's patching makes cooperative.
"""

from __future__ import annotations

import threading
import time
from time import monotonic


class TokenBucket:
    """Thread-safe; ``take`` blocks the caller until its token is due."""

    __slots__ = ('_lock', '_stamp', '_tokens', 'capacity', 'rate')

    def __init__(self, rate: int) -> None:
        self.rate = float(rate)
        self.capacity = max(self.rate, 1.0)
        self._tokens = self.capacity
        self._stamp = monotonic()
        self._lock = threading.Lock()

    def reserve(self, until: float) -> float | None:
        """Seconds to wait for a token reserved now, or None (nothing reserved) if it would only come
        after ``until`` (a ``monotonic`` time)."""
        with self._lock:
            now = monotonic()
            tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            if wait and now + wait > until:
                self._tokens = tokens
                return None
            self._tokens = tokens - 1
            return wait

    def take(self, until: float) -> float | None:
        """Wait for a token and say how long that took; None, at once, if none would come by ``until``."""
        wait = self.reserve(until)
        if wait:
            # time.sleep looked up at the call, so that gevent's patching, made after this import, holds.
            time.sleep(wait)
        return wait
