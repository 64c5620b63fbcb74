"""Transport behaviour against real servers: timeouts, refused connections, TLS, proxies, pools, gevent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from zato_outconn import ConnectError, PoolTimeout, ReadTimeout, TLSError, TransportError

from tests.support.auth_servers import DigestServer
from tests.support.raw_servers import RawServer, answer, read_request
from tests.support.servers import RecordingServer, refused_port


def test_read_timeout_against_a_server_that_sleeps(make_conn: Any) -> None:
    item = make_conn(url_path='/sleep/2', read_timeout=0.3)
    with pytest.raises(ReadTimeout) as raised:
        item.conn.get('cid-slow')
    error = raised.value
    assert (error.name, error.method, error.cid) == ('CRM', 'GET', 'cid-slow')
    assert error.url.endswith('/sleep/2')
    assert '0.3 s' in str(error) and 'cid-slow' in str(error)
    assert isinstance(error.__cause__, Exception)


def test_connection_refused(make_conn: Any) -> None:
    item = make_conn(host=f'http://127.0.0.1:{refused_port()}', url_path='/x')
    with pytest.raises(ConnectError) as raised:
        item.conn.post('cid-r', {'a': 1})
    assert 'refused' in str(raised.value).lower()
    assert raised.value.method == 'POST' and raised.value.name == 'CRM'
    assert isinstance(raised.value, TransportError)


# ---------------------------------------------------------------------- TLS


def test_untrusted_certificate_is_a_tls_error(make_conn: Any, https_server: str) -> None:
    item = make_conn(host=https_server)
    with pytest.raises(TLSError, match='certificate'):
        item.conn.get('cid-1')


def test_stored_ca_bundle_is_trusted(make_conn: Any, https_server: str, ca: trustme.CA) -> None:
    item = make_conn(host=https_server, ca_bundle=ca.cert_pem.bytes().decode())
    assert item.conn.get('cid-1').json()['method'] == 'GET'
    bundle = item.conn._opened.ca_bundle.path
    assert Path(bundle).exists()
    item.conn.close()
    assert not Path(bundle).exists()


def test_validation_can_be_switched_off(make_conn: Any, https_server: str) -> None:
    item = make_conn(host=https_server, validate_tls=False)
    with pytest.warns(Warning):  # urllib3 warns about unverified HTTPS, and it should
        assert item.conn.get('cid-1').status_code == 200


# ---------------------------------------------------------------------- proxies and environment


def test_proxy_is_used(make_conn: Any, http_server: Any) -> None:
    # The recording server stands in for the proxy: a proxied request carries the absolute URL.
    item = make_conn(host='http://crm.invalid:8080', url_path='/customers/{id}', proxy=http_server.url)
    item.conn.get('cid-1', {'id': 7})
    assert http_server.recorder.last.path == 'http://crm.invalid:8080/customers/7'


def test_environment_proxies_are_ignored(make_conn: Any, http_server: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('HTTP_PROXY', f'http://127.0.0.1:{refused_port()}')
    item = make_conn()
    assert item.conn.get('cid-1').status_code == 200


# ---------------------------------------------------------------------- pools and concurrency


def test_sixteen_threads_share_a_pool_of_four(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/sleep/0.05', pool_size=4)
    errors: list[BaseException] = []
    statuses: list[int] = []

    def work() -> None:
        try:
            for _ in range(5):
                statuses.append(item.conn.get('cid-t').status_code)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [200] * 80
    assert http_server.recorder.max_open_sockets <= 4
    assert len(http_server.recorder.client_ports) <= 4


GEVENT_SCRIPT = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()

    import json, sys, time
    import gevent
    from zato_outconn import OutconnConfig, Runtime

    with Runtime(sys.argv[1]) as runtime:
        runtime.store.create_outconn(OutconnConfig(
            name='Slow', host=sys.argv[2], url_path='/sleep/0.2', pool_size=50))
        conn = runtime.outgoing.plain_http['Slow'].conn
        started = time.perf_counter()
        jobs = [gevent.spawn(conn.get, f'cid-{n}') for n in range(50)]
        gevent.joinall(jobs, raise_error=True)
        elapsed = time.perf_counter() - started
        print(json.dumps({'elapsed': elapsed, 'statuses': [job.value.status_code for job in jobs]}))
''')


def test_gevent_calls_run_together(sqlite_url: str, http_server: Any, tmp_path: Path) -> None:
    script = tmp_path / 'gevent_calls.py'
    script.write_text(GEVENT_SCRIPT)
    finished = subprocess.run([sys.executable, str(script), sqlite_url, http_server.url],
                              capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result['statuses'] == [200] * 50
    # Fifty calls of 0.2 s each, one after another, would take 10 s.
    assert result['elapsed'] < 2.0
    assert len(http_server.recorder.requests) == 50


def test_caller_timeout_overrides_but_none_keeps_the_templates(make_conn: Any) -> None:
    item = make_conn(url_path='/sleep/1', read_timeout=5)
    with pytest.raises(ReadTimeout, match='read timeout of 0.2 s'):
        item.conn.get('cid-1', timeout=(1, 0.2))
    fast = make_conn('Fast', url_path='/sleep/1', read_timeout=0.2)
    with pytest.raises(ReadTimeout):
        fast.conn.get('cid-1', timeout=None)


def test_redirect_to_another_host_carries_no_credentials(make_conn: Any, http_server: Any) -> None:
    with RecordingServer() as other:
        item = make_conn(url_path='/redirect-to', follow_redirects=True,
                         security={'name': 'key', 'sec_type': 'apikey', 'secret': 'k-s3cret'})
        assert item.conn.get('cid-1', {'url': f'{other.url}/landing'}).status_code == 200
        assert http_server.recorder.last.headers['X-API-Key'] == 'k-s3cret'
        landed = other.recorder.last
        assert landed.path == '/landing' and 'X-API-Key' not in landed.headers
        assert 'Authorization' not in landed.headers


def test_digest_does_not_answer_another_hosts_challenge(make_conn: Any, http_server: Any) -> None:
    with DigestServer({'alice': 'pw'}) as other:
        item = make_conn(url_path='/redirect-to', follow_redirects=True,
                         security={'name': 'dig', 'sec_type': 'digest', 'username': 'alice', 'secret': 'pw'})
        # The other host challenges; the connection's credentials are not for it.
        assert item.conn.get('cid-1', {'url': f'{other.url}/protected'}).status_code == 401
        assert other.authorizations == []


def test_waiting_for_a_busy_pool_is_bounded_by_the_connect_timeout(make_conn: Any) -> None:
    item = make_conn(pool_size=1, connect_timeout=0.3)
    held = item.conn.get('cid-1', prefetch=False)  # keeps the only socket until it is read or closed
    try:
        with pytest.raises(PoolTimeout) as raised:
            item.conn.get('cid-2')
        assert 'pool_size' in str(raised.value) and raised.value.cid == 'cid-2'
    finally:
        held.close()
    assert item.conn.get('cid-3').status_code == 200


# ---------------------------------------------------------------------- the direct route


def test_the_answer_is_the_same_response_either_way(make_conn: Any, http_server: Any, send_path: str) -> None:
    item = make_conn(url_path='/customers/{id}')
    response = item.conn.get('cid-1', {'id': 7, 'x': 'y'})
    direct = item.conn._opened.route is not None
    assert direct == (send_path == 'direct')
    assert isinstance(response, requests.Response)
    assert response.url == f'{http_server.url}/customers/7?x=y'
    assert response.request.url == response.url and response.request.headers['X-Zato-CID'] == 'cid-1'
    assert response.history == [] and response.elapsed.total_seconds() > 0
    assert response.reason == 'OK' and response.encoding == 'utf-8' and response.json()['path'] == '/customers/7?x=y'
    assert isinstance(response.connection, requests.adapters.HTTPAdapter)


def test_cookies_and_where_a_redirect_leads_are_there_either_way(make_conn: Any) -> None:
    def script(sock: Any, _: int) -> None:
        while request := read_request(sock):
            if b'/moved' in request.split(b'\r\n')[0]:
                sock.sendall(b'HTTP/1.1 302 Found\r\nLocation: /landing\r\nContent-Length: 0\r\n\r\n')
            else:
                sock.sendall(answer(b'ok', headers='Set-Cookie: session=abc; Path=/\r\n'))

    with RawServer(script) as server:
        item = make_conn(host=server.url, url_path='/{p}')
        assert item.conn.get('cid-1', {'p': 'x'}).cookies['session'] == 'abc'
        moved = item.conn.get('cid-2', {'p': 'moved'})
        assert moved.status_code == 302 and moved.is_redirect
        assert moved.next is not None and moved.next.url == f'{server.url}/landing'


def test_calls_that_need_session_send_take_it_with_the_direct_route_on(make_conn: Any, http_server: Any,
                                                                       send_path: str) -> None:
    seen: list[int] = []
    item = make_conn()
    response = item.conn.get('cid-1', hooks={'response': [lambda r, **_: seen.append(r.status_code)]})
    assert response.status_code == 200 and seen == [200]
    assert item.conn.get('cid-2', cookies={'a': 'b'}).json()['headers']['Cookie'] == 'a=b'
