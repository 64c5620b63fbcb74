"""Who may call what: every route for every role and for nobody, sessions beside tokens, CSRF, headers."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from zato_outconn import ConfigError, Store
from zato_outconn.admin import create_app
from zato_outconn.admin.auth import SessionUser
from zato_outconn.admin.settings import SECRET_KEY_ENV
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

from tests.admin.conftest import API, ROLES, SECRET_KEY, make_app, problem_of

ONE_OUTCONN = '/api/v1/outconns/{o}'
ONE_SECURITY = '/api/v1/security/{s}'
DOCUMENT = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [],
            'outconns': [{'name': 'Imported', 'host': 'http://imported.example.com'}]}

# method, path, body, the permission it needs, the status when allowed.
ROUTES: list[tuple[str, str, Any, str, int]] = [
    ('GET', '/api/v1/outconns', None, 'outconn.read', 200),
    ('POST', '/api/v1/outconns', {'name': 'New', 'host': 'http://new.example.com'}, 'outconn.write', 201),
    ('GET', ONE_OUTCONN, None, 'outconn.read', 200),
    ('PATCH', ONE_OUTCONN, {'read_timeout': 3}, 'outconn.write', 200),
    ('PATCH', ONE_OUTCONN, {'is_active': False}, 'outconn.activate', 200),
    ('DELETE', ONE_OUTCONN, None, 'outconn.write', 204),
    ('POST', ONE_OUTCONN + '/ping', None, 'outconn.ping', 200),
    ('GET', ONE_OUTCONN + '/history', None, 'outconn.read', 200),
    ('POST', ONE_OUTCONN + '/rollback', {'version': 1}, 'outconn.write', 200),
    ('GET', '/api/v1/security', None, 'security.read', 200),
    ('POST', '/api/v1/security', {'name': 'new', 'sec_type': 'bearer', 'secret': 'tok-en'}, 'security.write', 201),
    ('GET', ONE_SECURITY, None, 'security.read', 200),
    ('PATCH', ONE_SECURITY, {'username': 'bob'}, 'security.write', 200),
    ('DELETE', ONE_SECURITY, None, 'security.write', 204),
    ('PUT', ONE_SECURITY + '/secret', {'secret': 'An0ther-secret'}, 'security.write', 204),
    ('GET', '/api/v1/export', None, 'transfer.export', 200),
    ('POST', '/api/v1/import', DOCUMENT, 'transfer.import', 200),
    ('GET', '/api/v1/nodes', None, 'outconn.read', 200),
]
PERMITTED = {
    'viewer': {'outconn.read', 'security.read'},
    'operator': {'outconn.read', 'security.read', 'outconn.ping', 'outconn.activate'},
    'admin': {'outconn.read', 'outconn.write', 'outconn.ping', 'outconn.activate', 'security.read',
              'security.write', 'transfer.export', 'transfer.import'},
}


@pytest.mark.parametrize(('method', 'path', 'body', 'permission', 'allowed'), ROUTES,
                         ids=[f'{method} {path} {permission}' for method, path, _, permission, _ in ROUTES])
def test_every_route_for_every_role(sqlite_api: API, method: str, path: str, body: Any, permission: str,
                                    allowed: int) -> None:
    api = sqlite_api
    url = path.format(o=api.outconn('CRM'), s=api.security('creds'))
    problem_of(api.call(method, url, role=None, json=body), 401)
    problem_of(api.call(method, url, role=None, json=body, headers={'Authorization': 'Bearer zoc_not-a-token'}), 401)
    for role in ROLES:
        response = api.call(method, url, role=role, json=body)
        if permission in PERMITTED[role]:
            assert response.status_code == allowed, (role, response.get_data(as_text=True))
        else:
            problem_of(response, 403)


def test_an_operator_may_patch_is_active_only(sqlite_api: API) -> None:
    outconn_id = sqlite_api.outconn('CRM')
    url = f'/api/v1/outconns/{outconn_id}'
    body = problem_of(sqlite_api.patch(url, role='operator', json={'is_active': False, 'host': 'http://evil'}), 403)
    assert 'host' in body['detail']
    assert sqlite_api.store.outconn_by_id(outconn_id).config.is_active is True
    assert sqlite_api.patch(url, role='operator', json={'is_active': False}).get_json()['is_active'] is False
    history = sqlite_api.store.history('outconn', outconn_id)
    assert (history[-1].action, history[-1].changed_by) == ('deactivate', 'token:operator-bot')


def _session_for(api: API, name: str, role: str) -> SessionUser:
    user = SessionUser(api.store.create_user(name, role, 'Pa55word-of-' + name))
    with api.client.session_transaction() as session:
        session['_user_id'] = user.get_id()
        session['_fresh'] = True
        session['csrf_token'] = 'raw-csrf-token-of-the-session'
    return user


def _csrf_header() -> dict[str, str]:
    # What a page's form or script carries: the session's CSRF token, signed as Flask-WTF signs it.
    return {'X-CSRFToken': URLSafeTimedSerializer(SECRET_KEY, salt='wtf-csrf-token').dumps(
        'raw-csrf-token-of-the-session')}


def test_a_signed_in_session_works_and_its_changes_need_the_csrf_token(sqlite_api: API) -> None:
    api = sqlite_api
    _session_for(api, 'alice', 'admin')
    assert api.get('/api/v1/outconns', role=None).status_code == 200
    body = {'name': 'CRM', 'host': 'http://crm.example.com'}
    assert 'CSRF' in problem_of(api.post('/api/v1/outconns', role=None, json=body), 400)['detail']
    assert api.store.list_outconns() == []
    created = api.post('/api/v1/outconns', role=None, json=body, headers=_csrf_header())
    assert created.status_code == 201, created.get_data(as_text=True)
    assert api.store.history('outconn', created.get_json()['id'])[0].changed_by == 'admin:alice'


def test_a_session_role_is_checked_and_a_password_change_ends_the_session(sqlite_api: API) -> None:
    api = sqlite_api
    _session_for(api, 'victor', 'viewer')
    problem_of(api.post('/api/v1/outconns', role=None, json={'name': 'x', 'host': 'http://x'},
                        headers=_csrf_header()), 403)
    assert api.get('/api/v1/outconns', role=None).status_code == 200
    api.store.set_user_password('victor', 'A-new-pa55word')
    problem_of(api.get('/api/v1/outconns', role=None), 401)


def test_security_headers_on_every_answer(sqlite_api: API) -> None:
    api = sqlite_api
    answers = [api.get('/api/v1/outconns'), api.get('/api/v1/outconns', role=None), api.get('/api/v1/nowhere'),
               api.get('/api/v1/outconns', query_string={'limit': 501}), api.get('/healthz'),
               api.get('/api/v1/openapi.json', role=None), api.get('/api/v1/docs', role=None),
               api.get('/api/v1/outconns', headers={'Accept': 'text/csv'})]
    for response in answers:
        csp = response.headers['Content-Security-Policy']
        assert "script-src 'self'" in csp and 'unsafe-inline' not in csp and "frame-ancestors 'none'" in csp
        assert response.headers['X-Content-Type-Options'] == 'nosniff'
        assert response.headers['X-Frame-Options'] == 'DENY'
        assert response.headers['Referrer-Policy'] == 'same-origin'


def test_healthz_needs_no_credentials_and_says_503_when_the_database_is_gone(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        api = API(make_app(store), store)
        assert api.get('/healthz', role=None).status_code == 200
        os.unlink(sqlite_url.removeprefix('sqlite:///'))
        problem_of(api.get('/healthz', role=None), 503)
    finally:
        store.close()


def test_the_openapi_document_and_its_page(sqlite_api: API) -> None:
    spec = sqlite_api.get('/api/v1/openapi.json', role=None).get_json()
    assert spec['openapi'].startswith('3.1')
    create = spec['paths']['/api/v1/outconns']['post']
    assert create['requestBody']['required'] is True
    assert {'201', '400', '401', '403', '409', '422'} <= set(create['responses'])
    assert 'application/problem+json' in create['responses']['422']['content']
    assert 'text/csv' in spec['paths']['/api/v1/outconns']['get']['responses']['200']['content']
    page = sqlite_api.get('/api/v1/docs', role=None)
    assert page.status_code == 200 and page.mimetype == 'text/html'
    text = page.get_data(as_text=True)
    assert '/api/v1/outconns/{outconn_id}/ping' in text and 'outconn.ping' in text and '<script' not in text


def test_camel_case_and_pretty_json_by_environment(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_JSON_CASE', 'camel')
    monkeypatch.setenv('ZATO_OUTCONN_JSON_PRETTY', '1')
    api = API(make_app(sqlite_store), sqlite_store)
    outconn_id = api.outconn('CRM')
    # Read as sent: the test client's get_json would read it through the app, back into snake_case.
    response = api.get(f'/api/v1/outconns/{outconn_id}')
    assert response.get_data(as_text=True).startswith('{\n  "name"')
    item = json.loads(response.get_data())
    assert item['readTimeout'] == 10.0 and 'read_timeout' not in item
    changed = json.loads(api.patch(f'/api/v1/outconns/{outconn_id}', json={'readTimeout': 2, 'isActive': False})
                         .get_data())
    assert (changed['readTimeout'], changed['isActive']) == (2.0, False)
    assert json.loads(api.get('/api/v1/outconns').get_data())['items'][0]['urlPath'] == '/'
    problem = api.get('/api/v1/outconns', query_string={'limit': 501}).get_data(as_text=True)
    assert problem.startswith('{\n')
    assert api.get('/api/v1/openapi.json', role=None).get_data(as_text=True).startswith('{\n')


def test_the_app_refuses_to_start_without_a_secret_key(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    with pytest.raises(ConfigError) as refused:
        create_app({'STORE': sqlite_store})
    assert refused.value.field == SECRET_KEY_ENV
    monkeypatch.setenv(SECRET_KEY_ENV, 'from-the-environment-0123456789')
    assert create_app({'STORE': sqlite_store}).config['SECRET_KEY'] == 'from-the-environment-0123456789'
    with pytest.raises(ConfigError):
        create_app({'STORE': sqlite_store, 'JSON_CASE': 'kebab'})
