"""The direct route sends each request target as urllib3's urlopen would, from a bounded cache."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util.url import _encode_target

from zato_outconn.wire import pool


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
