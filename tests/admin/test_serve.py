"""``zato-outconn serve`` as a user starts it: the installed command in a subprocess, called over the network."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from cryptography.fernet import Fernet

from zato_outconn import Store
from zato_outconn.admin.settings import SECRET_KEY_ENV
from zato_outconn.store.engine import DB_ENV
from zato_outconn.store.secret_box import KEYS_ENV

from tests.conftest import upgraded
from tests.support.cli_runner import CLI, EXECUTABLE, LOG_LEVEL_ENV, assert_one_error_line
from tests.support.servers import RecordingServer

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def clean_env(**env: str) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items()
               if key not in (DB_ENV, KEYS_ENV, SECRET_KEY_ENV, LOG_LEVEL_ENV)}
    return {**environ, **env}


def client(**settings: Any) -> requests.Session:
    session = requests.Session()
    # This machine's REQUESTS_CA_BUNDLE would otherwise override verify=.
    session.trust_env = False
    for key, value in settings.items():
        setattr(session, key, value)
    return session


@dataclass
class Served:
    url: str
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def out(self) -> str:
        return (self.folder / 'serve.out').read_text()

    @property
    def err(self) -> str:
        return (self.folder / 'serve.err').read_text()


@contextmanager
def serving(folder: Path, *serve_args: str, env: dict[str, str], db_url: str | None = None,
            probe: requests.Session | None = None) -> Iterator[Served]:
    """``zato-outconn [--db URL] serve --port P ...`` in ``folder``, until it answers /healthz; stopped after."""
    port = free_port()
    command = [str(EXECUTABLE), *(('--db', db_url) if db_url else ()), 'serve', '--port', str(port), *serve_args]
    with open(folder / 'serve.out', 'wb') as out, open(folder / 'serve.err', 'wb') as err:
        process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    served = Served(f'{"https" if "--certfile" in serve_args else "http"}://127.0.0.1:{port}', folder, process)
    try:
        _wait_until_ready(served, probe or client())
        yield served
    finally:
        # gunicorn stops its workers and exits on SIGTERM.
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(served: Served, probe: requests.Session) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f'serve exited with {served.process.returncode}\nstdout:\n{served.out}\nstderr:\n{served.err}')
        try:
            if probe.get(f'{served.url}/healthz', timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f'serve did not answer within {START_TIMEOUT} s\nstdout:\n{served.out}\nstderr:\n{served.err}')


def test_the_embedded_default_creates_its_database_and_first_admin(tmp_path: Path) -> None:
    with serving(tmp_path, env=clean_env()) as served:
        lines = served.out.splitlines()
        password_file = tmp_path / 'zato-outconn.db.admin-password'
        assert f'Serving the web admin and JSON API at {served.url}' in lines[0]
        assert 'embedded SQLite default' in lines[1] and str(tmp_path / 'zato-outconn.db') in lines[1]
        assert str(password_file) in lines[2] and 'admin' in lines[2]
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        assert password not in served.out + served.err

        store = Store(f'sqlite:///{tmp_path / "zato-outconn.db"}')
        try:
            assert store.check_password('admin', password) is not None
            token = store.create_token('ci', 'admin')[1]
        finally:
            store.close()
        session = client(headers={'Authorization': f'Bearer {token}'})
        created = session.post(f'{served.url}/api/v1/outconns', json={'name': 'CRM', 'host': 'http://127.0.0.1:9'},
                               timeout=10)
        assert created.status_code == 201, created.text
        listed = session.get(f'{served.url}/api/v1/outconns', params={'q': f'crm-{token}'}, timeout=10)
        assert listed.status_code == 200 and listed.json()['total'] == 0
        assert client().get(f'{served.url}/api/v1/outconns', timeout=10).status_code == 401
        assert created.headers['X-Frame-Options'] == 'DENY'
        _a_slow_ping_blocks_no_other_request(served, session)
    log = served.out
    access = [line for line in log.splitlines() if '/api/v1/outconns ' in line]
    assert [line.split('"')[1].split()[0] + line.split('"')[2].split()[0] for line in access] == [
        'POST201', 'GET200', 'GET401', 'POST201'], log
    assert token not in log + served.err and 'Bearer' not in log and 'q=' not in log


def _a_slow_ping_blocks_no_other_request(served: Served, session: requests.Session) -> None:
    # One worker (the default): while its ping waits for a slow server, gevent serves others.
    with RecordingServer() as slow:
        created = session.post(f'{served.url}/api/v1/outconns', timeout=10,
                               json={'name': 'Slow', 'host': slow.url, 'url_path': '/sleep/2'})
        with ThreadPoolExecutor(1) as pool:
            pinging = pool.submit(session.post, f'{served.url}/api/v1/outconns/{created.json()["id"]}/ping',
                                  timeout=30)
            while not slow.recorder.requests:
                time.sleep(0.05)
            start = time.monotonic()
            assert client().get(f'{served.url}/healthz', timeout=10).status_code == 200
            assert time.monotonic() - start < 1.5
            assert not pinging.done()
            assert pinging.result().json()['ok'] is True


def test_https_with_a_client_certificate_required(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ca.issue_cert('127.0.0.1')
    files = {name: tmp_path / f'{name}.pem' for name in ('cert', 'key', 'ca', 'client')}
    server.cert_chain_pems[0].write_to_path(str(files['cert']))
    server.private_key_pem.write_to_path(str(files['key']))
    ca.cert_pem.write_to_path(str(files['ca']))
    ca.issue_cert('operator@example.com').private_key_and_cert_chain_pem.write_to_path(str(files['client']))
    db_url = upgraded(f'sqlite:///{tmp_path / "admin.db"}')
    env = clean_env(**{SECRET_KEY_ENV: 'a-long-random-secret-key-0123456789', KEYS_ENV: Fernet.generate_key().decode()})
    trusted = client(verify=str(files['ca']), cert=str(files['client']))
    with serving(tmp_path, '--certfile', str(files['cert']), '--keyfile', str(files['key']), '--ca-certs',
                 str(files['ca']), '--require-client-cert', env=env, db_url=db_url, probe=trusted) as served:
        assert served.url.startswith('https://')
        assert served.out.startswith(f'Serving the web admin and JSON API at {served.url}')
        assert 'embedded' not in served.out and not (tmp_path / 'admin.db.admin-password').exists()
        assert trusted.get(f'{served.url}/healthz', timeout=10).json()['status'] == 'ok'
        # No client certificate: the handshake is refused; no trust in the server's: the client refuses.
        with pytest.raises(requests.exceptions.ConnectionError):
            client(verify=str(files['ca'])).get(f'{served.url}/healthz', timeout=10)
        with pytest.raises(requests.exceptions.SSLError):
            client().get(f'{served.url}/healthz', timeout=10)


def test_serve_refuses_to_start_outside_the_embedded_default_without_a_secret_key(tmp_path: Path) -> None:
    db_url = upgraded(f'sqlite:///{tmp_path / "admin.db"}')
    cli = CLI(tmp_path)
    assert_one_error_line(cli.run('--db', db_url, 'serve', '--port', str(free_port())), SECRET_KEY_ENV)
    cli.set_env(**{SECRET_KEY_ENV: 'a-long-random-secret-key-0123456789'})
    assert_one_error_line(cli.run('--db', f'sqlite:///{tmp_path / "none.db"}', 'serve'), 'db upgrade')
    assert_one_error_line(cli.run('serve', '--certfile', str(tmp_path / 'admin.db')), '--keyfile')
    assert_one_error_line(cli.run('serve', '--require-client-cert'), '--ca-certs')


def test_the_command_loads_neither_flask_nor_gunicorn_until_it_serves() -> None:
    code = ('import sys, zato_outconn.cli.serve_command; '
            'loaded = {"flask", "gunicorn", "gevent", "apiflask"} & {name.split(".")[0] for name in sys.modules}; '
            'assert not loaded, loaded')
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.fixture
def embedded_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """ServeOptions for the embedded default in a folder of this test's own."""
    from zato_outconn.admin.serving import ServeOptions

    for name in (DB_ENV, KEYS_ENV, SECRET_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return lambda **options: ServeOptions(db_url='sqlite:///zato-outconn.db', embedded=True, **options)


def test_the_first_password_file_goes_once_the_password_is_changed(tmp_path: Path, embedded_here: Any) -> None:
    from zato_outconn.admin.serving import prepare

    options = embedded_here()
    password_file = tmp_path / 'zato-outconn.db.admin-password'
    first = prepare(options)
    assert any(str(password_file) in line and line.startswith('First login') for line in first.lines)
    # Started again, the password still works: the file is still pointed to.
    assert any(line.startswith('First login') for line in prepare(options).lines)
    store = Store('sqlite:///zato-outconn.db')
    try:
        store.set_user_password('admin', 'An0ther-long-password')
    finally:
        store.close()
    again = prepare(options)
    assert not password_file.exists()
    assert not any(line.startswith('First login') for line in again.lines)
    assert any(line.startswith(f'Removed {password_file}') for line in again.lines)


def test_certificate_files_that_do_not_load_stop_the_start_with_one_line(tmp_path: Path, embedded_here: Any) -> None:
    from cryptography.hazmat.primitives import serialization

    from zato_outconn import ConfigError
    from zato_outconn.admin.serving import prepare

    issued = trustme.CA().issue_cert('127.0.0.1')
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    loaded = serialization.load_pem_private_key(issued.private_key_pem.bytes(), None)
    encrypted = tmp_path / 'encrypted.pem'
    encrypted.write_bytes(loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.BestAvailableEncryption(b'pw')))
    with pytest.raises(ConfigError) as raised:
        prepare(embedded_here(certfile='/etc/hostname', keyfile='/etc/hostname'))
    assert raised.value.field == '--certfile' and 'is not a PEM certificate and its private key' in raised.value.rule
    with pytest.raises(ConfigError) as raised:
        prepare(embedded_here(certfile=str(cert), keyfile=str(encrypted)))
    assert raised.value.field == '--keyfile' and 'is encrypted' in raised.value.rule
    with pytest.raises(ConfigError) as raised:
        prepare(embedded_here(certfile=str(cert), keyfile=str(key), ca_certs=str(key)))
    assert raised.value.field == '--ca-certs'
    assert prepare(embedded_here(certfile=str(cert), keyfile=str(key))).app_config['SESSION_COOKIE_SECURE']


