"""The total deadline where it is easiest to lose: kept-alive sockets, answers that close the connection,
headers cut short, redirects and authentication round trips, and bodies requests reads by itself."""

from __future__ import annotations

import collections
import gc
import gzip
import socket
import threading
import time
from typing import Any

import pytest

from zato_outconn import BadResponse, PoolTimeout, ResponseTooLarge, TotalTimeout

from tests.support.raw_servers import RawServer, answer, established_to, read_request, trickle

MiB = 1024 * 1024


def test_a_call_cut_by_the_deadline_on_a_kept_alive_socket_is_not_sent_again(make_conn: Any) -> None:
    seen: collections.Counter[str] = collections.Counter()

    def script(sock: socket.socket, _: int) -> None:
        while request := read_request(sock):
            seen[request.split(b' ')[0].decode()] += 1
            if b'/warm' not in request:
                time.sleep(2)
            sock.sendall(answer(b'late'))

    with RawServer(script) as server:
        item = make_conn(host=server.url, url_path='/{p}', total_timeout=1, pool_size=1)
        item.conn.get('cid-0', {'p': 'warm'})
        seen.clear()
        start = time.monotonic()
        with pytest.raises(TotalTimeout):
            item.conn.get('cid-1', {'p': 'slow'})
        # The watchdog's shutdown looks like a server closing a kept-alive socket; it is no reason to retry.
        assert time.monotonic() - start < 1.8
        assert seen == {'GET': 1}


@pytest.mark.parametrize('closing', ['HTTP/1.1 200 OK\r\nConnection: close', 'HTTP/1.0 200 OK'])
def test_the_body_of_an_answer_that_closes_the_connection_is_bounded_too(make_conn: Any, closing: str) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(f'{closing}\r\nContent-Length: 40\r\n\r\n'.encode())
        trickle(sock, b'x' * 40, 0.1)

    with RawServer(script) as server:
        item = make_conn(host=server.url, read_timeout=1, total_timeout=1)
        start = time.monotonic()
        with pytest.raises(TotalTimeout):
            item.conn.get('cid-1')
        # Well short of the 4 s the trickle takes, with room for a busy machine's scheduling.
        assert time.monotonic() - start < 2.5


