"""What ``item.conn`` puts on the wire, checked at a real server: headers, auth, paths, bodies."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from zato_outconn import Inactive, MissingParameter, RequestError


def seen_body(http_server: Any) -> bytes:
    return http_server.recorder.last.body


# ---------------------------------------------------------------------- X-Zato headers


def test_zato_headers_have_the_documented_formats(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.get('cid-123')

    headers = http_server.recorder.last.headers
    assert headers['X-Zato-CID'] == 'cid-123'

    cluster, server, host, pid, thread = headers['X-Zato-Component'].split('/')
    assert (cluster, server) == ('parallel', 'esb1')
    assert host and pid == str(os.getpid())
    assert thread == threading.current_thread().name

    timestamp = headers['X-Zato-Msg-TS']
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}', timestamp)
    sent = datetime.fromisoformat(timestamp).replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - sent) < timedelta(seconds=5)


def test_component_names_the_calling_thread(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    worker = threading.Thread(target=item.conn.get, args=('cid-1',), name='Thread-42')
    worker.start()
    worker.join()
    assert http_server.recorder.last.headers['X-Zato-Component'].endswith('/Thread-42')


def test_callers_headers_win(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.post('cid-1', {'a': 1}, headers={'X-Zato-CID': 'mine', 'Content-Type': 'application/vnd.x+json',
                                               'X-Extra': 'yes'})
    headers = http_server.recorder.last.headers
    assert headers['X-Zato-CID'] == 'mine'
    assert headers['Content-Type'] == 'application/vnd.x+json'
    assert headers['X-Extra'] == 'yes'


def test_headers_can_be_renamed_or_switched_off(make_conn: Any, http_server: Any) -> None:
    item = make_conn(cid_header='X-Correlation-ID', component_header='', msg_ts_header='')
    item.conn.get('cid-9')
    headers = http_server.recorder.last.headers
    assert headers['X-Correlation-ID'] == 'cid-9'
    assert not {'X-Zato-CID', 'X-Zato-Component', 'X-Zato-Msg-TS'} & set(headers)


def test_invalid_caller_header_is_refused_before_sending(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(ValueError):
        item.conn.get('cid-1', headers={'X-Bad': 'line\r\nInjected: yes'})
    assert http_server.recorder.requests == []


# ---------------------------------------------------------------------- security


def test_basic_auth_is_applied_without_code(make_conn: Any, http_server: Any) -> None:
    item = make_conn(security={'name': 'crm-creds', 'sec_type': 'basic_auth', 'username': 'alice',
                               'secret': 'zażółć s3cret'})
    item.conn.get('cid-1')
    scheme, token = http_server.recorder.last.headers['Authorization'].split(' ')
    assert scheme == 'Basic'
    assert base64.b64decode(token).decode('utf-8') == 'alice:zażółć s3cret'
    assert item.conn.auth == ('alice', 'zażółć s3cret')


def test_apikey_uses_its_header(make_conn: Any, http_server: Any) -> None:
    item = make_conn(security={'name': 'key', 'sec_type': 'apikey', 'secret': 'k-123'})
    item.conn.get('cid-1')
    assert http_server.recorder.last.headers['X-API-Key'] == 'k-123'
    assert item.conn.auth is None

    other = make_conn('Other', security={'name': 'key2', 'sec_type': 'apikey', 'secret': 'k-456',
                                         'header_name': 'X-Partner-Key'})
    other.conn.get('cid-1')
    assert http_server.recorder.last.headers['X-Partner-Key'] == 'k-456'
    assert 'X-API-Key' not in http_server.recorder.last.headers


def test_bearer_token(make_conn: Any, http_server: Any) -> None:
    item = make_conn(security={'name': 'tok', 'sec_type': 'bearer', 'secret': 'eyJ.abc.def'})
    item.conn.post('cid-1', {'x': 1})
    assert http_server.recorder.last.headers['Authorization'] == 'Bearer eyJ.abc.def'


def test_security_applies_on_every_verb_and_ping(make_conn: Any, http_server: Any) -> None:
    item = make_conn(security={'name': 'tok', 'sec_type': 'bearer', 'secret': 'T'})
    conn = item.conn
    for call in (conn.get, conn.post, conn.send, conn.put, conn.patch, conn.delete, conn.options):
        call('cid-1')
    conn.ping('cid-1')
    methods = [(seen.method, seen.headers.get('Authorization')) for seen in http_server.recorder.requests]
    assert methods == [(method, 'Bearer T') for method in
                       ('GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD')]


def test_password_change_reaches_the_registry(runtime: Any, make_conn: Any, http_server: Any) -> None:
    make_conn(security={'name': 'crm-creds', 'sec_type': 'basic_auth', 'username': 'alice', 'secret': 'old'})
    runtime.store.set_secret('crm-creds', 'new')
    runtime.outgoing.plain_http['CRM'].conn.get('cid-1')
    token = http_server.recorder.last.headers['Authorization'].split(' ')[1]
    assert base64.b64decode(token) == b'alice:new'


# ---------------------------------------------------------------------- URL path and query


def test_placeholders_are_filled_and_the_rest_is_the_query(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}/orders')
    params = {'cust_id': 1, 'type_id': 2, 'tag': ['a', 'b'], 'skip': None}
    item.conn.get('cid-1', params)
    assert http_server.recorder.last.path == '/customers/1/orders?type_id=2&tag=a&tag=b'
    assert params == {'cust_id': 1, 'type_id': 2, 'tag': ['a', 'b'], 'skip': None}


@pytest.mark.parametrize(('value', 'encoded'), [
    ('../x', '..%2Fx'),
    ('a/b?c#d', 'a%2Fb%3Fc%23d'),
    ('zażółć gęślą', 'za%C5%BC%C3%B3%C5%82%C4%87%20g%C4%99%C5%9Bl%C4%85'),
    ('100%', '100%25'),
])
def test_placeholder_values_cannot_leave_their_segment(make_conn: Any, http_server: Any, value: str,
                                                       encoded: str) -> None:
    item = make_conn(url_path='/customers/{cust_id}/profile')
    item.conn.get('cid-1', {'cust_id': value})
    assert http_server.recorder.last.path == f'/customers/{encoded}/profile'


@pytest.mark.parametrize('value', ['.', '..'])
def test_dot_segment_values_are_refused(make_conn: Any, http_server: Any, value: str) -> None:
    item = make_conn(url_path='/customers/{cust_id}/profile')
    with pytest.raises(RequestError, match='cust_id'):
        item.conn.get('cid-1', {'cust_id': value})
    assert http_server.recorder.requests == []


def test_missing_placeholder_is_named(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}/cases/{case_id}')
    with pytest.raises(MissingParameter) as raised:
        item.conn.get('cid-7', {'cust_id': 1})
    assert raised.value.placeholder == 'case_id'
    assert '{case_id}' in str(raised.value) and "'CRM'" in str(raised.value) and 'cid-7' in str(raised.value)
    assert http_server.recorder.requests == []


def test_static_query_in_url_path_is_kept(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/search?api-version=2')
    item.conn.get('cid-1', {'q': 'a b'})
    assert http_server.recorder.last.path == '/search?api-version=2&q=a+b'


def test_params_as_a_keyword_on_post(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}')
    item.conn.post('cid-1', {'name': 'x'}, params={'cust_id': 5, 'dry_run': 'true'})
    assert http_server.recorder.last.path == '/customers/5?dry_run=true'


# ---------------------------------------------------------------------- bodies


def test_dict_is_sent_as_json(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.post('cid-1', {'name': 'Zoë', 'when': datetime(2026, 1, 2, 3, 4, 5)})
    seen = http_server.recorder.last
    assert seen.headers['Content-Type'] == 'application/json'
    assert json.loads(seen.body.decode('utf-8')) == {'name': 'Zoë', 'when': '2026-01-02T03:04:05'}


def test_form_format(make_conn: Any, http_server: Any) -> None:
    item = make_conn(data_format='form')
    item.conn.post('cid-1', {'a': 'x y', 'b': ['1', '2']})
    seen = http_server.recorder.last
    assert seen.headers['Content-Type'] == 'application/x-www-form-urlencoded'
    assert seen.body == b'a=x+y&b=1&b=2'


def test_text_is_utf8_and_bytes_go_as_given(make_conn: Any, http_server: Any) -> None:
    item = make_conn(data_format='none')
    item.conn.post('cid-1', 'Zażółć gęślą jaźń ✓')
    seen = http_server.recorder.last
    assert seen.body == 'Zażółć gęślą jaźń ✓'.encode('utf-8')
    assert seen.headers['Content-Type'] == 'text/plain; charset=utf-8'
    assert seen.headers['Content-Length'] == str(len(seen.body))

    item.conn.post('cid-1', b'\x00\xff raw')
    seen = http_server.recorder.last
    assert seen.body == b'\x00\xff raw'
    assert 'Content-Type' not in seen.headers


def test_explicit_content_type_wins(make_conn: Any, http_server: Any) -> None:
    item = make_conn(content_type='application/xml; charset=utf-8')
    item.conn.post('cid-1', '<a>ż</a>')
    seen = http_server.recorder.last
    assert seen.headers['Content-Type'] == 'application/xml; charset=utf-8'
    assert seen.body == '<a>ż</a>'.encode('utf-8')


def test_dict_without_a_data_format_is_refused(make_conn: Any, http_server: Any) -> None:
    item = make_conn(data_format='none')
    with pytest.raises(RequestError, match='data_format'):
        item.conn.post('cid-1', {'a': 1})
    assert http_server.recorder.requests == []


def test_get_sends_no_body(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.get('cid-1')
    seen = http_server.recorder.last
    assert seen.body == b'' and 'Content-Type' not in seen.headers and 'Content-Length' not in seen.headers


def test_requests_keywords_pass_through(make_conn: Any, http_server: Any) -> None:
    item = make_conn()
    item.conn.post('cid-1', json={'k': [1, 2]})
    assert json.loads(seen_body(http_server)) == {'k': [1, 2]}
    with pytest.raises(TypeError, match='bogus'):
        item.conn.get('cid-1', bogus=1)


# ---------------------------------------------------------------------- responses


def test_error_status_is_a_response_not_an_exception(make_conn: Any) -> None:
    item = make_conn(url_path='/status/{code}')
    response = item.conn.get('cid-1', {'code': 503})
    assert response.status_code == 503
    assert response.json()['path'] == '/status/503'


def test_non_ascii_response_round_trip(make_conn: Any) -> None:
    item = make_conn()
    response = item.conn.post('cid-1', {'city': 'Łódź'})
    assert json.loads(response.json()['body']) == {'city': 'Łódź'}


def test_prefetch_false_streams(make_conn: Any) -> None:
    item = make_conn()
    response = item.conn.get('cid-1', prefetch=False)
    assert response.raw is not None and not response._content_consumed
    assert json.loads(b''.join(response.iter_content(16)))['method'] == 'GET'


def test_redirects_are_not_followed_by_default(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/redirect/status/201')
    assert item.conn.get('cid-1').status_code == 302
    following = make_conn('Following', url_path='/redirect/status/201', follow_redirects=True)
    assert following.conn.get('cid-1').status_code == 201


# ---------------------------------------------------------------------- inactive and logging


def test_inactive_connection_refuses_every_call(make_conn: Any, http_server: Any) -> None:
    item = make_conn(is_active=False)
    for call in (item.conn.get, item.conn.post, item.conn.ping):
        with pytest.raises(Inactive, match="'CRM'"):
            call('cid-1')
    assert http_server.recorder.requests == []


def test_one_info_line_per_call_without_secrets(make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    item = make_conn(url_path='/customers/{cust_id}',
                     security={'name': 'c', 'sec_type': 'basic_auth', 'username': 'alice', 'secret': 'pw-XYZ'})
    with caplog.at_level(logging.INFO, logger='zato_outconn'):
        item.conn.get('cid-55', {'cust_id': 3})
    lines = [record.getMessage() for record in caplog.records if record.name == 'zato_outconn.call']
    assert len(lines) == 1
    assert all(part in lines[0] for part in ('CRM', 'GET', '/customers/3', '200', 'cid-55'))
    token = base64.b64encode(b'alice:pw-XYZ').decode()
    assert 'pw-XYZ' not in caplog.text and token not in caplog.text
    assert 'pw-XYZ' not in repr(item.conn.security) and token not in repr(item.conn._plan)


def test_none_or_empty_placeholder_values_are_refused(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}/orders')
    with pytest.raises(MissingParameter, match='cust_id'):
        item.conn.get('cid-1', {'cust_id': None})
    with pytest.raises(RequestError, match='cust_id'):
        item.conn.get('cid-1', {'cust_id': ''})
    assert http_server.recorder.requests == []


def test_unsendable_cid_and_header_values_are_refused_without_echoing_them(make_conn: Any,
                                                                          http_server: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='cid'):
        item.conn.get('cid\r\nX-Injected: 1')
    with pytest.raises(RequestError) as raised:
        item.conn.get('cid-1', headers={'Authorization': 'Bearer s3cret\r\nX: y'})
    assert 'Authorization' in str(raised.value) and 's3cret' not in str(raised.value)
    assert http_server.recorder.requests == []

    # None removes a header, as in requests.
    item.conn.get('cid-1', headers={'X-Zato-Component': None})
    assert 'X-Zato-Component' not in http_server.recorder.last.headers


def test_auth_gives_username_and_password_of_any_type_with_both(make_conn: Any) -> None:
    digest = make_conn(security={'name': 'd', 'sec_type': 'digest', 'username': 'alice', 'secret': 'pw'})
    assert digest.conn.auth == ('alice', 'pw')
    bearer = make_conn('Bearer', security={'name': 'b', 'sec_type': 'bearer', 'secret': 'T'})
    assert bearer.conn.auth is None
