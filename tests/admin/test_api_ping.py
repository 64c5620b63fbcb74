"""Ping through the API against a real HTTP server: the saved address and secret, the audit, the limit."""

from __future__ import annotations

import base64

from sqlalchemy import inspect

from zato_outconn import Store
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import downgrade, upgrade

from tests.admin.conftest import API, make_app, problem_of
from tests.support.servers import RecordingServer, refused_port


def _ping(api: API, outconn_id: int, role: str = 'operator', **kwargs: object) -> dict[str, object]:
    response = api.post(f'/api/v1/outconns/{outconn_id}/ping', role=role, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def test_ping_uses_the_saved_address_and_secret_and_is_recorded(api: API, http_server: RecordingServer) -> None:
    api.security('crm-creds', username='alice', secret='S3cret-never-shown')
    outconn_id = api.outconn('CRM', host=http_server.url, url_path='/customers/{id}', security='crm-creds')
    answer = _ping(api, outconn_id)
    assert set(answer) == {'ok', 'status_code', 'elapsed', 'method', 'url', 'error', 'report'}
    assert (answer['ok'], answer['status_code'], answer['method'], answer['error']) == (True, 200, 'HEAD', None)
    assert answer['url'] == f'{http_server.url}/customers/'
    assert str(answer['report']).startswith(f'OK HEAD {http_server.url}/customers/ -> 200 OK in ')
    seen = http_server.recorder.last
    assert seen.method == 'HEAD' and seen.headers['Authorization'] == 'Basic ' + base64.b64encode(
        b'alice:S3cret-never-shown').decode()
    [entry] = api.store.recent_pings(outconn_id)
    assert (entry.pinged_by, entry.ok, entry.status_code, entry.method) == ('token:operator-bot', True, 200, 'HEAD')
    assert entry.elapsed == answer['elapsed']


def test_failed_pings_say_why_and_are_recorded_too(api: API, http_server: RecordingServer) -> None:
    red = _ping(api, api.outconn('Status', host=http_server.url, url_path='/status/503'))
    assert (red['ok'], red['status_code']) == (False, 503) and str(red['report']).startswith('FAIL HEAD')
    down = _ping(api, api.outconn('Down', host=f'http://127.0.0.1:{refused_port()}'))
    assert down['ok'] is False and down['status_code'] is None and down['error']
    off = _ping(api, api.outconn('Off', host=http_server.url, is_active=False))
    assert off['ok'] is False and 'inactive' in str(off['error'])
    assert [entry.ok for entry in api.store.recent_pings(api.store.find_outconn('Down').id)] == [False]


def test_ping_takes_no_address_from_the_request(api: API, http_server: RecordingServer) -> None:
    outconn_id = api.outconn('CRM', host=http_server.url)
    with RecordingServer() as elsewhere:
        response = api.post(f'/api/v1/outconns/{outconn_id}/ping', role='operator', json={'host': elsewhere.url})
        assert problem_of(response, 422)['errors'][0]['field'] == 'body'
        assert elsewhere.recorder.requests == []
    assert http_server.recorder.requests == [] and api.store.recent_pings(outconn_id) == []


def test_each_user_may_send_only_so_many_pings_a_minute(sqlite_store: Store, http_server: RecordingServer) -> None:
    api = API(make_app(sqlite_store, PING_LIMIT=2), sqlite_store)
    outconn_id = api.outconn('CRM', host=http_server.url)
    _ping(api, outconn_id)
    _ping(api, outconn_id)
    refused = api.post(f'/api/v1/outconns/{outconn_id}/ping', role='operator')
    problem_of(refused, 429)
    assert 1 <= int(refused.headers['Retry-After']) <= 60
    assert len(http_server.recorder.requests) == 2
    # Another user has a budget of its own.
    assert _ping(api, outconn_id, role='admin')['ok'] is True


def test_the_ping_audit_comes_and_goes_with_its_migration(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    try:
        upgrade(engine)
        assert 'ping' in inspect(engine).get_table_names()
        downgrade(engine, '0006')
        assert 'ping' not in inspect(engine).get_table_names()
        upgrade(engine)
        assert {index['name'] for index in inspect(engine).get_indexes('ping')} == {
            'ix_ping_outconn_id_pinged_at', 'ix_ping_pinged_by_pinged_at'}
    finally:
        engine.dispose()
