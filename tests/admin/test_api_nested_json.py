"""A JSON body nested deeper than Python can read is malformed JSON, a 400 problem, on every route."""

from __future__ import annotations

import pytest

from tests.admin.conftest import API

# Well under the request cap, and far deeper than the recursion limit.
NESTED = '[' * 50_000 + ']' * 50_000


@pytest.mark.parametrize('path', ['/api/v1/outconns', '/api/v1/security', '/api/v1/import'])
def test_a_body_nested_too_deeply_is_a_bad_request(sqlite_api: API, path: str) -> None:
    response = sqlite_api.post(path, data=NESTED, headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert response.mimetype == 'application/problem+json'
    assert 'not valid JSON' in response.get_json()['detail']
    assert sqlite_api.get('/api/v1/outconns').get_json()['total'] == 0
