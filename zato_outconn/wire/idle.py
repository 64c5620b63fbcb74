"""Idle sockets close after ZATO_OUTCONN_IDLE_TIMEOUT seconds (default 60).

A kept-alive socket costs a descriptor here and a slot on the server, and a server or a firewall
may drop it silently after a while. A pool closes a socket found idle too long when it takes it
(``BoundedWait._get_conn``); the reaper closes those of connections no call takes any more, so
that a process that touched ten thousand connections once keeps none of their sockets open.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

from zato_outconn.config.checks import seconds_setting

IDLE_TIMEOUT_ENV = 'ZATO_OUTCONN_IDLE_TIMEOUT'
DEFAULT_IDLE_TIMEOUT = 60.0


def idle_timeout() -> float:
    """Seconds a pooled socket may stay unused before it is closed."""
    return seconds_setting(IDLE_TIMEOUT_ENV, None, DEFAULT_IDLE_TIMEOUT)


class IdlePool(Protocol):
    idle_timeout: float

    def close_idle(self, idle_for: float = 0.0) -> int: ...


class _Reaper:
    """One thread per process that closes sockets idle past their pool's idle timeout.

    It sleeps half the shortest idle timeout of the pools it watches, so a socket closes at most
    one and a half idle timeouts after its last use. Started on the first pool, after any gevent
    monkey-patching (as a greenlet then).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # Also in a forked child, which has the parent's pools but not its thread.
        self._pools: weakref.WeakSet[IdlePool] = weakref.WeakSet()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self._shortest = float('inf')

    def watch(self, pool: IdlePool) -> None:
        with self._lock:
            self._pools.add(pool)
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name='zato-outconn-idle-sockets', daemon=True).start()
            if pool.idle_timeout < self._shortest:
                # The reaper sleeps towards a longer timeout than this pool's: wake it to sleep less.
                self._shortest = pool.idle_timeout
                self._wake.set()

    def _run(self) -> None:
        while True:
            with self._lock:
                pools = list(self._pools)
                self._shortest = min((pool.idle_timeout for pool in pools), default=float('inf'))
            interval = min(self._shortest, DEFAULT_IDLE_TIMEOUT) / 2
            self._wake.wait(interval)
            self._wake.clear()
            for pool in pools:
                pool.close_idle(pool.idle_timeout)
            del pools


REAPER = _Reaper()
os.register_at_fork(after_in_child=REAPER.reset)
