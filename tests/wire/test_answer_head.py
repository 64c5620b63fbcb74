"""The answer's head read by ``wire.answer_head`` is what http.client's own parse gives, byte for byte."""

from __future__ import annotations

import http.client
import io

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
