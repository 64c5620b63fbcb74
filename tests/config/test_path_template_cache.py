"""Filling a path template keeps the percent-encoding of short values: what it builds must be what
urllib builds from the same values, byte for byte, whether the value's encoding was kept or not."""

from __future__ import annotations

from enum import Enum
from urllib.parse import quote, urlencode

import pytest

from zato_outconn.config import path_template
from zato_outconn.config.path_template import DotSegment, PathTemplate

TRICKY = ['a b', ' ', 'a+b', 'caf\u00e9', '\u6771\u4eac', '\U0001f600', 'a/b', '/', '100%', '%41', '%2e%2e', 'a?b',
          '?', 'a#b', '#', '..x', 'x..', '...', '.a', '&', 'a=b&c=d', ';,', "~-._!$'()*", '\t\n', '\x00',
          'x' * 63, 'x' * 64, '\u00e9' * 63, '\u00e9' * 64, 'a b/' * 40, 0, -1, 10 ** 30]

TEMPLATE = PathTemplate.parse('/customers/{cust_id}/orders?api-version=2')


class Kind(str, Enum):  # noqa: UP042 - a StrEnum member's str() is its value, this one's is not
    # str() of such a member is 'Kind.NAME' (its value is 'x y'): urlencode sends what str() gives.
    NAME = 'x y'


def expected(value: object, extra: dict[str, object]) -> tuple[str, str]:
    text = value if isinstance(value, str) else repr(value)
    query = urlencode([(str(key), item if isinstance(item, str) else repr(item)) for key, item in extra.items()])
    return f"/customers/{quote(text, safe='')}/orders", 'api-version=2' + (f'&{query}' if query else '')


@pytest.mark.parametrize('value', TRICKY, ids=repr)
def test_a_value_fills_as_urllib_encodes_it_kept_or_not(value: object) -> None:
    params = {'cust_id': value, 'q': value, str(value): 'v'}
    extra = {'q': value, str(value): 'v'}
    path_template._segment_quoted.cache_clear()
    path_template._plus_quoted.cache_clear()
    first = TEMPLATE.fill(params)
    # The second time from what the first kept (for the short ones).
    assert TEMPLATE.fill(params) == first == expected(value, extra)


def test_a_str_subclass_name_goes_out_as_its_str() -> None:
    # Equal to 'x y', whose encoding is kept first: the member must not get it.
    assert TEMPLATE.fill({'cust_id': 1, 'x y': 'b'})[1] == 'api-version=2&x+y=b'
    path, query = TEMPLATE.fill({'cust_id': 1, Kind.NAME: 'a'})
    assert path == '/customers/1/orders'
    assert query == 'api-version=2&' + urlencode([(Kind.NAME, 'a')]) == 'api-version=2&Kind.NAME=a'


@pytest.mark.parametrize('value', ['.', '..', ''])
def test_dot_segments_are_still_refused(value: str) -> None:
    for _ in range(2):
        with pytest.raises(DotSegment):
            TEMPLATE.fill({'cust_id': value})


def test_long_values_are_not_kept() -> None:
    path_template._segment_quoted.cache_clear()
    path_template._plus_quoted.cache_clear()
    TEMPLATE.fill({'cust_id': 'x' * 64, 'q': 'y' * 100})
    assert path_template._segment_quoted.cache_info().currsize == 0
    assert path_template._plus_quoted.cache_info().currsize == 1  # the name q only
