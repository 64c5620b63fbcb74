"""Ids in the connections API's paths: one past what the databases hold is no row (404) for every
method, never 405; and the OpenAPI document says the id is an integer."""

from __future__ import annotations

import pytest

from tests.admin.conftest import API, problem_of

BASE = '/api/v1/outconns'
HUGE = 2 ** 31
CALLS = [('get', '', None), ('patch', '', {'read_timeout': 3}), ('delete', '', None), ('post', '/ping', None),
         ('get', '/history', None), ('post', '/rollback', {'version': 1})]


@pytest.mark.parametrize(('method', 'tail', 'body'), CALLS)
@pytest.mark.parametrize('number', [HUGE, 10 ** 40])
def test_an_id_no_row_can_have_is_404_for_every_method(sqlite_api: API, method: str, tail: str,
                                                       body: dict[str, int] | None, number: int) -> None:
    answer = sqlite_api.call(method, f'{BASE}/{number}{tail}', json=body)
    problem_of(answer, 404)


@pytest.mark.parametrize(('method', 'tail', 'body'), CALLS)
def test_the_largest_id_is_an_ordinary_404(sqlite_api: API, method: str, tail: str,
                                           body: dict[str, int] | None) -> None:
    problem_of(sqlite_api.call(method, f'{BASE}/{HUGE - 1}{tail}', json=body), 404)


def test_the_document_says_the_id_is_an_integer(sqlite_api: API) -> None:
    spec = sqlite_api.get('/api/v1/openapi.json').get_json()
    for path, operations in spec['paths'].items():
        if not path.startswith(f'{BASE}/{{outconn_id}}'):
            continue
        for method, operation in operations.items():
            ids = [p for p in operation['parameters'] if p['in'] == 'path']
            assert ids == [{'in': 'path', 'name': 'outconn_id', 'required': True,
                            'schema': {'type': 'integer', 'minimum': 0, 'maximum': HUGE - 1}}], (path, method)
