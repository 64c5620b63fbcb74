"""The request heads written by ``wire.request_head``, a field or a whole request, are what urllib3 writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.connection import HTTPConnection
from urllib3.exceptions import NewConnectionError
from urllib3.util import SKIP_HEADER

from zato_outconn.wire import request_head
from zato_outconn.wire.pool import BudgetedHTTPConnection, BudgetedHTTPSConnection
from zato_outconn.wire.request_head import QuickFields, _Wire

_TEXT = st.text(alphabet=st.sampled_from('aZ-_ 9:\r\n\t\x00\x7f\xe9\u0100'), max_size=6)


def _written(connection: HTTPConnection, header: Any, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """What putheader leaves in the buffer, or the error it raises (type and text)."""
    connection.putrequest('GET', '/', skip_host=True, skip_accept_encoding=True)
    try:
        connection.putheader(header, *values)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return ('raised', type(error), str(error))
    return ('wrote', list(connection._buffer))  # type: ignore[attr-defined]


def _same(header: Any, *values: Any) -> None:
    assert _written(BudgetedHTTPConnection('127.0.0.1', 1), header, values) == \
        _written(HTTPConnection('127.0.0.1', 1), header, values)


@settings(max_examples=500, deadline=None)
@given(_TEXT, st.lists(_TEXT, min_size=0, max_size=2))
def test_any_field_is_written_or_refused_as_urllib3_does(header: str, values: list[str]) -> None:
    _same(header, *values)


@pytest.mark.parametrize(('header', 'values'), [
    ('X-Zato-CID', ('abc',)),
    ('Authorization', ('Basic eHl6',)),
    ('X-Latin', ('caf\xe9',)),
    ('X-Wide', ('\u0100',)),
    ('X-Folded', ('a\r\n b',)),
    ('X-Broken', ('a\r\nInjected: 1',)),
    ('Bad:Name', ('1',)),
    (' Lead', ('1',)),
    ('N\xe9', ('1',)),
    ('X-Int', (5,)),
    ('X-Bytes', (b'raw',)),
    (b'X-Name-Bytes', ('1',)),
    ('X-Two', ('a', 'b')),
    ('X-None', ()),
    ('User-Agent', (SKIP_HEADER,)),
    ('X-Custom', (SKIP_HEADER,)),
])
def test_fields_of_every_kind(header: Any, values: tuple[Any, ...]) -> None:
    _same(header, *values)


def test_a_field_outside_a_request_is_refused_as_http_client_refuses_it() -> None:
    ours, theirs = BudgetedHTTPConnection('127.0.0.1', 1), HTTPConnection('127.0.0.1', 1)
    with pytest.raises(Exception) as raised_ours:
        ours.putheader('X-Early', '1')
    with pytest.raises(Exception) as raised_theirs:
        theirs.putheader('X-Early', '1')
    assert type(raised_ours.value) is type(raised_theirs.value)


def test_the_pools_sockets_write_with_it() -> None:
    assert issubclass(BudgetedHTTPConnection, QuickFields)
    assert issubclass(BudgetedHTTPSConnection, QuickFields)


# ---------------------------------------------------------------- the whole head (QuickFields.request)

_NAMES = st.sampled_from(['Accept', 'X-Zato-CID', 'Host', 'host', 'User-Agent', 'Content-Length', 'content-length',
                          'Accept-Encoding', 'Transfer-Encoding', 'Bad:Name', ' Lead', 'N\xe9', 'X-A'])
_VALUES = st.one_of(_TEXT, _TEXT, _TEXT, st.just(SKIP_HEADER), st.integers(0, 9), st.binary(max_size=3))
# Mostly text, for the one step; the rest of every kind, for urllib3 to write or refuse.
_HEADERS = st.dictionaries(st.one_of(_NAMES, _NAMES, st.binary(min_size=1, max_size=3)), _VALUES, max_size=4)
_BODIES = st.one_of(st.none(), st.binary(max_size=5), st.just(b''))
_METHODS = st.sampled_from(['GET', 'POST', 'post', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'G\x00T'])


def _sent(connection_class: type[HTTPConnection], method: str, url: str, body: Any, headers: Any,
          chunked: bool = False) -> tuple[Any, ...]:
    """What a request puts on a reused socket and leaves in its connection, or the error it raises."""
    connection = connection_class('probe.example', 8080, timeout=5.0)
    wire = _Wire()
    wire.timeout = 2.0  # the socket's timeout from its last request
    connection.sock = wire
    try:
        connection.request(method, url, body, headers, chunked=chunked, preload_content=False)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return ('raised', type(error), str(error), wire.sent)
    state = {key: value for key, value in vars(connection).items() if key != 'sock'}
    return ('sent', wire.sent, wire.timeout, state)


@settings(max_examples=400, deadline=None)
@given(_METHODS, st.sampled_from(['/', '/p?q=1', '/a b', '']), _BODIES, _HEADERS, st.booleans())
def test_any_request_is_written_or_refused_as_urllib3_does(method: str, url: str, body: Any,
                                                           headers: dict[Any, Any], chunked: bool) -> None:
    assert _sent(BudgetedHTTPConnection, method, url, body, headers, chunked) == \
        _sent(HTTPConnection, method, url, body, headers, chunked)


@pytest.mark.parametrize('body', [None, b'', b'{"a": 1}'])
@pytest.mark.parametrize('method', ['GET', 'POST', 'delete'])
def test_usual_requests_take_the_one_step_and_write_what_urllib3_writes(
        monkeypatch: pytest.MonkeyPatch, method: str, body: bytes | None) -> None:
    taken = []
    lines_of = request_head._lines_of

    def spy(*args: Any) -> Any:
        lines = lines_of(*args)
        taken.append(lines is not None)
        return lines

    monkeypatch.setattr(request_head, '_lines_of', spy)
    headers = {'Authorization': 'Basic eHl6', 'X-Zato-CID': 'c1', 'Accept': '*/*', 'X-Latin': 'caf\xe9'}
    assert _sent(BudgetedHTTPConnection, method, '/x', body, dict(headers)) == \
        _sent(HTTPConnection, method, '/x', body, dict(headers))
    assert taken == [True]


def test_a_new_socket_and_an_unusual_request_take_urllib3s_request(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = []
    monkeypatch.setattr(request_head, '_lines_of', lambda *args: taken.append(args))
    connection = BudgetedHTTPConnection('127.0.0.1', 1)
    with pytest.raises(NewConnectionError):  # no server: urllib3's request connects, and fails
        connection.request('GET', '/', None, {'A': '1'})
    connection, wire = BudgetedHTTPConnection('127.0.0.1', 1), _Wire()
    connection.sock = wire
    connection.request('GET', '/', iter([b'x']), {'A': '1'})  # a body to stream: chunked
    assert b'Transfer-Encoding: chunked' in wire.sent[0]
    assert taken == []


def test_a_urllib3_changed_later_gets_its_own_request(monkeypatch: pytest.MonkeyPatch) -> None:
    assert request_head.HEAD.in_force()
    calls = []
    urllib3_request = HTTPConnection.request

    def wrapped(self: HTTPConnection, *args: Any, **kwargs: Any) -> None:
        calls.append(args[:2])
        urllib3_request(self, *args, **kwargs)

    # Instrumentation wrapping urllib3's request, say: it must see every request.
    monkeypatch.setattr(HTTPConnection, 'request', wrapped)
    assert not request_head.HEAD.in_force()
    _sent(BudgetedHTTPConnection, 'GET', '/seen', None, {'A': '1'})
    assert calls == [('GET', '/seen')]


class _CountingWire(_Wire):
    """A socket that also counts the timeouts set on it."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.set = 0

    def settimeout(self, timeout: float | None) -> None:
        self.set += 1
        super().settimeout(timeout)


@pytest.mark.parametrize(('had', 'set_times'), [(2.0, 1), (5.0, 0)])
def test_a_reused_socket_keeps_its_timeout_when_unchanged_and_gets_a_new_one(had: float, set_times: int) -> None:
    connection = BudgetedHTTPConnection('probe.example', 8080, timeout=5.0)
    wire = _CountingWire(had)
    connection.sock = wire
    connection.request('GET', '/', None, {'A': '1'})
    assert wire.timeout == 5.0
    assert wire.set == set_times


def test_no_value_is_kept_past_its_request() -> None:
    # A value may be a credential: only the names of fields are kept for the next request.
    headers = {'Authorization': 'Basic c2VjcmV0LXZhbHVl', 'X-API-Key': 'key-of-the-api-1234'}
    assert _sent(BudgetedHTTPConnection, 'GET', '/', None, dict(headers)) == \
        _sent(HTTPConnection, 'GET', '/', None, dict(headers))
    kept = repr({name: value for name, value in vars(request_head).items() if not name.startswith('__')})
    assert 'c2VjcmV0LXZhbHVl' not in kept and 'key-of-the-api-1234' not in kept
    assert request_head._NAMES['Authorization'] == b'Authorization'