def test_a_streamed_answer_that_closes_the_connection_keeps_its_place_until_its_socket_closes(
        runtime: Any, make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\n')
        time.sleep(2)

    with RawServer(script) as server:
        item = make_conn(host=server.url, pool_size=1, connect_timeout=0.3)
        held = item.conn.get('cid-1', prefetch=False)
        runtime.store.edit_outconn('plain_http', 'CRM', {'read_timeout': 3})
        # http.client has let go of the socket, but the answer still reads from it: it is still open.
        with pytest.raises(PoolTimeout):
            runtime.outgoing.plain_http['CRM'].conn.get('cid-2')
        held.close()
        del held


def test_headers_cut_short_by_the_deadline_are_no_answer(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\n')
        for number in range(20):
            sock.sendall(b'X-A: %d\r\n' % number)
            time.sleep(0.3)

    with RawServer(script) as server:
        item = make_conn(host=server.url, read_timeout=1, total_timeout=1)
        for prefetch in (True, False):
            # http.client would take the shutdown for the end of the headers, and the answer for a 200.
            with pytest.raises(TotalTimeout):
                item.conn.get('cid-1', prefetch=prefetch)


def test_each_redirect_hop_counts_against_the_one_deadline(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        while read_request(sock):
            time.sleep(0.4)
            sock.sendall(b'HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n')

    with RawServer(script) as server:
        item = make_conn(host=server.url, follow_redirects=True, max_redirects=50, total_timeout=1.5)
        start = time.monotonic()
        with pytest.raises(TotalTimeout):
            item.conn.get('cid-1')
        assert time.monotonic() - start < 2.3


def test_a_redirect_to_a_server_that_never_accepts_ends_at_the_deadline(make_conn: Any) -> None:
    # A listener that never accepts, with a full backlog: a connect to it waits.
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    target = f'http://127.0.0.1:{listener.getsockname()[1]}/'

    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        time.sleep(0.8)
        sock.sendall(b'HTTP/1.1 302 Found\r\nLocation: ' + target.encode() + b'\r\nContent-Length: 0\r\n\r\n')

    try:
        with RawServer(script) as server:
            item = make_conn(host=server.url, follow_redirects=True, connect_timeout=5, total_timeout=1.5)
            start = time.monotonic()
            with pytest.raises(TotalTimeout):
                item.conn.get('cid-1')
            # The hop's connect waited only what was left of the call, not its connect timeout.
            assert time.monotonic() - start < 2.3
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# ---------------------------------------------------------------------- bodies requests reads by itself


def big_redirect(sock: socket.socket, _: int) -> None:
    request = read_request(sock)
    if b'/final' in request.split(b'\r\n')[0]:
        sock.sendall(answer(b'done'))
        return
    sock.sendall(b'HTTP/1.1 302 Found\r\nLocation: /final\r\nTransfer-Encoding: chunked\r\n\r\n')
    chunk = b'%x\r\n%s\r\n' % (64 * 1024, b'r' * 64 * 1024)
    for _ in range(1000):
        sock.sendall(chunk)


@pytest.mark.parametrize('follow', [True, False])
def test_a_redirect_s_body_is_bounded_followed_or_not(make_conn: Any, follow: bool) -> None:
    # requests reads a redirect's body whole, followed or not (to say where .next leads).
    with RawServer(big_redirect) as server:
        item = make_conn(host=server.url, follow_redirects=follow, max_response_size=MiB)
        with pytest.raises(ResponseTooLarge):
            item.conn.get('cid-1')


def test_a_digest_challenge_s_body_is_bounded(make_conn: Any) -> None:
    bomb = gzip.compress(b'\0' * (16 * MiB))

    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(answer(bomb, status='401 Unauthorized',
                            headers='WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"\r\n'
                                    'Content-Encoding: gzip\r\n'))
        time.sleep(0.5)

    with RawServer(script) as server:
        item = make_conn(host=server.url, max_response_size=MiB,
                         security={'name': 'dig', 'sec_type': 'digest', 'username': 'u', 'secret': 'pw'})
        with pytest.raises(ResponseTooLarge):
            item.conn.get('cid-1')


@pytest.mark.parametrize('location', [b'http://[::1/', b'http://127.0.0.1:-1/', b'\xff\xfe'], ids=repr)
@pytest.mark.parametrize('follow', [True, False])
def test_a_location_requests_cannot_parse_is_a_bad_response(make_conn: Any, location: bytes, follow: bool) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 302 Found\r\nLocation: ' + location + b'\r\nContent-Length: 0\r\n\r\n')
        time.sleep(0.2)

    with RawServer(script) as server:
        item = make_conn(host=server.url, follow_redirects=follow)
        with pytest.raises(BadResponse, match="redirect cannot be followed"):
            item.conn.get('cid-1')
    # requests raised before closing the redirect's answer: no socket may be left to the collector.
    item.conn.close()
    gc.collect()


def test_server_text_reaches_no_message_or_log_line_raw(make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 abc\r2026-12-02 INFO zato_outconn.call FORGED\x1b[8m\r\n\r\n')
        time.sleep(0.2)

    with RawServer(script) as server:
        item = make_conn(host=server.url)
        with pytest.raises(BadResponse) as raised:
            item.conn.get('cid-1')
    assert '\r' not in str(raised.value) and '\x1b' not in str(raised.value)
    assert all(len(record.getMessage().splitlines()) == 1 for record in caplog.records)


def test_no_socket_outlives_a_flood_of_failures(make_conn: Any) -> None:
    def script(sock: socket.socket, number: int) -> None:
        request = read_request(sock)
        if b'/good' in request.split(b'\r\n')[0]:
            sock.sendall(answer(b'good'))
            return
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')

    with RawServer(script) as server:
        item = make_conn(host=server.url, url_path='/{p}', pool_size=1, connect_timeout=0.5)
        for number in range(20):
            with pytest.raises(BadResponse):
                item.conn.get(f'cid-{number}', {'p': 'bad'})
        assert item.conn.get('cid-good', {'p': 'good'}).content == b'good'
        port = int(server.url.rsplit(':', 1)[1])
        assert established_to(port) <= 1


def test_threads_on_old_and_new_generations_all_get_their_turn(runtime: Any, make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        while read_request(sock):
            time.sleep(0.01)
            sock.sendall(answer(b'ok'))

    failures: list[BaseException] = []
    with RawServer(script) as server:
        make_conn('Busy', host=server.url, pool_size=2, connect_timeout=3)
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    runtime.outgoing.plain_http['Busy'].conn.get('cid-w')
                except BaseException as error:  # noqa: BLE001 - the test's business
                    failures.append(error)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        try:
            for number in range(25):
                runtime.store.edit_outconn('plain_http', 'Busy', {'read_timeout': 3 + number % 2})
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert failures == []
