"""urllib3's response built by ``wire.answer`` is what urllib3's own getresponse builds, attribute for attribute."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from urllib3.connection import HTTPConnection
from urllib3.exceptions import InvalidHeader
from urllib3.response import HTTPResponse

from zato_outconn.wire import answer
from zato_outconn.wire.answer import TEMPLATE, QuickAnswers, _Template
from zato_outconn.wire.answer_head import AnswerResponse


class _Ours(QuickAnswers, HTTPConnection):
    response_class = AnswerResponse


class _Theirs(HTTPConnection):
    response_class = AnswerResponse


def _response(cls: type[HTTPConnection], head: bytes, method: str = 'GET') -> tuple[HTTPResponse, bytes]:
    """The response a connection of ``cls`` builds of an answer, and its body, read through it."""
    ours, server = socket.socketpair()
    conn = cls('127.0.0.1', 9)
    try:
        conn.sock = ours
        # As the pools ask: the body left for the caller to read.
        conn.request(method, '/customers/1?q=2', headers={'Authorization': 'Basic eDp5'}, preload_content=False,
                     decode_content=False)
        server.recv(65536)
        server.sendall(head)
        server.shutdown(socket.SHUT_WR)
        response = conn.getresponse()
        body = response.read() if method != 'HEAD' else b''
        return response, body
    finally:
        conn.close()
        ours.close()
        server.close()


def _comparable(response: HTTPResponse) -> dict[str, Any]:
    """Every attribute, the objects of one answer by their kind."""
    seen = dict(vars(response))
    seen['headers'] = list(response.headers.items())
    for key in ('_original_response', '_fp', '_decoded_buffer'):
        seen[key] = type(seen[key])
    seen['_sock_shutdown'] = seen['_sock_shutdown'] is not None
    return seen


ANSWERS = {
    'content-length': b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello',
    'chunked': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'codings with chunked last': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n',
    'chunked in a second field': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n'
                                 b'0\r\n\r\n',
    'no length': b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end',
    'http/1.0': b'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    'no content': b'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
    'not modified': b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
    'continue first': b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    'repeated names, mixed case': b'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-A: 1\r\n'
                                  b'SET-COOKIE: c=3\r\nContent-Length: 0\r\n\r\n',
    'same length twice': b'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok',
    'negative length': b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\nConnection: close\r\n\r\nok',
    'unreadable length': b'HTTP/1.1 200 OK\r\nContent-Length: two\r\nConnection: close\r\n\r\nok',
    'no reason': b'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
    'folded field': b'HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n',
    'latin-1 value': b'HTTP/1.1 200 OK\r\nX-Name: Jos\xe9\r\nContent-Length: 0\r\n\r\n',
}


@pytest.mark.parametrize('name', ANSWERS)
def test_a_response_is_what_urllib3_builds(name: str) -> None:
    head = ANSWERS[name]
    theirs, their_body = _response(_Theirs, head)
    ours, our_body = _response(_Ours, head)
    # Compared once each body was read through it, as far as it goes.
    assert _comparable(ours) == _comparable(theirs)
    assert our_body == their_body


def test_the_answer_to_head_has_no_length_left_either() -> None:
    head = b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'
    theirs, _ = _response(_Theirs, head, 'HEAD')
    ours, _ = _response(_Ours, head, 'HEAD')
    assert ours.length_remaining == 0
    assert _comparable(ours) == _comparable(theirs)


@pytest.mark.parametrize('head', [
    b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed\r\nContent-Length: 0\r\n\r\n',
])
def test_what_urllib3_logs_of_an_odd_head_is_logged_the_same(head: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    theirs, _ = _response(_Theirs, head)
    logged = [(record.name, record.levelno, record.getMessage()) for record in caplog.records]
    caplog.clear()
    ours, _ = _response(_Ours, head)
    assert logged
    assert [(record.name, record.levelno, record.getMessage()) for record in caplog.records] == logged
    assert _comparable(ours) == _comparable(theirs)


def test_lengths_that_differ_are_refused_the_same() -> None:
    head = b'HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok'
    assert _refusal(_Ours, head) == _refusal(_Theirs, head)


def _refusal(cls: type[HTTPConnection], head: bytes) -> str:
    try:
        _response(cls, head)
    except InvalidHeader as error:
        return str(error)
    raise AssertionError('no InvalidHeader')


def test_this_urllib3_gets_the_quick_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    # Otherwise every response would be urllib3's own, correct but no faster, and no test would say so.
    assert TEMPLATE.start is not None
    built = []
    real_build = TEMPLATE.build
    monkeypatch.setattr(TEMPLATE, 'build', lambda *args: built.append(1) or real_build(*args))
    _response(_Ours, ANSWERS['content-length'])
    assert built == [1]


def test_a_urllib3_whose_response_starts_with_something_mutable_gets_its_own_getresponse(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_init = HTTPResponse.__init__

    def init(self: HTTPResponse, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self.seen: list[bytes] = []  # a list copied from one response to the next would be shared by all

    monkeypatch.setattr(HTTPResponse, '__init__', init)
    assert _Template().start is None
    monkeypatch.setattr(answer, 'TEMPLATE', _Template())
    response, body = _response(_Ours, ANSWERS['content-length'])
    assert response.seen == [] and body == b'hello'


def test_a_urllib3_that_derives_an_attribute_otherwise_gets_its_own_getresponse(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_init = HTTPResponse.__init__

    def init(self: HTTPResponse, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        self.status_text = str(self.status)  # derived from the answer: a copy would be the probe's

    monkeypatch.setattr(HTTPResponse, '__init__', init)
    assert _Template().start is None


def test_a_urllib3_whose_tls_connection_reads_answers_its_own_way_gets_its_own_getresponse(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3.connection

    monkeypatch.setattr(urllib3.connection.HTTPSConnection, 'getresponse', HTTPConnection.getresponse, raising=False)
    assert _Template().start is None
