"""The line of pools with idle sockets a budget keeps: the pool idle longest is asked first, and a pool
taken out of the line comes back the next time one of its sockets goes idle."""

from __future__ import annotations

import threading

from zato_outconn.wire.budget import SocketBudget


class _Pool:
    """A pool holding ``idle`` idle sockets, closed one at a time when a budget asks."""

    def __init__(self, name: str, idle: int, asked: list[str]) -> None:
        self.name = name
        self.idle = idle
        self.asked = asked

    def close_one_idle(self) -> bool:
        self.asked.append(self.name)
        if self.idle:
            self.idle -= 1
            return True
        return False


def test_the_pool_idle_longest_gives_its_socket_first() -> None:
    asked: list[str] = []
    budget = SocketBudget(2)
    first, second = _Pool('first', 1, asked), _Pool('second', 1, asked)
    for pool in (first, second, first, second, second):
        budget.went_idle(pool)
    assert budget._close_an_idle_socket()
    assert asked == ['first']


def test_a_pool_out_of_the_line_comes_back_when_a_socket_of_its_goes_idle() -> None:
    asked: list[str] = []
    budget = SocketBudget(1)
    pool = _Pool('only', 1, asked)
    budget.went_idle(pool)
    assert budget._close_an_idle_socket()  # its one idle socket; it stays in line
    assert not budget._close_an_idle_socket()  # none left: out of the line
    assert asked == ['only', 'only']
    pool.idle = 1
    budget.went_idle(pool)  # the last in line before, but out of it since: back in
    assert budget._close_an_idle_socket()
    assert asked == ['only', 'only', 'only']


def test_a_socket_going_idle_wakes_a_caller_waiting_for_a_place() -> None:
    budget = SocketBudget(1)
    budget.take(None)

    class Closing(_Pool):
        def close_one_idle(self) -> bool:
            closed = super().close_one_idle()
            if closed:
                budget.give_back()  # as a socket closing gives its place back
            return closed

    pool = Closing('busy', 0, [])
    budget.went_idle(pool)  # the last in line, nobody waiting yet
    taken = threading.Event()

    def wait_for_a_place() -> None:
        budget.take(5.0)
        taken.set()

    waiter = threading.Thread(target=wait_for_a_place)
    waiter.start()
    while not budget.waiting:
        threading.Event().wait(0.01)
    assert not taken.is_set()
    pool.idle = 1
    budget.went_idle(pool)  # the same pool again, but someone waits now: woken, it closes that socket
    assert taken.wait(5.0)
    waiter.join()
    assert pool.idle == 0
