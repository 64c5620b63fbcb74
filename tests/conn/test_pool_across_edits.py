"""pool_size caps the sockets open to a connection's remote end while its template is edited."""

from __future__ import annotations

import threading
from typing import Any

from zato_outconn import PoolTimeout

from tests.support.raw_servers import SocketSampler


def hammer(runtime: Any, name: str, stop: threading.Event, errors: list[BaseException], calls: list[int]) -> None:
    # As service code does: the connection is looked up by name for each call.
    while not stop.is_set():
        try:
            calls.append(runtime.outgoing.plain_http[name].conn.get('cid-e').status_code)
        except BaseException as error:  # noqa: BLE001 - every failure is the test's business
            errors.append(error)


def test_edits_while_calls_run_never_open_more_than_pool_size(runtime: Any, make_conn: Any,
                                                              http_server: Any) -> None:
    make_conn(url_path='/sleep/0.05', pool_size=4)
    stop = threading.Event()
    errors: list[BaseException] = []
    calls: list[int] = []
    threads = [threading.Thread(target=hammer, args=(runtime, 'CRM', stop, errors, calls)) for _ in range(12)]
    with SocketSampler(http_server.port) as sockets:
        for thread in threads:
            thread.start()
        try:
            for number in range(12):
                runtime.store.edit_outconn('plain_http', 'CRM', {'read_timeout': 5 + number})
                stop.wait(0.08)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert errors == []
    assert len(calls) > 50 and set(calls) == {200}
    # Twelve generations of the connection came and went; never more than four sockets at once.
    assert 1 <= sockets.most <= 4


def test_a_bigger_pool_size_takes_effect_at_once(runtime: Any, make_conn: Any, http_server: Any) -> None:
    item = make_conn(pool_size=1, connect_timeout=0.3)
    held = item.conn.get('cid-1', prefetch=False)
    try:
        runtime.store.edit_outconn('plain_http', 'CRM', {'pool_size': 2})
        # The old generation still holds its one socket; the new one may open a second.
        assert runtime.outgoing.plain_http['CRM'].conn.get('cid-2').status_code == 200
    finally:
        held.close()


def test_the_old_generation_s_sockets_count_until_they_close(runtime: Any, make_conn: Any) -> None:
    item = make_conn(pool_size=1, connect_timeout=0.3)
    held = item.conn.get('cid-1', prefetch=False)  # keeps the only socket
    runtime.store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3})
    fresh = runtime.outgoing.plain_http['CRM']
    assert fresh.conn is not item.conn
    try:
        raised = None
        try:
            fresh.conn.get('cid-2')
        except PoolTimeout as error:
            raised = error
        assert raised is not None and 'pool_size' in str(raised)
    finally:
        held.close()
    # Closed, the socket gives its place back to the connection's newer generation.
    assert fresh.conn.get('cid-3').status_code == 200


def test_connections_of_other_names_have_budgets_of_their_own(make_conn: Any) -> None:
    first = make_conn('First', pool_size=1, connect_timeout=0.3)
    second = make_conn('Second', pool_size=1, connect_timeout=0.3)
    held = first.conn.get('cid-1', prefetch=False)
    try:
        assert second.conn.get('cid-2').status_code == 200
    finally:
        held.close()
