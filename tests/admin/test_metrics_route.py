"""``GET /metrics``: Prometheus text for every role (all have metrics.read), 401 without credentials."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from zato_outconn import metrics
from zato_outconn.admin.auth import SessionUser

from tests.admin.conftest import API, ROLES, problem_of


@pytest.mark.parametrize('role', ROLES)
def test_every_role_reads_the_metrics_as_prometheus_text(sqlite_api: API, role: str) -> None:
    name = f'CRM {uuid.uuid4().hex[:8]}'
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.01)
    metrics.count_error(name, 'ReadTimeout')
    answer = sqlite_api.get('/metrics', role)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == 'text/plain'
    families = list(text_string_to_metric_families(answer.get_data(as_text=True)))
    figures = metrics.summarise(families, name)
    assert figures['calls'] == 1 and figures['errors'] == 1 and figures['codes'] == {'200': 1}


def test_without_credentials_the_answer_is_401(sqlite_api: API) -> None:
    problem_of(sqlite_api.get('/metrics', None), 401)
    problem_of(sqlite_api.get('/metrics', None, headers={'Authorization': 'Bearer not-a-token'}), 401)


def test_a_signed_in_session_reads_them_too(sqlite_api: API) -> None:
    sqlite_api.store.create_user('vera', 'viewer', 'Viewer-pass-123')
    client = sqlite_api.app.test_client()
    with client.session_transaction() as session:
        record = sqlite_api.store.get_user('vera')
        session['_user_id'] = SessionUser(record).get_id()
        session['_fresh'] = True
    assert client.get('/metrics').status_code == 200


def test_a_role_without_metrics_read_is_refused_with_403(sqlite_api: API, monkeypatch: pytest.MonkeyPatch) -> None:
    from zato_outconn.config import roles

    monkeypatch.setitem(roles.ROLES, 'viewer', roles.ROLES['viewer'] - {'metrics.read'})
    problem_of(sqlite_api.get('/metrics', 'viewer'), 403)


def test_the_openapi_document_describes_it(sqlite_api: API) -> None:
    document = sqlite_api.get('/api/v1/openapi.json').get_json()
    operation = document['paths']['/metrics']['get']
    assert operation['security'] == [{'bearer': ['metrics.read']}]
    assert 'text/plain' in operation['responses']['200']['content']
    assert {'401', '403'} <= set(operation['responses'])
