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

from urllib3.exceptions import PoolError


class SocketsBusy(PoolError):
    """Every place of a connection's budget stayed taken for the connect timeout."""

    def __init__(self, size: int) -> None:
        super().__init__(None, f'all {size} sockets of the connection are open')  # type: ignore[arg-type]


class SocketBudget:
    """At most ``size`` sockets open at once for one connection name."""

    __slots__ = ('__weakref__', '_condition', '_open', 'size')

    def __init__(self, size: int) -> None:
        self.size = size
        self._open = 0
        self._condition = threading.Condition(threading.Lock())

    @property
    def open(self) -> int:
        return self._open

    def take(self, wait: float | None) -> None:
        """Take a place, waiting at most ``wait`` seconds for one (None: as long as it takes)."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._open < self.size, timeout=wait):
                raise SocketsBusy(self.size)
            self._open += 1

    def give_back(self) -> None:
        with self._condition:
            self._open -= 1
            self._condition.notify()

    def resize(self, size: int) -> None:
        """A new pool_size: more places wake those waiting; fewer take effect as sockets close."""
        with self._condition:
            self.size = size
            self._condition.notify_all()


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
