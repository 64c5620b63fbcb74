"""conn.ping: one call with the ping method, reported as text with its facts as attributes."""

from __future__ import annotations

import re
from typing import Any

from tests.support.servers import refused_port


def test_ping_reports_success(make_conn: Any, http_server: Any) -> None:
    item = make_conn(url_path='/customers/{cust_id}/orders')
    result = item.conn.ping('cid-p')

    assert isinstance(result, str)
    assert result.ok is True and result.error is None
    assert result.status_code == 200
    assert result.method == 'HEAD'
    assert result.url == f'{http_server.url}/customers/'
    assert result.elapsed > 0
    assert re.search(r'HEAD http://127\.0\.0\.1:\d+/customers/ -> 200 OK in \d+\.\d{4} s at '
                     r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6} UTC', result)

    seen = http_server.recorder.last
    assert (seen.method, seen.path) == ('HEAD', '/customers/')
    assert seen.headers['X-Zato-CID'] == 'cid-p'


def test_ping_method_is_configurable(make_conn: Any, http_server: Any) -> None:
    item = make_conn(ping_method='get', url_path='/health?deep=1')
    result = item.conn.ping('cid-p')
    assert result.ok and result.method == 'GET'
    assert http_server.recorder.last.path == '/health?deep=1'


def test_error_status_is_not_ok(make_conn: Any) -> None:
    result = make_conn(url_path='/status/503').conn.ping('cid-p')
    assert result.ok is False and result.status_code == 503
    assert result.startswith('FAIL') and '503' in result


def test_transport_failure_is_not_ok_and_says_why(make_conn: Any) -> None:
    result = make_conn(host=f'http://127.0.0.1:{refused_port()}').conn.ping('cid-p')
    assert result.ok is False and result.status_code is None
    assert 'refused' in result.error.lower() and 'refused' in result.lower()


def test_ping_never_retries(make_conn: Any, http_server: Any) -> None:
    result = make_conn(url_path='/sleep/1', read_timeout=0.2, ping_method='GET').conn.ping('cid-p')
    assert result.ok is False and 'read timeout' in result.error
    assert len(http_server.recorder.requests) == 1
