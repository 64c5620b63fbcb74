"""pool_size as a cap on the sockets open to a connection's remote end, across its generations.

Each edit of a template builds a new session and pool, while the old one drains the calls in
flight on it. A pool on its own caps only its own sockets, so during edits a connection could
hold several pools' worth at once. The sockets of every generation of one connection name count
against one ``SocketBudget`` instead: a socket takes a place from it when it connects and gives it
back when it closes.
"""

from __future__ import annotations

import threading
import weakref
from time import monotonic
from typing import Protocol

from urllib3.exceptions import PoolError


class SocketsBusy(PoolError):
    """Every place of a connection's budget stayed taken for the connect timeout."""

    def __init__(self, size: int) -> None:
        super().__init__(None, f'all {size} sockets of the connection are open')  # type: ignore[arg-type]


class SocketBudget:
    """At most ``size`` sockets open at once for one connection name.

    A caller who finds every place taken closes an idle socket of any of the connection's pools to
    take its place (an old generation's, or the current one's), and waits only while every open
    socket is busy. Without that, callers of a generation retired with calls in flight could wait
    for places that the newer generation's idle sockets keep.
    """

    __slots__ = ('__weakref__', '_condition', '_events', '_open', '_pools', '_waiting', 'size')

    def __init__(self, size: int) -> None:
        self.size = size
        self._open = 0
        self._waiting = 0
        # Bumped whenever a place may have become free: a socket closed, or one went back idle.
        self._events = 0
        self._condition = threading.Condition(threading.Lock())
        self._pools: weakref.WeakSet[IdleSockets] = weakref.WeakSet()

    @property
    def open(self) -> int:
        return self._open

    def register(self, pool: IdleSockets) -> None:
        """A pool whose sockets count against this budget."""
        self._pools.add(pool)

    def take(self, wait: float | None) -> None:
        """Take a place, waiting at most ``wait`` seconds for one (None: as long as it takes)."""
        end = None if wait is None else monotonic() + wait
        while True:
            with self._condition:
                if self._open < self.size:
                    self._open += 1
                    return
                self._waiting += 1
                seen = self._events
            try:
                if self._close_an_idle_socket():
                    continue
                with self._condition:
                    if self._events != seen or self._open < self.size:
                        continue
                    remaining = None if end is None else end - monotonic()
                    if remaining is not None and remaining <= 0:
                        raise SocketsBusy(self.size)
                    self._condition.wait(remaining)
            finally:
                with self._condition:
                    self._waiting -= 1

    def give_back(self) -> None:
        with self._condition:
            self._open -= 1
            self._events += 1
            self._condition.notify_all()

    def went_idle(self) -> None:
        """A socket went back to its pool: one waiting for a place may now close it."""
        if self._waiting:
            with self._condition:
                self._events += 1
                self._condition.notify_all()

    def resize(self, size: int) -> None:
        """A new pool_size: more places wake those waiting; fewer take effect as sockets close."""
        with self._condition:
            self.size = size
            self._events += 1
            self._condition.notify_all()

    def _close_an_idle_socket(self) -> bool:
        return any(pool.close_one_idle() for pool in list(self._pools))


class IdleSockets(Protocol):
    """What a budget needs of a pool: that it can close one of its idle sockets."""

    def close_one_idle(self) -> bool: ...


# One budget per connection name, for as long as some generation of the connection holds it.
_budgets: weakref.WeakValueDictionary[str, SocketBudget] = weakref.WeakValueDictionary()
_budgets_lock = threading.Lock()


def budget_for(name: str, size: int) -> SocketBudget:
    """The budget of the connection of this name, at this pool_size."""
    with _budgets_lock:
        budget = _budgets.get(name)
        if budget is None:
            budget = _budgets[name] = SocketBudget(size)
        elif budget.size != size:
            budget.resize(size)
        return budget
