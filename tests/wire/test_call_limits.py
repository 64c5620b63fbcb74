"""A call always ends (total_timeout) and a prefetched body never outgrows max_response_size."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from zato_outconn import ResponseTooLarge, TotalTimeout
from zato_outconn.config import OutconnConfig

from tests.support.raw_servers import RawServer, answer, read_request, trickle

MiB = 1024 * 1024


def trickled_body(sock: socket.socket, _: int) -> None:
    read_request(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n')
    trickle(sock, b'x' * 100, 0.1)


def trickled_headers(sock: socket.socket, _: int) -> None:
    read_request(sock)
    trickle(sock, b'HTTP/1.1 200 OK\r\n' + b'X-Slow: yes\r\n' * 20 + b'\r\n', 0.1)


@pytest.mark.parametrize('script', [trickled_body, trickled_headers], ids=['body', 'headers'])
def test_a_trickled_answer_ends_at_the_total_timeout(make_conn: Any, script: Any) -> None:
    with RawServer(script) as server:
        item = make_conn(host=server.url, read_timeout=0.5, total_timeout=1)
        start = time.monotonic()
        with pytest.raises(TotalTimeout, match=r'total timeout of 1 s \(total_timeout\)') as raised:
            item.conn.get('cid-1')
        took = time.monotonic() - start
    # Each byte comes well within the read timeout; only the total deadline ends the call.
    assert 0.9 < took < 2.5
    assert raised.value.cid == 'cid-1'


GEVENT_SCRIPT = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()

    import json, sys, time
    import gevent
    from zato_outconn import OutconnConfig, Runtime, TotalTimeout

    def call(conn, cid):
        try:
            conn.get(cid)
        except TotalTimeout as error:
            return type(error).__name__
        return 'answered'

    with Runtime(sys.argv[1]) as runtime:
        runtime.store.create_outconn(OutconnConfig(
            name='Trickle', host=sys.argv[2], read_timeout=0.5, total_timeout=1, pool_size=20))
        conn = runtime.outgoing.plain_http['Trickle'].conn
        started = time.perf_counter()
        jobs = [gevent.spawn(call, conn, f'cid-{n}') for n in range(10)]
        gevent.joinall(jobs, raise_error=True)
        print(json.dumps({'elapsed': time.perf_counter() - started, 'outcomes': [job.value for job in jobs]}))
''')


def test_under_gevent_the_total_timeout_ends_every_call(sqlite_url: str, tmp_path: Path) -> None:
    script = tmp_path / 'gevent_trickle.py'
    script.write_text(GEVENT_SCRIPT)
    with RawServer(trickled_body) as server:
        finished = subprocess.run([sys.executable, str(script), sqlite_url, server.url],
                                  capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result['outcomes'] == ['TotalTimeout'] * 10
    # Ten trickled calls, together: the watchdog is a greenlet there, and blocks none of them.
    assert result['elapsed'] < 3


def test_the_connection_works_again_after_a_total_timeout(make_conn: Any) -> None:
    def script(sock: socket.socket, number: int) -> None:
        if number == 0:
            trickled_body(sock, number)
            return
        while read_request(sock):
            sock.sendall(answer(b'fine'))

    with RawServer(script) as server:
        item = make_conn(host=server.url, read_timeout=0.5, total_timeout=0.5, pool_size=1)
        with pytest.raises(TotalTimeout):
            item.conn.get('cid-1')
        assert item.conn.get('cid-2').content == b'fine'


def test_a_streamed_body_is_not_bounded_by_the_total_timeout(make_conn: Any) -> None:
    # The deadline covers what the call itself reads; a streamed body is read by the caller, for as
    # long as each piece comes within the read timeout.
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n')
        trickle(sock, b'x' * 20, 0.05)

    with RawServer(script) as server:
        item = make_conn(host=server.url, read_timeout=1, total_timeout=0.5)
        response = item.conn.get('cid-1', prefetch=False)
        assert response.content == b'x' * 20


def test_the_default_total_timeout_is_three_times_connect_and_read() -> None:
    config = OutconnConfig(name='x', host='http://example.com', connect_timeout=2, read_timeout=5)
    assert config.deadline == 21.0
    assert OutconnConfig(name='x', host='http://example.com', total_timeout=4).deadline == 4.0


def test_a_per_call_timeout_sets_the_default_total(make_conn: Any) -> None:
    with RawServer(trickled_body) as server:
        item = make_conn(host=server.url, read_timeout=10)
        with pytest.raises(TotalTimeout, match='of 1.2 s'):
            item.conn.get('cid-1', timeout=(0.2, 0.2))


# ---------------------------------------------------------------------- max_response_size


def test_a_declared_length_above_the_limit_is_refused_before_reading(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n')
        server.wait_for_client_close(sock)

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=MiB)
        with pytest.raises(ResponseTooLarge, match='declares 2147483648 bytes, more than max_response_size'):
            item.conn.get('cid-1')
        # The socket is closed, not kept: the rest of that body will never be read.
        assert server.client_closed.wait(5)


def endless_chunks(sock: socket.socket, _: int) -> None:
    read_request(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
    chunk = b'%x\r\n%s\r\n' % (64 * 1024, b'y' * 64 * 1024)
    while True:
        sock.sendall(chunk)


def test_an_endless_body_is_cut_at_the_limit(make_conn: Any) -> None:
    with RawServer(endless_chunks) as server:
        item = make_conn(host=server.url, max_response_size=2 * MiB, pool_size=1)
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge, match=r'larger than max_response_size \(2097152 bytes\)'):
                item.conn.get('cid-1')
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # What was read is held until it is refused, and no more: memory stays flat.
        assert peak < 8 * MiB
        with pytest.raises(ResponseTooLarge):
            # pool_size 1: the first call's socket was given back (closed), or this would wait for it.
            item.conn.get('cid-2', timeout=(1, 1))


def test_a_compressed_body_counts_as_it_is_decoded(make_conn: Any) -> None:
    bomb = gzip.compress(b'\0' * (8 * MiB))

    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(answer(bomb, headers='Content-Encoding: gzip\r\n'))

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=MiB)
        assert len(bomb) < MiB
        with pytest.raises(ResponseTooLarge):
            item.conn.get('cid-1')


def test_bodies_within_the_limit_and_answers_without_bodies_pass(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        while request := read_request(sock):
            if request.startswith(b'HEAD'):
                sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n')
            elif b'/not-modified' in request.split(b'\r\n')[0]:
                sock.sendall(b'HTTP/1.1 304 Not Modified\r\nContent-Length: 999999999\r\n\r\n')
            else:
                sock.sendall(answer(b'z' * 1000))

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=1000)
        assert item.conn.get('cid-1').content == b'z' * 1000
        assert item.conn.head('cid-2').status_code == 200
        other = make_conn('Other', host=server.url, url_path='/not-modified', max_response_size=1000)
        assert other.conn.get('cid-3').status_code == 304


def test_a_streamed_body_is_the_callers_to_bound(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(answer(b'w' * 5000))

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=1000)
        assert len(item.conn.get('cid-1', prefetch=False).content) == 5000


def test_a_chunked_body_with_a_content_length_too_is_still_cut(make_conn: Any) -> None:
    # Chunked framing wins over Content-Length: the small length must not let an endless body through.
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n')
        chunk = b'%x\r\n%s\r\n' % (64 * 1024, b'y' * 64 * 1024)
        while True:
            sock.sendall(chunk)

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=MiB)
        with pytest.raises(ResponseTooLarge):
            item.conn.get('cid-1')
