"""The total deadline of a call: connect, headers and a prefetched body end by total_timeout.

Socket timeouts bound each wait, not the call: a server that trickles a byte every half second
never trips a read timeout of one second. So every send arms a ``Deadline``; the pools tell it
which sockets the call uses (``watch``), and one watchdog thread per process shuts them down
when the deadline passes. The blocked read then fails at once, and the send reports
``TotalTimeout`` because the deadline says it expired. Past the deadline the pools start no
request, connect no socket and retry nothing (``DeadlinePassed``), and a connect never waits
longer than what is left.

A socket handed back to the pool is forgotten first (``forget``), under the deadline's lock,
so that a late watchdog never shuts a socket another call has taken since.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import weakref
from time import monotonic
from typing import Any

import urllib3.exceptions as uex

# The deadline of the send in progress in this thread or greenlet, for the pools to find.
_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar('zato_outconn_deadline', default=None)


class DeadlinePassed(uex.TimeoutError):
    """Raised by the pools when a call would start a request, or hold a new socket, past its deadline."""


class Deadline:
    """When one send must have ended, and the sockets it has used so far."""

    __slots__ = ('_lock', '_sockets', 'at', 'done', 'expired', 'seconds')

    def __init__(self, seconds: float, outer: Deadline | None = None) -> None:
        self.seconds = seconds
        self.at = monotonic() + seconds
        if outer is not None and outer.at < self.at:
            # A send within a send (an OAuth2 token fetched for a call) ends by the outer call's deadline.
            self.at, self.seconds = outer.at, outer.seconds
        self.expired = False
        self.done = False
        # Weak: a socket closed meanwhile must be free to go (and give back its budget places). Plain
        # references without callbacks, in a list: most sends watch one socket, and a WeakSet costs
        # more to make than the rest of the deadline.
        self._sockets: list[weakref.ref[Any]] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(self.at - monotonic(), 0.0)

    def passed(self) -> bool:
        return self.expired or monotonic() >= self.at

    def watch(self, sock: Any) -> None:
        """A socket this call sends or reads on, new or kept alive; shut at once if the deadline has
        passed already. The socket, not its connection: http.client lets go of the socket of an
        answer that closes the connection while the answer is still read from it."""
        with self._lock:
            if self.done:
                return
            sockets = self._sockets
            if not sockets:
                sockets.append(weakref.ref(sock))
            elif not any(ref() is sock for ref in sockets):
                # The dead references of sockets gone go now: a long send may watch many in turn.
                sockets[:] = [ref for ref in sockets if ref() is not None]
                sockets.append(weakref.ref(sock))
            if self.expired:
                _shut(sock)

    def forget(self, sock: Any) -> None:
        """The call is done with this socket (it goes back to the pool)."""
        with self._lock:
            sockets = self._sockets
            if len(sockets) == 1 and sockets[0]() is sock:
                sockets.clear()  # the one socket of most sends
            elif sockets:
                sockets[:] = [ref for ref in sockets if ref() is not sock and ref() is not None]

    def expire(self) -> None:
        """Called by the watchdog when the deadline passes with the send still running."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            for ref in self._sockets:
                sock = ref()
                if sock is not None:
                    _shut(sock)

    def end(self) -> None:
        with self._lock:
            self.done = True
            self._sockets.clear()


def current() -> Deadline | None:
    return _current.get()


def arm(seconds: float) -> tuple[Deadline, contextvars.Token[Deadline | None]]:
    """Start the deadline of a send; the caller passes both back to ``disarm`` when it ends."""
    deadline = Deadline(seconds, _current.get())
    _WATCHDOG.add(deadline)
    return deadline, _current.set(deadline)


def disarm(deadline: Deadline, token: contextvars.Token[Deadline | None]) -> None:
    deadline.end()
    _WATCHDOG.discard(deadline)
    _current.reset(token)


def _shut(sock: Any) -> None:
    """Shut the socket in both directions: a read blocked on it returns at once."""
    try:
        # socket.socket's own: an SSLSocket's would also drop its TLS state under the reading thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass  # closed already, or not a socket of ours to shut


class _Watchdog:
    """One thread per process that expires deadlines as they pass.

    The sends in progress are a set; the thread sleeps until the earliest of them is due, and is
    woken only when a send arrives with an earlier deadline than the one it sleeps towards. Under
    gevent's monkey-patching the thread is a greenlet, started on first use, after the patching.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # Also in a forked child (a gunicorn worker, say), which has the parent's state but not its
        # thread, and maybe a lock some other thread of the parent held.
        self._armed: set[Deadline] = set()
        self._condition = threading.Condition(threading.Lock())
        self._wake_at = float('inf')
        self._started = False

    def add(self, deadline: Deadline) -> None:
        with self._condition:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name='zato-outconn-deadlines', daemon=True).start()
            self._armed.add(deadline)
            if deadline.at < self._wake_at:
                self._wake_at = deadline.at
                self._condition.notify()

    def discard(self, deadline: Deadline) -> None:
        with self._condition:
            self._armed.discard(deadline)

    def _run(self) -> None:
        while True:
            with self._condition:
                now = monotonic()
                due = [deadline for deadline in self._armed if deadline.at <= now]
                for deadline in due:
                    self._armed.discard(deadline)
                self._wake_at = min((deadline.at for deadline in self._armed), default=float('inf'))
                if not due:
                    self._condition.wait(None if self._wake_at == float('inf') else self._wake_at - now)
                    continue
            for deadline in due:
                deadline.expire()


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset)
