"""Every running process follows changes: real separate processes on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
import trustme

from zato_outconn import OutconnConfig, SecurityConfig, Store
from zato_outconn.store.secret_box import KEYS_ENV
from zato_outconn.sync.changes import CHANNEL

from tests.conftest import upgraded
from tests.support.cli_runner import CLI, basic_token
from tests.support.servers import RecordingServer
from tests.support.tls_servers import TLSServer, client_identity

INTERVAL = 0.2
DEADLINE = 10.0
CHECKOUT = Path(__file__).resolve().parents[2]


class NodeProcess:
    """One separate process running a following Runtime on the database."""

    def __init__(self, db_url: str, interval: float = INTERVAL, module: str = 'tests.support.node_process') -> None:
        self.process = subprocess.Popen(
            [sys.executable, '-m', module, db_url, str(interval)], cwd=CHECKOUT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        started = self._read()
        assert started.get('ready'), started
        self.pid = int(started['pid'])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f'the node process ended (exit code {self.process.poll()})'
        return dict(json.loads(line))

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + '\n')
        self.process.stdin.flush()
        answer = self._read()
        assert 'exception' not in answer, answer
        return answer

    def until(self, check: Callable[[dict[str, Any]], bool], **command: Any) -> dict[str, Any]:
        """Ask again until the answer passes the check, for DEADLINE seconds at most."""
        deadline = time.monotonic() + DEADLINE
        while True:
            answer = self.ask(**command)
            if check(answer):
                return answer
            assert time.monotonic() < deadline, f'still {answer} after {DEADLINE} s'
            time.sleep(0.02)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write('{"quit": true}\n')
            self.process.stdin.flush()
            self.process.wait(timeout=20)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def nodes(db_url: str) -> Iterator[Callable[[], NodeProcess]]:
    started: list[NodeProcess] = []

    def start() -> NodeProcess:
        started.append(NodeProcess(db_url))
        return started[-1]

    yield start
    for node in started:
        node.close()


def test_every_change_reaches_every_process(store: Store, nodes: Callable[[], NodeProcess],
                                            http_server: RecordingServer) -> None:
    first, second = nodes(), nodes()
    store.create_outconn(OutconnConfig(name='CRM', host='http://a.example.com'))
    for node in (first, second):
        node.until(lambda answer: answer['host'] == 'http://a.example.com', get='CRM')

    store.edit_outconn('plain_http', 'CRM', {'host': http_server.url})
    for node in (first, second):
        node.until(lambda answer: answer['host'] == http_server.url, get='CRM')
        assert node.ask(call='CRM')['status'] == 200

    store.edit_outconn('plain_http', 'CRM', {'is_active': False})
    for node in (first, second):
        node.until(lambda answer: answer['active'] is False, get='CRM')
        assert node.ask(call='CRM')['error'] == 'Inactive'

    store.edit_outconn('plain_http', 'CRM', {'name': 'CRM v2', 'is_active': True})
    for node in (first, second):
        node.until(lambda answer: answer['host'] is None, get='CRM')
        node.until(lambda answer: answer['host'] == http_server.url, get='CRM v2')

    store.delete_outconn('plain_http', 'CRM v2')
    for node in (first, second):
        node.until(lambda answer: answer['host'] is None, get='CRM v2')

    # Both nodes say they run the latest change.
    latest = store.last_change()
    for node in (first, second):
        node.until(lambda answer: answer['applied'] == latest, get='CRM')
    deadline = time.monotonic() + DEADLINE
    while True:
        listed = {record.pid: record for record in store.list_nodes()}
        if {first.pid, second.pid} <= set(listed) and all(
                listed[pid].applied_change == latest for pid in (first.pid, second.pid)):
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.05)
    now = datetime.now(timezone.utc)
    assert {listed[pid].status(latest, now) for pid in (first.pid, second.pid)} == {'current'}


def test_a_new_secret_reaches_every_process(store: Store, nodes: Callable[[], NodeProcess],
                                            http_server: RecordingServer) -> None:
    store.create_security(SecurityConfig(name='basic', sec_type='basic_auth', username='alice', secret='old-pw-1'))
    store.create_outconn(OutconnConfig(name='CRM', host=http_server.url, security='basic'))
    node = nodes()
    sent = node.until(lambda answer: answer.get('status') == 200, call='CRM')['json']['headers']['Authorization']
    assert sent == f'Basic {basic_token("alice", "old-pw-1")}'
    store.set_secret('basic', 'new-pw-2')
    node.until(lambda answer: answer['json']['headers']['Authorization'] == f'Basic {basic_token("alice", "new-pw-2")}',
               call='CRM')


def test_calls_in_flight_across_an_edit_all_succeed(store: Store, nodes: Callable[[], NodeProcess],
                                                    http_server: RecordingServer) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host=http_server.url, url_path='/sleep/0.05', pool_size=50))
    node = nodes()
    node.until(lambda answer: answer['host'] == http_server.url, get='CRM')
    assert node.process.stdin is not None
    # The burst runs in the node while this process edits the connection under it.
    node.process.stdin.write(json.dumps({'burst': 'CRM', 'count': 200}) + '\n')
    node.process.stdin.flush()
    time.sleep(0.1)
    for timeout in (7, 8, 9):
        store.edit_outconn('plain_http', 'CRM', {'read_timeout': timeout})
        time.sleep(INTERVAL)
    answer = node._read()
    assert answer['ok'] == answer['count'] == 200


def test_a_killed_process_shows_as_silent_then_is_forgotten(store: Store, db_url: str, tmp_path: Path,
                                                            nodes: Callable[[], NodeProcess]) -> None:
    alive, killed = nodes(), nodes()
    os.kill(killed.pid, signal.SIGKILL)
    killed.process.wait(timeout=10)
    deadline = time.monotonic() + DEADLINE
    while True:
        [record] = [record for record in store.list_nodes() if record.pid == killed.pid]
        if record.status(store.last_change(), datetime.now(timezone.utc)) == 'silent':
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)

    cli = CLI(tmp_path, **{KEYS_ENV: os.environ.get(KEYS_ENV)})
    listed = {item['pid']: item for item in cli.ok('--db', db_url, 'nodes', 'list', '--format', 'json').json}
    assert (listed[alive.pid]['status'], listed[killed.pid]['status']) == ('current', 'silent')
    table = cli.ok('--db', db_url, 'nodes', 'list').out
    assert table.startswith(f'latest change: {store.last_change()}') and 'silent' in table and 'current' in table

    # Long silent nodes are forgotten; the living one beats again at once.
    store.prune_nodes(silent_for=3 * INTERVAL)
    assert killed.pid not in {record.pid for record in store.list_nodes()}


@pytest.mark.parametrize('empty_db_url', ['postgresql'], indirect=True)
def test_notifications_carry_ids_and_versions_never_secrets(store: Store, db_url: str) -> None:
    url = store.engine.url.set(drivername='postgresql').render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f'LISTEN {CHANNEL}')
        store.create_security(SecurityConfig(name='basic', sec_type='basic_auth', username='alice',
                                             secret='n0tify-S3CRET'))
        store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', security='basic'))
        store.set_secret('basic', 'an0ther-S3CRET')
        payloads = [notify.payload for notify in listener.notifies(timeout=2, stop_after=3)]
    assert len(payloads) == 3
    for payload in payloads:
        assert set(json.loads(payload)) == {'change', 'kind', 'id', 'version', 'action'}
        assert 'S3CRET' not in payload and len(payload) < 8000
    assert [json.loads(payload)['change'] for payload in payloads] == [1, 2, 3]


def test_a_database_restart_loses_nothing(own_postgres: Any, http_server: RecordingServer) -> None:
    db_url = upgraded(own_postgres.url)
    store = Store(db_url)
    node = NodeProcess(db_url)
    try:
        store.create_outconn(OutconnConfig(name='CRM', host=http_server.url))
        node.until(lambda answer: answer['host'] == http_server.url, get='CRM')

        own_postgres.stop()
        # The database is gone; the node goes on calling with what it has.
        time.sleep(3 * INTERVAL)
        assert node.ask(call='CRM')['status'] == 200
        own_postgres.start()

        store.edit_outconn('plain_http', 'CRM', {'url_path': '/after-restart'})
        answer = node.until(lambda answer: answer.get('json', {}).get('path') == '/after-restart', call='CRM')
        assert answer['applied'] == store.last_change()
        deadline = time.monotonic() + DEADLINE
        while True:
            [record] = [record for record in store.list_nodes() if record.pid == node.pid]
            if record.status(store.last_change(), datetime.now(timezone.utc)) == 'current':
                break
            assert time.monotonic() < deadline, record
            time.sleep(0.1)
    finally:
        node.close()
        store.close()


def test_a_new_client_certificate_reaches_every_process(store: Store, nodes: Callable[[], NodeProcess]) -> None:
    ca = trustme.CA()
    one, two = client_identity(ca, 'client-one'), client_identity(ca, 'client-two')
    with TLSServer(ca, client_ca=ca) as server:
        store.create_security(one.definition('bank-cert'))
        store.create_outconn(OutconnConfig(name='Bank', host=server.url, ca_bundle=ca.cert_pem.bytes().decode(),
                                           security='bank-cert'))
        node = nodes()
        assert node.until(lambda answer: 'status' in answer, call='Bank')['json']['client'] == 'client-one'
        store.edit_security('bank-cert', {'client_cert': two.cert_pem, 'secret': two.key_pem})
        # The pool with the old certificate in its TLS context is replaced, in the other process too.
        node.until(lambda answer: answer['json']['client'] == 'client-two', call='Bank')


@pytest.mark.parametrize('empty_db_url', ['postgresql'], indirect=True)
def test_under_gevent_the_listener_never_blocks_the_hub(store: Store, db_url: str,
                                                        http_server: RecordingServer) -> None:
    node = NodeProcess(db_url, interval=1.0, module='tests.support.gevent_node')
    try:
        store.create_outconn(OutconnConfig(name='CRM', host='http://a.example.com'))
        node.until(lambda answer: answer['host'] == 'http://a.example.com', get='CRM')
        # The listener waits on its socket for a whole interval (1 s) at a time; other greenlets still run.
        # A hub it blocked would show a gap of about the interval; the bound leaves room for a busy machine.
        assert node.ask(ticks=2.5)['longest_gap'] < 0.6
        store.edit_outconn('plain_http', 'CRM', {'host': http_server.url})
        node.until(lambda answer: answer['host'] == http_server.url, get='CRM')
        assert node.ask(call='CRM')['status'] == 200
    finally:
        node.close()
