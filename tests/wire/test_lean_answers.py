"""What the lean send path builds without requests' own constructors is what they would build.

The direct route makes its ``requests.Response`` attribute by attribute, and the preparation its
headers from a copied store; these tests hold both to what requests makes, on both send paths.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import requests

from zato_outconn.conn.headers import msg_timestamp

from tests.support.raw_servers import RawServer, answer, read_request


def test_the_answer_has_every_attribute_a_requests_response_has(make_conn: Any) -> None:
    item = make_conn()
    response = item.conn.get('cid-1')
    made = set(vars(requests.Response()))
    # HTTPAdapter.build_response adds the adapter; a prefetched body adds nothing else.
    assert set(vars(response)) == made | {'connection'}
    assert response._content_consumed is True and response._next is None
    assert isinstance(response.cookies, requests.cookies.RequestsCookieJar) and not response.cookies
    assert type(response.headers) is requests.structures.CaseInsensitiveDict


def test_repeated_header_names_are_joined_as_requests_joins_them(make_conn: Any) -> None:
    def script(sock: Any, _: int) -> None:
        while read_request(sock):
            sock.sendall(answer(b'ok', headers='X-Tag: a\r\nx-tag: b\r\nContent-Type: text/plain; charset=latin-1\r\n'))

    with RawServer(script) as server:
        response = make_conn(host=server.url).conn.get('cid-1')
    assert response.headers['X-TAG'] == 'a, b' and response.headers.get('x-tag') == 'a, b'
    assert response.encoding == 'latin-1' and response.text == 'ok'
    assert 'X-Tag' in list(response.headers)


def test_a_sent_request_can_be_sent_again_through_the_session(make_conn: Any, http_server: Any) -> None:
    item = make_conn(security={'name': 'crm-basic', 'sec_type': 'basic_auth', 'username': 'u', 'secret': 'p'})
    first = item.conn.get('cid-1')
    again = item.conn.session.send(first.request.copy(), allow_redirects=True, timeout=5)
    try:
        assert again.status_code == 200
        assert again.request.headers['Authorization'] == first.request.headers['Authorization']
        assert again.json()['headers']['X-Zato-CID'] == 'cid-1'
    finally:
        again.close()


def test_a_post_body_gets_the_length_requests_would_give_it(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    sent = item.conn.post('cid-1', data='abc').request
    assert sent.headers['Content-Length'] == '3'
    expected = requests.Request('POST', http_server.url, data=b'abc').prepare()
    assert sent.headers['Content-Length'] == expected.headers['Content-Length']
    empty = item.conn.post('cid-2', data=None).request
    assert empty.headers['Content-Length'] == '0'


def test_the_timestamp_is_utc_with_microseconds_and_no_offset() -> None:
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    stamp = msg_timestamp()
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}', stamp)
    assert before <= datetime.fromisoformat(stamp) <= after
