"""``zato-outconn outconn stats NAME``: from a running admin's /metrics, or from a server's metrics folder."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from zato_outconn import Store, metrics
from zato_outconn.cli.stats_command import TOKEN_ENV

from tests.admin.conftest import make_app
from tests.support.cli_runner import CLI, assert_one_error_line
from tests.support.servers import BackgroundServer, refused_port


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


class AdminServer(BackgroundServer):
    """The admin app of a store, served on 127.0.0.1 in a thread: its /metrics is this process's."""

    def __init__(self, store: Store) -> None:
        super().__init__(make_server('127.0.0.1', 0, make_app(store), server_class=WSGIServer, handler_class=_Quiet))


@pytest.fixture
def admin(sqlite_url: str) -> Iterator[tuple[AdminServer, str]]:
    store = Store(sqlite_url)
    token = store.create_token('stats-reader', 'viewer')[1]
    try:
        with AdminServer(store) as server:
            yield server, token
    finally:
        store.close()


def _record(name: str) -> None:
    for _ in range(9):
        metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.03)  # in (0.025, 0.05]
    metrics.observe_attempt(name, 'plain_http', 'GET', None, 3.0)  # in (2.5, 5]
    metrics.count_error(name, 'ReadTimeout')
    metrics.count_retry(name)


def test_stats_read_from_the_metrics_endpoint(tmp_path: Path, admin: tuple[AdminServer, str]) -> None:
    server, token = admin
    name = f'CRM {uuid.uuid4().hex[:8]}'
    _record(name)
    cli = CLI(tmp_path, **{TOKEN_ENV: token})
    url = f'{server.url}/metrics'
    figures = cli.ok('outconn', 'stats', name, '--url', url, '--format', 'json').json
    assert figures['calls'] == 10 and figures['errors'] == 1 and figures['retries'] == 1
    assert figures['codes'] == {'200': 9, 'error': 1}
    assert 0.025 < figures['p50'] <= 0.05 and 2.5 < figures['p99'] <= 5.0
    assert figures['source'] == url
    table = cli.ok('outconn', 'stats', name, '--url', url).out
    lines = dict(line.split(None, 1) if ' ' in line.strip() else (line, '') for line in table.splitlines())
    assert lines['calls'].strip() == '10' and lines['errors'].strip() == '1'
    assert lines['p50'].strip().endswith(' ms') and lines['codes'].strip() == '200: 9, error: 1'
    # A connection with no calls yet: zeros, and no percentiles.
    unused = cli.ok('outconn', 'stats', 'never called', '--url', url, '--format', 'json').json
    assert unused['calls'] == 0 and unused['p50'] is None


def test_stats_without_a_token_or_a_server_fail_saying_what_to_do(tmp_path: Path,
                                                                  admin: tuple[AdminServer, str]) -> None:
    server, _ = admin
    cli = CLI(tmp_path, **{TOKEN_ENV: None})
    cli.env.pop('PROMETHEUS_MULTIPROC_DIR', None)
    assert_one_error_line(cli.run('outconn', 'stats', 'CRM', '--url', f'{server.url}/metrics'), TOKEN_ENV)
    cli.set_env(**{TOKEN_ENV: 'not-a-token'})
    assert_one_error_line(cli.run('outconn', 'stats', 'CRM', '--url', f'{server.url}/metrics'), 'answered 401')
    assert_one_error_line(cli.run('outconn', 'stats', 'CRM', '--url', f'http://127.0.0.1:{refused_port()}/metrics'),
                          'is zato-outconn serve running there?')
    assert_one_error_line(cli.run('outconn', 'stats', 'CRM', '--url', f'{server.url}/healthz'), 'not Prometheus text')


def test_inside_the_servers_environment_stats_read_its_metrics_folder(tmp_path: Path) -> None:
    name = f'CRM {uuid.uuid4().hex[:8]}'
    folder = tmp_path / 'metrics'
    folder.mkdir()
    env = {**os.environ, 'PROMETHEUS_MULTIPROC_DIR': str(folder)}
    # Two processes of a server record, each in its own files.
    for _ in range(2):
        subprocess.run([sys.executable, '-c', 'import sys; from tests.cli.test_outconn_stats import _record; '
                        '_record(sys.argv[1])', name], env=env, check=True, cwd=Path(__file__).parents[2])
    cli = CLI(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder))
    figures = cli.ok('outconn', 'stats', name, '--format', 'json').json
    assert figures['calls'] == 20 and figures['errors'] == 2 and figures['retries'] == 2
    assert figures['source'] == str(folder)
    assert cli.ok('outconn', 'stats', name, '--transport', 'soap', '--format', 'json').json['calls'] == 0
