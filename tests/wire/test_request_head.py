"""The request's header fields written by ``wire.request_head`` are what urllib3 and http.client write."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.connection import HTTPConnection
from urllib3.util import SKIP_HEADER

from zato_outconn.wire.pool import BudgetedHTTPConnection, BudgetedHTTPSConnection
from zato_outconn.wire.request_head import QuickFields

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
