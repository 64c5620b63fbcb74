"""The direct route sends each request target as urllib3's urlopen would, from a bounded cache."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util.url import _encode_target

from zato_outconn import OutconnConfig
from zato_outconn.wire import pool
from zato_outconn.wire.direct import DIRECT_ENV
from zato_outconn.wire.session import open_session


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('az09/?=&%2fF[]{} |"\xe9\u20ac#:@!$'), max_size=16))
def test_a_target_is_what_urlopen_sends(rest: str) -> None:
    target = '/' + rest
    assert pool._encoded_target(target) == _encode_target(target)
    assert pool._encoded_target(target) == _encode_target(target)  # and from the cache


def test_the_cache_stays_bounded() -> None:
    for number in range(2000):
        assert pool._encoded_target(f'/customers/{number}?q=[{number}]') == f'/customers/{number}?q=%5B{number}%5D'
    assert len(pool._TARGETS) <= 512


def test_only_a_url_with_a_path_after_the_origin_takes_the_direct_route(monkeypatch: pytest.MonkeyPatch) -> None:
    # A target must start with '/': anything else after the origin (a bare query, another port,
    # a longer host name) goes the full way, where requests works the target out.
    monkeypatch.setenv(DIRECT_ENV, '1')  # a question about the direct route alone, on either path
    opened = open_session(OutconnConfig(name='CRM', host='http://127.0.0.1:9'), name='CRM')
    try:
        route = opened.route
        assert route is not None
        for url, taken in [('http://127.0.0.1:9/', True), ('http://127.0.0.1:9/a?b=c', True),
                           ('http://127.0.0.1:9?b=c', False), ('http://127.0.0.1:9', False),
                           ('http://127.0.0.1:90/a', False), ('http://127.0.0.1:9.example/a', False)]:
            prepared = requests.PreparedRequest()
            prepared.prepare(method='GET', url='http://127.0.0.1:9/', hooks={})
            prepared.url = url  # as a hand-built request might leave it
            assert route.takes(prepared, route._settings) is taken, url
    finally:
        opened.close()