@pytest.mark.parametrize(('variable', 'value'), [('ZATO_OUTCONN_MAX_REQUEST_BYTES', 'abc'),
                                                 ('ZATO_OUTCONN_PROXY_HOPS', '-1'),
                                                 ('ZATO_OUTCONN_LOGIN_WINDOW', 'abc')])
def test_an_admin_setting_that_cannot_work_stops_the_start_naming_it(embedded_here: Any,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     variable: str, value: str) -> None:
    """Refused before gunicorn starts, rather than by every worker as it boots, with a traceback."""
    from zato_outconn import ConfigError
    from zato_outconn.admin.serving import prepare

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        prepare(embedded_here())
    assert raised.value.field == variable


def test_an_address_that_cannot_be_listened_on_stops_the_start_with_one_line(embedded_here: Any) -> None:
    """Before gunicorn, which would retry five times in its own words; an empty --host would have it
    listen on every interface."""
    from zato_outconn import ConfigError
    from zato_outconn.admin.serving import prepare

    for host, says in (('', 'is empty'), ('8.8.8.8', 'cannot be listened on'), ('999.1.1.1', 'cannot be listened on')):
        with pytest.raises(ConfigError) as raised:
            prepare(embedded_here(host=host, port=free_port()))
        assert raised.value.field == '--host' and says in raised.value.rule, host
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as raised:
            prepare(embedded_here(port=port))
    assert raised.value.field == '--port' and f'{port} is taken' in raised.value.rule
