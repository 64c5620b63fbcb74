"""If-Match as the API reads it: a tag that names no version of the item is a failed precondition
(412), whatever it holds; a header that is no entity tag at all is a bad field (422); never a 500."""

from __future__ import annotations

import pytest

from tests.admin.conftest import API, problem_of

BASE = '/api/v1/outconns'


@pytest.mark.parametrize('tag', ['"\xb2"', '"١"', 'W/"\xb2"', '"' + '9' * 5000 + '"', f'"{2 ** 31}"',
                                 f'"{2 ** 64}"', '"0"', '"abc"'],
                         ids=['superscript', 'arabic-indic', 'weak', '5000-digits', '2**31', '2**64', 'zero', 'text'])
def test_a_tag_of_no_version_is_a_failed_precondition(api: API, tag: str) -> None:
    outconn_id = api.outconn()
    stale = problem_of(api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 3}, headers={'If-Match': tag}), 412)
    assert 'version 1' in stale['detail'] and len(stale['detail']) < 400
    assert api.get(f'{BASE}/{outconn_id}').get_json()['read_timeout'] != 3


@pytest.mark.parametrize('tag', ['xyz', '\xb2', ''])
def test_a_header_that_is_no_entity_tag_names_the_field(api: API, tag: str) -> None:
    outconn_id = api.outconn()
    bad = problem_of(api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 3}, headers={'If-Match': tag}), 422)
    assert bad['errors'][0]['field'] == 'If-Match'


def test_the_current_version_still_matches(api: API) -> None:
    outconn_id = api.outconn()
    assert api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 3}, headers={'If-Match': '"1"'}).status_code == 200
