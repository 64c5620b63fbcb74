"""What the caller passes that has no faithful form on the wire is refused before anything is sent.

Each refusal is a RequestError that says what to fix, and the recording server sees nothing.
Values that do have one form are checked at the server as they arrive.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any

import pytest

from zato_outconn import RequestError


class Colour(str, Enum):  # noqa: UP042 - a str mixin, whose str() is its name
    RED = 'red'


class Level(IntEnum):
    HIGH = 3


def nothing_sent(http_server: Any) -> bool:
    return http_server.recorder.requests == []


def value_id(value: Any) -> str:
    # repr of a bare object holds its address, which differs between the xdist workers.
    return 'object' if type(value) is object else ascii(value)


def deep_list(depth: int) -> list[Any]:
    top: list[Any] = []
    current = top
    for _ in range(depth):
        inner: list[Any] = []
        current.append(inner)
        current = inner
    return top


# ---------------------------------------------------------------------- item 7: placeholder and query values

NO_TEXT_FORM = [b'42', True, float('nan'), float('inf'), Decimal('NaN'), ['a'], {'a': 1}, {1, 2}, object(),
                '\ud800']


@pytest.mark.parametrize('value', NO_TEXT_FORM, ids=value_id)
def test_placeholder_values_without_a_text_form_are_refused(make_conn: Any, http_server: Any, value: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}')
    with pytest.raises(RequestError, match=r"params\['cust_id'\]"):
        item.conn.get('cid-1', {'cust_id': value})
    assert nothing_sent(http_server)


@pytest.mark.parametrize('value', [*NO_TEXT_FORM[:4], {'a': 1}, {1, 2}, object(), ['a', None], ['a', b'b'],
                                   [['nested']], (True,)], ids=value_id)
def test_query_values_without_a_text_form_are_refused(make_conn: Any, http_server: Any, value: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match=r"params\['tag'\]"):
        item.conn.get('cid-1', {'q': 'x', 'tag': value})
    assert nothing_sent(http_server)


def test_values_with_one_text_form_are_sent_as_that_text(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}/{colour}')
    ident = uuid.UUID('12345678-1234-5678-1234-567812345678')
    item.conn.get('cid-1', {'cust_id': Decimal('1.10'), 'colour': Colour.RED, 'n': 7, 'f': 2.5, 'big': 10 ** 20,
                            'level': Level.HIGH, 'id': ident, 'tags': ('a', 1, 1.5), 'skip': None, 'none': []})
    assert http_server.recorder.last.path == (
        f'/customers/1.10/red?n=7&f=2.5&big={10 ** 20}&level=3&id={ident}&tags=a&tags=1&tags=1.5')


# ---------------------------------------------------------------------- items 8 and 9: bodies


@pytest.mark.parametrize(('data', 'words'), [
    ({(1, 2): 'x'}, 'key'),
    ({'a': float('nan')}, 'NaN or Infinity'),
    ([1, float('inf')], 'NaN or Infinity'),
    ({float('-inf'): 1}, 'NaN or Infinity'),
    ({'a': Decimal('Infinity')}, 'NaN or Infinity'),
    ({'text': 'a\ud800b'}, 'lone surrogate'),
    ({'a': object()}, 'object'),
], ids=['tuple-key', 'nan', 'inf', 'inf-key', 'decimal-inf', 'surrogate', 'object'])
def test_json_bodies_json_cannot_hold_are_refused(make_conn: Any, http_server: Any, data: Any, words: str) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match=words) as raised:
        item.conn.post('cid-1', data)
    assert "'CRM'" in str(raised.value) and 'cid-1' in str(raised.value)
    assert nothing_sent(http_server)


def test_a_circular_body_is_refused(make_conn: Any, http_server: Any) -> None:
    circular: list[Any] = [1]
    circular.append(circular)
    item = make_conn()
    with pytest.raises(RequestError, match='circular'):
        item.conn.post('cid-1', circular)
    with pytest.raises(RequestError, match='circular'):
        item.conn.post('cid-1', json=circular)
    assert nothing_sent(http_server)


def test_a_body_nested_100000_deep_is_refused(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='nested too deeply'):
        item.conn.post('cid-1', deep_list(100_000))
    with pytest.raises(RequestError, match='nested too deeply'):
        item.conn.post('cid-1', json=deep_list(100_000))
    assert nothing_sent(http_server)


def test_json_keyword_bodies_are_refused_the_same_way(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='NaN or Infinity'):
        item.conn.post('cid-1', json={'a': float('nan')})
    with pytest.raises(RequestError, match='key'):
        item.conn.post('cid-1', json={(1, 2): 'x'})
    assert nothing_sent(http_server)


def test_text_with_a_lone_surrogate_is_refused_without_echoing_it(make_conn: Any, http_server: Any) -> None:
    item = make_conn(data_format='none')
    with pytest.raises(RequestError, match='lone surrogate at position 7') as raised:
        item.conn.post('cid-1', 's3cret-\udc80')
    assert 's3cret' not in str(raised.value)
    assert nothing_sent(http_server)


@pytest.mark.parametrize(('data', 'words'), [
    ({'a': {'b': 1}}, "form field 'a' is of type dict"),
    ({'a': object()}, "form field 'a' is of type object"),
    ({'a': [1, {'b': 2}]}, "form field 'a' is of type dict"),
    ({'a': True}, "form field 'a' is a bool"),
    ({'a': float('nan')}, "form field 'a' is nan"),
    ({'a': b'x'}, 'decode bytes first'),
    ({(1, 2): 'x'}, 'a form field name is of type tuple'),
    (['ab'], r'\(name, value\) pairs'),
])
def test_form_bodies_with_nested_or_unknown_values_are_refused(make_conn: Any, http_server: Any, data: Any,
                                                               words: str) -> None:
    item = make_conn(data_format='form')
    with pytest.raises(RequestError, match=words):
        item.conn.post('cid-1', data)
    assert nothing_sent(http_server)


def test_form_bodies_of_text_numbers_and_lists_are_sent(make_conn: Any, http_server: Any) -> None:
    item = make_conn(data_format='form')
    item.conn.post('cid-1', {'a': 'x y', 'n': 1, 'd': Decimal('2.50'), 'l': ['1', 2], 'skip': None})
    assert http_server.recorder.last.body == b'a=x+y&n=1&d=2.50&l=1&l=2'
    item.conn.post('cid-1', [('a', 1), ('a', 2)])
    assert http_server.recorder.last.body == b'a=1&a=2'


# ---------------------------------------------------------------------- item 8: cid and header values


@pytest.mark.parametrize('cid', ['cid-ż', 'cid-\u2603', 'cid-\ud800', 'cid-\x85', 'cid-\x1b[2J', 'cid\tx'],
                         ids=ascii)
def test_cids_http_cannot_carry_are_refused(make_conn: Any, http_server: Any, cid: str) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='the cid must be one line of text, ASCII or Latin-1'):
        item.conn.get(cid)
    assert nothing_sent(http_server)


def test_a_latin1_cid_is_sent_as_latin1(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.get('cid-é')
    # http.server decodes headers as Latin-1, as http.client encodes them.
    assert http_server.recorder.last.headers['X-Zato-CID'] == 'cid-é'


@pytest.mark.parametrize('value', ['zażółć', 'snow \u2603', 'a\ud800', 'bell\x07', 'del\x7f'], ids=ascii)
def test_header_values_http_cannot_carry_are_refused_without_echoing_them(make_conn: Any, http_server: Any,
                                                                         value: str) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match="header 'X-Note' has a value that cannot be sent") as raised:
        item.conn.get('cid-1', headers={'X-Note': value})
    assert value not in str(raised.value)
    assert nothing_sent(http_server)


@pytest.mark.parametrize('name', ['X-Zażółć', 'X Note', 'X-Note\x85', ''], ids=ascii)
def test_header_names_http_cannot_carry_are_refused(make_conn: Any, http_server: Any, name: str) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='header name'):
        item.conn.get('cid-1', headers={name: 'v'})
    assert nothing_sent(http_server)


def test_latin1_and_tab_in_header_values_are_sent(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.get('cid-1', headers={'X-Note': 'café\tcrème'})
    assert http_server.recorder.last.headers['X-Note'] == 'café\tcrème'


# ---------------------------------------------------------------------- item 11: no raw control character in messages


@pytest.mark.parametrize('cid', ['cid\r\n2026-01-01 INFO forged line', 'cid\x85forged', 'cid\u2028forged'],
                         ids=ascii)
def test_a_refused_cid_is_escaped_in_the_error(make_conn: Any, http_server: Any, cid: str) -> None:
    item = make_conn()
    with pytest.raises(RequestError) as raised:
        item.conn.get(cid)
    error = raised.value
    for text in (str(error), error.message, error.cid):
        assert not any(char in text for char in '\r\n\x85\u2028')
    assert repr(cid)[1:-1] in str(error)
    assert nothing_sent(http_server)


def test_a_refused_header_name_is_escaped_in_the_error(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError) as raised:
        item.conn.get('cid-1', headers={'X-A\r\nX-Forged': 'v'})
    assert '\r' not in str(raised.value) and '\n' not in str(raised.value)
    assert nothing_sent(http_server)


def test_a_refused_query_name_is_escaped_in_the_error(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError) as raised:
        item.conn.get('cid-1', {'line\nbreak': object()})
    assert '\n' not in str(raised.value) and r'line\nbreak' in str(raised.value)
    assert nothing_sent(http_server)


# ---------------------------------------------------------------------- item 12: the template's text reaches the wire


def test_escapes_in_url_path_reach_the_wire_as_written(make_conn: Any, http_server: Any) -> None:
    # requote_uri used to decode %2e, %41 and %7e, so '/a/%2e%2e/b' went out as '/a/../b'.
    item = make_conn(url_path='/a/%41%7e%2e/{x}/b%2fc?q=%2e')
    item.conn.get('cid-1', {'x': 'y'})
    assert http_server.recorder.last.path == '/a/%41%7E%2E/y/b%2Fc?q=%2E'


def test_the_answer_is_json_for_a_sent_body(make_conn: Any, http_server: Any) -> None:
    # A control: a body JSON can hold still goes out, as compact JSON.
    item = make_conn()
    item.conn.post('cid-1', {'a': 1.5, 'b': [None, True]})
    assert json.loads(http_server.recorder.last.body) == {'a': 1.5, 'b': [None, True]}
