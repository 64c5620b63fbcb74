"""The answer's head read by ``wire.answer_head`` is what http.client's own parse gives, byte for byte."""

from __future__ import annotations

import http.client
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zato_outconn.wire.answer_head import AnswerResponse, read_fields
from zato_outconn.wire.pool import BudgetedHTTPConnection, BudgetedHTTPSConnection

# Characters that make a head unusual for the email parser: line breaks of str.splitlines, a
# colon, spaces, controls, latin-1 beyond ASCII.
_ODD = '\r\n\x0b\x0c\x1c\x1d\x1e\x85\x00\t :'
_NAME = st.text(alphabet=st.sampled_from('abcXYZ-_09' + _ODD), min_size=0, max_size=8)
_VALUE = st.text(alphabet=st.sampled_from('ab z,;=/"0' + _ODD + '\xe9\xff'), min_size=0, max_size=12)
_ENDING = st.sampled_from(['\r\n', '\n'])


@st.composite
def _heads(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(['field', 'field', 'field', 'continuation', 'from', 'raw']))
        if kind == 'field':
            lines.append(draw(_NAME) + ':' + draw(st.sampled_from(['', ' ', '\t', '  '])) + draw(_VALUE))
        elif kind == 'continuation':
            lines.append(draw(st.sampled_from([' ', '\t'])) + draw(_VALUE))
        elif kind == 'from':
            lines.append('From ' + draw(_VALUE))
        else:
            lines.append(draw(_VALUE))
    ending = draw(st.sampled_from(['\r\n', '\n', '']))
    text = ''.join(line + draw(_ENDING) for line in lines) + ending
    if draw(st.booleans()):
        text += 'the body\r\n'
    return text.encode('iso-8859-1')


def _same(head: bytes) -> None:
    expected = http.client.parse_headers(io.BytesIO(head))
    stream = io.BytesIO(head)
    got = read_fields(stream)
    assert got._headers == expected._headers  # type: ignore[attr-defined]
    assert [type(defect) for defect in got.defects] == [type(defect) for defect in expected.defects]
    assert got.get_payload() == expected.get_payload()
    assert got.get_unixfrom() == expected.get_unixfrom()
    assert got.items() == expected.items()
    # Both leave the stream where the body starts.
    expected_stream = io.BytesIO(head)
    http.client.parse_headers(expected_stream)
    assert stream.tell() == expected_stream.tell()


@settings(max_examples=1000, deadline=None)
@given(_heads())
def test_any_head_reads_as_http_client_reads_it(head: bytes) -> None:
    _same(head)


@pytest.mark.parametrize('head', [
    b'Content-Type: application/json\r\nContent-Length: 5\r\n\r\n',
    b'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Folded: one\r\n  two\r\n\ttree\r\n\r\n',
    b'X-Empty:\r\nX-Spaces:    \r\nX-Colon: a:b:c\r\n\r\n',
    b'X-Bare-Lf: yes\nX-Next: 1\n\n',
    b'X-Lone-Cr: a\rb\r\n\r\n',
    b'X-Nel: a\x85b\r\n\r\n',
    b' leading: continuation\r\nA: b\r\n\r\n',
    b'No colon here\r\nA: b\r\n\r\n',
    b': empty name\r\n\r\n',
    b'From someone\r\nA: b\r\n\r\n',
    b'A: b\r\n',
    b'A: b',
    b'',
    b'\r\n',
    b'Latin: caf\xe9 \xff\r\n\r\n',
])
def test_heads_of_every_kind(head: bytes) -> None:
    _same(head)


def test_too_many_fields_and_too_long_lines_are_refused_as_http_client_refuses_them() -> None:
    many = b''.join(b'X-%d: 1\r\n' % n for n in range(101)) + b'\r\n'
    with pytest.raises(http.client.HTTPException, match='got more than 100 headers'):
        read_fields(io.BytesIO(many))
    with pytest.raises(http.client.LineTooLong):
        read_fields(io.BytesIO(b'X-Long: ' + b'a' * 70000 + b'\r\n\r\n'))


def test_the_pools_sockets_read_answers_with_it() -> None:
    assert BudgetedHTTPConnection.response_class is AnswerResponse
    assert BudgetedHTTPSConnection.response_class is AnswerResponse


@pytest.mark.parametrize('content_type', [
    'multipart/mixed; boundary="b"', 'multipart/form-data', 'MULTIPART/related; boundary=x', 'message/rfc822',
    'message/http', 'Message/partial', 'text/plain; x=multipart'])
def test_a_head_naming_a_nested_content_type_reads_as_the_email_parser_reads_it(content_type: str) -> None:
    # The email parser takes multipart and message/* for the start of parts, and records what it then
    # misses as defects: urllib3 logs those, and so must see the same ones.
    head = f'Content-Type: {content_type}\r\nContent-Length: 0\r\n\r\n'.encode()
    expected = http.client.parse_headers(io.BytesIO(head))
    got = read_fields(io.BytesIO(head))
    assert got.items() == expected.items()
    assert [type(defect) for defect in got.defects] == [type(defect) for defect in expected.defects]
    assert got.is_multipart() == expected.is_multipart()
    # A message/* head holds a (here empty) message of its own: the same one.
    payload, expected_payload = got.get_payload(), expected.get_payload()
    if isinstance(expected_payload, list):
        assert [part.items() for part in payload] == [part.items() for part in expected_payload]
    else:
        assert payload == expected_payload


@pytest.mark.parametrize('limit', [3, 200])
def test_a_changed_field_limit_of_http_client_holds(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    # A process that sets http.client._MAXHEADERS (to read answers with many cookies, say) gets it here too.
    monkeypatch.setattr(http.client, '_MAXHEADERS', limit)
    head = b''.join(b'X-F%d: v\r\n' % number for number in range(150)) + b'\r\n'
    if limit == 3:
        with pytest.raises(http.client.HTTPException, match='got more than 3 headers'):
            read_fields(io.BytesIO(head))
        with pytest.raises(http.client.HTTPException, match='got more than 3 headers'):
            http.client.parse_headers(io.BytesIO(head))
    else:
        assert len(read_fields(io.BytesIO(head))) == 150
        _same(head)


def test_a_changed_line_limit_of_http_client_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http.client, '_MAXLINE', 20)
    head = b'X-Long: ' + b'v' * 40 + b'\r\n\r\n'
    with pytest.raises(http.client.LineTooLong):
        read_fields(io.BytesIO(head))


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]


def test_with_debuglevel_on_the_head_is_printed_as_http_client_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    answer = b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok'
    expected_response = http.client.HTTPResponse(_Socket(answer), debuglevel=1)  # type: ignore[arg-type]
    expected_response.begin()
    expected = capsys.readouterr().out
    response = AnswerResponse(_Socket(answer), debuglevel=1)  # type: ignore[arg-type]
    response.begin()
    assert capsys.readouterr().out == expected
    assert 'header: X-A: b' in expected
    assert response.read() == b'ok'


def _read(cls: type[http.client.HTTPResponse], data: bytes, method: str = 'GET', debuglevel: int = 0) -> Any:
    """What a response makes of an answer (status, fields, framing, defects, body), or the error it raises."""
    response = cls(_Socket(data), debuglevel, method=method)  # type: ignore[arg-type]
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
