"""Security definitions' ids past what the databases hold are no row: 404 for every method, as for connections."""

from __future__ import annotations

import pytest

from tests.admin.conftest import API, problem_of

HUGE = 99_999_999_999_999_999_999


@pytest.mark.parametrize(('method', 'path', 'body'), [
    ('GET', f'/api/v1/security/{HUGE}', None),
    ('PATCH', f'/api/v1/security/{HUGE}', {'username': 'bob'}),
    ('DELETE', f'/api/v1/security/{HUGE}', None),
    ('PUT', f'/api/v1/security/{HUGE}/secret', {'secret': 'Never-Shown-1'}),
])
def test_an_id_no_row_can_have_is_a_404_for_every_method(sqlite_api: API, method: str, path: str,
                                                         body: dict[str, str] | None) -> None:
    problem_of(sqlite_api.call(method, path, json=body), 404)


def test_the_openapi_document_says_the_id_is_an_integer(sqlite_api: API) -> None:
    document = sqlite_api.get('/api/v1/openapi.json').get_json()
    parameters = document['paths']['/api/v1/security/{security_id}']['get']['parameters']
    (found,) = [parameter for parameter in parameters if parameter['name'] == 'security_id']
    assert found['schema']['type'] == 'integer'
