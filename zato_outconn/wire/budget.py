"""Caps on open sockets: pool_size per connection across its generations, and one per process.

Each edit of a template builds a new session and pool, while the old one drains the calls in
flight on it. A pool on its own caps only its own sockets, so during edits a connection could
hold several pools' worth at once. The sockets of every generation of one connection name count
against one ``SocketBudget`` instead: a socket takes a place from it when it connects and gives it
back when it closes. Every socket also takes a place from the process's budget
(``ZATO_OUTCONN_MAX_SOCKETS``, by default most of the file descriptor limit), so that a process
touching ten thousand connections closes idle sockets rather than run out of descriptors.
"""

from __future__ import annotations

import os
import resource
import threading
import weakref
from collections import OrderedDict, deque
from time import monotonic
from typing import Protocol

from urllib3.exceptions import PoolError

from zato_outconn.exceptions import ConfigError

MAX_SOCKETS_ENV = 'ZATO_OUTCONN_MAX_SOCKETS'


class SocketsBusy(PoolError):
    """Every place of a budget stayed taken, each socket busy, for the connect timeout."""

    def __init__(self, size: int, whose: str) -> None:
        self.size = size
        self.whose = whose
        super().__init__(None, f'all {size} sockets {whose} are busy')  # type: ignore[arg-type]


class SocketBudget:
    """At most ``size`` sockets open at once for one connection name.

    A caller who finds every place taken closes an idle socket of one of the budget's pools to take
    its place (an old generation's, or the current one's; the pool idle longest first), and waits
    only while every open socket is busy. Without that, callers of a generation retired with calls
    in flight could wait for places that the newer generation's idle sockets keep.
    """

    __slots__ = ('__weakref__', '_condition', '_events', '_idle', '_newest', '_open', '_queue', 'size', 'whose')

    def __init__(self, size: int, whose: str = 'of the connection') -> None:
        self.size = size
        self.whose = whose
        self._open = 0
        # Those waiting for a place, in the order they came.
        self._queue: deque[object] = deque()
        # Bumped whenever a place may have become free: a socket closed, or one went back idle.
        self._events = 0
        self._condition = threading.Condition(threading.Lock())
        # The pools that may hold idle sockets, the one whose socket went idle longest ago first.
        self._idle: OrderedDict[int, weakref.ref[IdleSockets]] = OrderedDict()
        # The last of those (its reference), or None: read without the lock by went_idle.
        self._newest: weakref.ref[IdleSockets] | None = None

    @property
    def waiting(self) -> int:
        """How many callers wait for a place."""
        return len(self._queue)

    def take(self, wait: float | None) -> None:
        """Take a place, waiting at most ``wait`` seconds for one (None: as long as it takes).

        Those who wait are served in turn: a caller of a retired generation, which holds a place of
        its pool while it waits, is not overtaken for ever by callers of the newer one.
        """
        with self._condition:
            if self._open < self.size and not self._queue:
                self._open += 1
                return
            turn = object()
            self._queue.append(turn)
        end = None if wait is None else monotonic() + wait
        try:
            while True:
                with self._condition:
                    first = self._queue[0] is turn
                    if first and self._open < self.size:
                        self._queue.popleft()
                        self._open += 1
                        return
                    seen = self._events
                if first and self._close_an_idle_socket():
                    continue
                with self._condition:
                    if self._events != seen:
                        continue
                    remaining = None if end is None else end - monotonic()
                    if remaining is not None and remaining <= 0:
                        raise SocketsBusy(self.size, self.whose)
                    self._condition.wait(remaining)
        finally:
            with self._condition:
                if turn in self._queue:
                    # Given up: the next in line may be served now.
                    self._queue.remove(turn)
                    self._events += 1
                    self._condition.notify_all()

    def give_back(self) -> None:
        with self._condition:
            self._open -= 1
            self._events += 1
            self._condition.notify_all()

    def went_idle(self, pool: IdleSockets) -> None:
        """A socket went back to this pool: one waiting for a place may now close it."""
        newest = self._newest
        if newest is not None and newest() is pool and not self._queue:
            # Most calls hand a socket back to the pool that did so last, with nobody waiting: it is
            # last in line already, and no lock is taken. A pool taken out of the line has stopped
            # being the newest by then (see _close_an_idle_socket), and its socket was put back
            # before this look, so that whoever took it out sees that socket.
            return
        key = id(pool)
        with self._condition:
            idle = self._idle
            ref = idle.get(key)
            if ref is None or ref() is not pool:
                # New, or a pool gone whose id this one has now.
                ref = idle[key] = weakref.ref(pool)
            idle.move_to_end(key)
            self._newest = ref
            if self._queue:
                self._events += 1
                self._condition.notify_all()

    def resize(self, size: int) -> None:
        """A new pool_size: more places wake those waiting; fewer take effect as sockets close."""
        with self._condition:
            self.size = size
            self._events += 1
            self._condition.notify_all()

    def _close_an_idle_socket(self) -> bool:
        while True:
            with self._condition:
                if not self._idle:
                    return False
                key, ref = self._idle.popitem(last=False)
                self._newest = self._last_in_line()
            pool = ref()
            if pool is not None and pool.close_one_idle():
                with self._condition:
                    # It may hold more idle sockets: it stays first in line.
                    if key not in self._idle:
                        self._idle[key] = ref
                        self._idle.move_to_end(key, last=False)
                        self._newest = self._last_in_line()
                return True

    def _last_in_line(self) -> weakref.ref[IdleSockets] | None:
        """The reference of the pool whose socket went idle last; the caller holds the lock."""
        return self._idle[next(reversed(self._idle))] if self._idle else None


class IdleSockets(Protocol):
    """What a budget needs of a pool: that it can close one of its idle sockets."""

    def close_one_idle(self) -> bool: ...


class SocketBudgets:
    """The budgets of one registry's connections, one per transport and name, for as long as some
    generation of the connection holds it. Each registry has its own: two runtimes in a process may
    each have a connection of the same name, to different places."""

    def __init__(self) -> None:
        self._budgets: weakref.WeakValueDictionary[str, SocketBudget] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def for_connection(self, transport: str, name: str, size: int) -> SocketBudget:
        """The budget of the connection of this transport and name, at this pool_size."""
        key = f'{transport}/{name}'
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                budget = self._budgets[key] = SocketBudget(size)
            elif budget.size != size:
                budget.resize(size)
            return budget


# Those of connections made outside a registry.
SHARED = SocketBudgets()


def default_max_sockets() -> int:
    """ZATO_OUTCONN_MAX_SOCKETS, else the file descriptor limit less a fifth (at least 256) for files,
    the database and the sockets of servers."""
    value = os.environ.get(MAX_SOCKETS_ENV)
    if value:
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise ConfigError(MAX_SOCKETS_ENV, f'must be a positive number of sockets; got {value!r}')
        return count
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, soft - max(256, soft // 5))


# Every socket of every connection of this process.
PROCESS_WHOSE = f'this process may open ({MAX_SOCKETS_ENV})'
PROCESS = SocketBudget(default_max_sockets(), whose=PROCESS_WHOSE)
