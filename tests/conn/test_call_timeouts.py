"""A caller's own timeout= is checked as the template's are, and never means waiting without one."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from zato_outconn import ReadTimeout, RequestError


@pytest.mark.parametrize('timeout', [-1, 0, 'abc', math.nan, math.inf, True, 1e300, (1, 2, 3), (0, 1), (1, -1),
                                     ('1', 1), object()], ids=repr)
def test_timeouts_that_are_no_seconds_are_refused_naming_timeout(make_conn: Any, http_server: Any,
                                                                  timeout: Any) -> None:
    item = make_conn()
    with pytest.raises(RequestError, match='timeout') as raised:
        item.conn.get('cid-1', timeout=timeout)
    assert "pass seconds, or (connect, read) where None keeps the template's" in str(raised.value)
    assert raised.value.cid == 'cid-1' and raised.value.name == 'CRM'
    assert http_server.recorder.requests == []


@pytest.mark.parametrize('timeout', [(1, None), (None, None), [None, 0.3]], ids=repr)
def test_none_in_a_pair_keeps_the_template_s_value(make_conn: Any, timeout: Any) -> None:
    # The template's read timeout is 0.3 s: a None read timeout must not mean waiting for ever.
    item = make_conn(url_path='/sleep/2', read_timeout=0.3)
    with pytest.raises(ReadTimeout, match='read timeout of 0.3 s'):
        item.conn.get('cid-1', timeout=timeout)


def test_a_valid_per_call_timeout_applies(make_conn: Any) -> None:
    item = make_conn(url_path='/sleep/1', read_timeout=5)
    with pytest.raises(ReadTimeout, match='read timeout of 0.2 s'):
        item.conn.get('cid-1', timeout=0.2)
    assert item.conn.get('cid-2', timeout=(2, 3)).status_code == 200


def test_a_refused_cid_is_shown_escaped_in_the_error_and_the_log(make_conn: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    item = make_conn()
    forged = 'a\nFAKE: admin logged in'
    with caplog.at_level(logging.WARNING, logger='zato_outconn.call'), pytest.raises(RequestError) as raised:
        item.conn.get(forged)
    assert '\n' not in str(raised.value) and 'a\\nFAKE' in str(raised.value)
    lines = [record.getMessage() for record in caplog.records]
    assert lines and all('\n' not in line for line in lines)
    assert any('cid=a\\nFAKE' in line for line in lines)
