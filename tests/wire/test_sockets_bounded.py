"""Sockets are bounded: idle ones close after ZATO_OUTCONN_IDLE_TIMEOUT, and a process never opens more
than ZATO_OUTCONN_MAX_SOCKETS, however many connections it touches."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from zato_outconn import PoolTimeout
from zato_outconn.wire import pool
from zato_outconn.wire.budget import PROCESS_WHOSE, SocketBudget, default_max_sockets

from tests.support.raw_servers import SocketSampler, established_to


@pytest.fixture(autouse=True)
def fresh_process_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts from none, as a new process does: the process-wide budget also counts the sockets
    earlier tests' connections still hold (a streamed answer nobody has closed yet, say), which would
    take places a cap of two or three cannot spare."""
    monkeypatch.setattr(pool, 'PROCESS', SocketBudget(default_max_sockets(), whose=PROCESS_WHOSE))


def wait_until(check: Any, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_an_idle_socket_closes_after_the_idle_timeout(make_conn: Any, http_server: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_IDLE_TIMEOUT', '0.2')
    item = make_conn()
    item.conn.get('cid-1')
    assert established_to(http_server.port) == 1
    # No call takes it again: the reaper closes it.
    assert wait_until(lambda: established_to(http_server.port) == 0)
    assert item.conn.get('cid-2').status_code == 200
    assert len(http_server.recorder.client_ports) == 2


def test_a_socket_used_within_the_idle_timeout_is_kept(make_conn: Any, http_server: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_IDLE_TIMEOUT', '5')
    item = make_conn()
    for number in range(5):
        item.conn.get(f'cid-{number}')
        time.sleep(0.05)
    assert len(http_server.recorder.client_ports) == 1


def test_a_process_opens_at_most_max_sockets_across_connections(make_conn: Any, http_server: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_MAX_SOCKETS', '5')
    items = [make_conn(f'CRM {number}') for number in range(30)]
    with SocketSampler(http_server.port) as sockets:
        for item in items:
            assert item.conn.get('cid-1').status_code == 200
    # Each new connection closed an idle socket of another to take its place.
    assert 1 <= sockets.most <= 5
    assert established_to(http_server.port) <= 5


def test_callers_wait_for_a_place_then_get_a_pool_timeout_naming_the_setting(
        make_conn: Any, http_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_MAX_SOCKETS', '2')
    first = make_conn('First', connect_timeout=0.3)
    second = make_conn('Second', connect_timeout=0.3)
    third = make_conn('Third', connect_timeout=0.3)
    held = [first.conn.get('cid-1', prefetch=False), second.conn.get('cid-2', prefetch=False)]
    try:
        with pytest.raises(PoolTimeout, match='ZATO_OUTCONN_MAX_SOCKETS'):
            third.conn.get('cid-3')
    finally:
        for response in held:
            response.close()
    assert third.conn.get('cid-4').status_code == 200


def test_threads_share_the_process_s_sockets(make_conn: Any, http_server: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_MAX_SOCKETS', '3')
    items = [make_conn(f'CRM {number}', url_path='/sleep/0.05') for number in range(8)]
    errors: list[BaseException] = []

    def work(item: Any) -> None:
        try:
            for _ in range(4):
                item.conn.get('cid-t')
        except BaseException as error:  # noqa: BLE001 - the test's business
            errors.append(error)

    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    with SocketSampler(http_server.port) as sockets:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert sockets.most <= 3


FD_SCRIPT = textwrap.dedent('''
    import json, os, resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    from zato_outconn import OutconnConfig
    from zato_outconn.conn.headers import Component
    from zato_outconn.conn.http import HTTPConnection

    conns = [HTTPConnection(OutconnConfig(name=f'C{n}', host=sys.argv[1]), None, Component())
             for n in range(2000)]
    statuses = set()
    for conn in conns:
        statuses.add(conn.get('cid').status_code)
    print(json.dumps({'statuses': sorted(statuses), 'fds': len(os.listdir('/proc/self/fd'))}))
''')


def test_touching_two_thousand_connections_never_runs_out_of_descriptors(http_server: Any, tmp_path: Any) -> None:
    script = tmp_path / 'many.py'
    script.write_text(FD_SCRIPT)
    finished = subprocess.run([sys.executable, str(script), http_server.url], capture_output=True, text=True,
                              timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    # A limit of 256 descriptors leaves room for 16 sockets by default; 2000 connections were called.
    assert result['statuses'] == [200]
    assert result['fds'] < 128
