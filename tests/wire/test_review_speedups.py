"""The faster answer heads, request fields and direct send behave as http.client's and urllib3's own."""

from __future__ import annotations

import http.client
import io
from typing import Any

import pytest

from zato_outconn.wire.answer_head import AnswerResponse


class _Sock:
    """What an HTTPResponse reads from: the bytes of one answer."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self._data)


def _read(cls: type[http.client.HTTPResponse], data: bytes, method: str = 'GET', debuglevel: int = 0) -> Any:
    response = cls(_Sock(data), debuglevel, method=method)  # type: ignore[arg-type]
    try:
        response.begin()
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return ('raised', type(error), str(error))
    seen = (response.status, response.reason, response.version, response.msg.items(), response.chunked,
            response.length, response.will_close, [type(defect) for defect in response.msg.defects])
    body: Any
    try:
        body = response.read()
    except Exception as error:  # noqa: BLE001
        body = ('raised', type(error), str(error))
    return seen, body


@pytest.mark.parametrize(('data', 'method'), [
    (b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'GET'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD'),
    (b'HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx', 'POST'),
    (b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 'PUT'),
    (b'HTTP/1.0 200 OK\r\n\r\nto the end', 'GET'),
    (b'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx', 'GET'),
    (b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx', 'GET'),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 99\r\n\r\n1\r\nx\r\n0\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\nabc', 'GET'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nabc', 'GET'),
    (b'HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\tc\r\nContent-Length: 0\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\n X-First: continuation\r\nContent-Length: 0\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nX Odd Name: 1\r\nBad\x01:\x80\r\nContent-Length: 0\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n', 'GET'),  # the head ends at EOF
    (b'HTTP/1.1 200 OK\r\nContent-Len', 'GET'),
    (b'HTTP/1.1 200 OK\r\n', 'GET'),
    (b'HTTP/2.0 200 OK\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', 'GET'),
    (b'', 'GET'),
    (b'junk\r\n\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-%d: 1\r\n' % n for n in range(101)) + b'\r\n', 'GET'),
    (b'HTTP/1.1 100 Continue\r\n' + b''.join(b'X-%d: 1\r\n' % n for n in range(101)) + b'\r\n', 'GET'),
    (b'HTTP/1.1 200 OK\r\nX-Long: ' + b'a' * 70000 + b'\r\n\r\n', 'GET'),
])
def test_an_answer_reads_as_http_client_reads_it(data: bytes, method: str) -> None:
    assert _read(AnswerResponse, data, method) == _read(http.client.HTTPResponse, data, method)
