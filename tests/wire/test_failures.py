"""Remote ends that fail after the connection is made: each failure named for what it is.

Only a failure to connect says "cannot connect"; a server that answers junk, stalls, or drops the
connection mid-answer gets an error saying so, prefetched or streamed.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

import pytest
import trustme

from zato_outconn import BadResponse, ConnectError, ReadTimeout, ResponseInterrupted, Timeout, TransportError

from tests.support.raw_servers import RawServer, answer, read_request, reset


def serve(script: Any) -> RawServer:
    return RawServer(script)


def headers_then_silence(sock: socket.socket, _: int) -> None:
    read_request(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')
    time.sleep(3)


def half_body_then_reset(sock: socket.socket, _: int) -> None:
    read_request(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + b'x' * 10)
    time.sleep(0.1)
    reset(sock)


def test_a_read_timeout_after_the_headers_is_a_read_timeout(make_conn: Any) -> None:
    with serve(headers_then_silence) as server:
        item = make_conn(host=server.url, read_timeout=0.3)
        with pytest.raises(ReadTimeout) as raised:
            item.conn.get('cid-1')
    assert 'read timeout of 0.3 s' in raised.value.message
    assert 'cannot connect' not in str(raised.value)


def test_a_read_timeout_of_a_streamed_body_is_our_read_timeout(make_conn: Any) -> None:
    with serve(headers_then_silence) as server:
        item = make_conn(host=server.url, read_timeout=0.3)
        response = item.conn.get('cid-1', prefetch=False)
        assert response.status_code == 200
        with pytest.raises(ReadTimeout, match='stopped coming') as raised:
            response.content  # noqa: B018 - reading it is the test
    assert raised.value.cid == 'cid-1' and raised.value.name == 'CRM'


def test_a_reset_mid_body_is_response_interrupted(make_conn: Any) -> None:
    with serve(half_body_then_reset) as server:
        item = make_conn(host=server.url)
        with pytest.raises(ResponseInterrupted, match='dropped while the answer was being read') as raised:
            item.conn.get('cid-1')
    assert 'cannot connect' not in str(raised.value)


@pytest.mark.parametrize('read', ['iter_content', 'content', 'iter_lines'])
def test_a_reset_mid_body_while_the_caller_streams_is_ours_too(make_conn: Any, read: str) -> None:
    with serve(half_body_then_reset) as server:
        item = make_conn(host=server.url)
        response = item.conn.get('cid-1', prefetch=False)
        with pytest.raises(ResponseInterrupted):
            if read == 'content':
                response.content  # noqa: B018 - reading it is the test
            else:
                list(getattr(response, read)())


@pytest.mark.parametrize(('sent', 'says'), [
    (b'HTTP/1.1 two hundred\r\n\r\n', 'BadStatusLine'),
    (b'junk\r\n\r\n', 'BadStatusLine'),
    (b'HTTP/1.1 200 OK\r\nX-Long: ' + b'a' * 70_000 + b'\r\n\r\n', 'LineTooLong'),
    (b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-H%d: v\r\n' % n for n in range(120)) + b'\r\n', 'more than 100 headers'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello', 'Content-Length'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello', 'Content-Length'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'Content-Length'),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 'InvalidChunkLength'),
], ids=['status-words', 'no-status-line', 'line-too-long', 'too-many-headers', 'negative-length',
        'unreadable-length', 'two-lengths', 'bad-chunk'])
def test_answers_that_break_http_are_bad_responses(make_conn: Any, sent: bytes, says: str) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(sent)
        time.sleep(0.3)

    with serve(script) as server:
        item = make_conn(host=server.url)
        with pytest.raises(BadResponse, match='not valid HTTP') as raised:
            item.conn.get('cid-1')
    assert says in str(raised.value)
    assert 'cannot connect' not in str(raised.value)


def test_a_negative_length_is_refused_on_a_streamed_answer_too(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello')
        time.sleep(0.3)

    with serve(script) as server:
        item = make_conn(host=server.url)
        with pytest.raises(BadResponse, match='Content-Length'):
            item.conn.get('cid-1', prefetch=False)


def test_a_large_post_to_a_server_that_never_reads_is_a_timeout_not_a_connect_error(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(3)

    with serve(script) as server:
        item = make_conn(host=server.url, connect_timeout=0.3, data_format='none')
        with pytest.raises(Timeout, match='stopped reading the request: none of it could be sent for 0.3 s') \
                as raised:
            item.conn.post('cid-1', b'x' * (64 * 1024 * 1024))
    assert 'cannot connect' not in str(raised.value)


def test_a_server_that_closes_without_answering_says_so(make_conn: Any) -> None:
    def script(sock: socket.socket, _: int) -> None:
        read_request(sock)

    with serve(script) as server:
        item = make_conn(host=server.url)
        with pytest.raises(ConnectError, match='closed the connection without answering') as raised:
            item.conn.get('cid-1')
        # A fresh socket: nothing to send again.
        assert server.connections == 1
    assert isinstance(raised.value, TransportError)


# ---------------------------------------------------------------------- kept-alive sockets closed by the server


def keep_alive_then_close_unanswered(sock: socket.socket, number: int) -> None:
    """The first connection answers once, kept alive, then closes as the next request arrives."""
    read_request(sock)
    sock.sendall(answer(b'first'))
    if number == 0:
        read_request(sock)  # the next request arrives, and the server closes instead of answering
        return
    while read_request(sock):
        sock.sendall(answer(b'again'))


@pytest.mark.parametrize(('method', 'body'), [('get', None), ('delete', None), ('put', b'same'), ('post', b'')])
def test_a_request_that_meets_a_kept_alive_socket_just_closed_is_sent_again_once(
        make_conn: Any, method: str, body: bytes | None) -> None:
    with serve(keep_alive_then_close_unanswered) as server:
        item = make_conn(host=server.url, data_format='none')
        assert item.conn.get('cid-1').content == b'first'
        call = getattr(item.conn, method)
        response = call('cid-2') if body is None else call('cid-2', body)
        assert response.status_code == 200
        assert server.connections == 2


def test_a_post_with_a_body_is_not_sent_twice(make_conn: Any) -> None:
    with serve(keep_alive_then_close_unanswered) as server:
        item = make_conn(host=server.url, data_format='none')
        item.conn.get('cid-1')
        with pytest.raises(ConnectError, match='closed the connection without answering'):
            item.conn.post('cid-2', b'pay me once')
        assert server.connections == 1


def test_only_one_retry(make_conn: Any) -> None:
    def script(sock: socket.socket, number: int) -> None:
        read_request(sock)
        if number == 0:
            sock.sendall(answer(b'first'))
            read_request(sock)
        # Every later connection closes unanswered too: the retry's failure is the call's.

    with serve(script) as server:
        item = make_conn(host=server.url)
        item.conn.get('cid-1')
        with pytest.raises(ConnectError, match='closed the connection without answering'):
            item.conn.get('cid-2')
        assert server.connections == 2


def test_over_tls_a_kept_alive_socket_just_closed_is_sent_again_too(make_conn: Any, ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert('127.0.0.1').configure_cert(context)

    def script(sock: socket.socket, number: int) -> None:
        tls = context.wrap_socket(sock, server_side=True)
        keep_alive_then_close_unanswered(tls, number)
        tls.close()  # no close_notify: the client sees the TLS stream end as an EOF

    with serve(script) as server:
        item = make_conn(host=server.url.replace('http://', 'https://'), ca_bundle=ca.cert_pem.bytes().decode())
        assert item.conn.get('cid-1').content == b'first'
        assert item.conn.get('cid-2').status_code == 200
        assert server.connections == 2


def test_a_request_sent_again_is_logged_as_urllib3_logs_it(make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    # Both routes leave urllib3's own line, so that a log reader sees why a request went out twice.
    with serve(keep_alive_then_close_unanswered) as server:
        item = make_conn(host=server.url, data_format='none')
        item.conn.get('cid-1')
        caplog.clear()  # what the first call logged (at DEBUG, where the root logger is set so)
        with caplog.at_level('WARNING', logger='urllib3.connectionpool'):
            assert item.conn.get('cid-2').status_code == 200
    retried = [record.getMessage() for record in caplog.records if record.name == 'urllib3.connectionpool']
    assert len(retried) == 1
    assert retried[0].startswith('Retrying (') and 'after connection broken by' in retried[0]
    assert 'RemoteDisconnected' in retried[0]


CANARY = 'S3CR3T-CANARY-1234'


def test_a_proxy_url_that_cannot_be_parsed_is_named_without_its_credentials(
        make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    """urllib3 quotes the whole URL it cannot parse, user:password@ included."""
    from zato_outconn import RequestError

    item = make_conn()
    with pytest.raises(RequestError) as raised:
        item.conn.get('cid-1', proxies={'http': f'http://bob:{CANARY}@127.0.0.1:99999'})
    assert 'http://***@127.0.0.1:99999' in str(raised.value)
    assert CANARY not in str(raised.value)
    assert CANARY not in caplog.text


def test_what_the_remote_end_sends_is_quoted_cut_short(make_conn: Any) -> None:
    """A status line that is no HTTP is quoted, and it may echo what it was sent: at most 300 characters."""
    status_line = b'HTTP/1.1 2x0 ' + b'A' * 2000 + b'\r\n\r\n'
    with RawServer(lambda sock, _: (read_request(sock), sock.sendall(status_line))) as server:
        item = make_conn(host=server.url)
        with pytest.raises(BadResponse) as raised:
            item.conn.get('cid-1')
    quoted = str(raised.value).partition('BadStatusLine: ')[2]
    assert quoted.startswith('HTTP/1.1 2x0 AAAA') and quoted.endswith('A...')
    assert len(quoted) == 300 + len('...')
