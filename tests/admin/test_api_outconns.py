"""/api/v1/outconns on SQLite and PostgreSQL: create, read, list, edit, delete, history and rollback."""

from __future__ import annotations

import csv
import io

from tests.admin.conftest import API, problem_of

BASE = '/api/v1/outconns'


def test_create_answers_201_with_location_and_etag_and_every_setting(api: API) -> None:
    response = api.post(BASE, json={'name': 'CRM', 'host': 'https://crm.example.com', 'url_path': '/c/{id}'})
    assert response.status_code == 201, response.get_data(as_text=True)
    item = response.get_json()
    assert response.headers['Location'] == f'{BASE}/{item["id"]}'
    assert response.headers['ETag'] == '"1"'
    assert item['name'] == 'CRM' and item['url_path'] == '/c/{id}' and item['version'] == 1
    assert item['read_timeout'] == 10.0 and item['security'] is None
    assert {'id', 'version', 'created_at', 'updated_at'} <= set(item)
    got = api.get(response.headers['Location'])
    assert got.status_code == 200 and got.get_json() == item and got.headers['ETag'] == '"1"'


def test_bad_fields_are_all_named_at_once_and_nothing_is_written(api: API) -> None:
    response = api.post(BASE, json={'name': 'CRM', 'host': 'ftp://x', 'read_timeout': -1, 'pool_size': 0,
                                    'colour': 'red'})
    errors = problem_of(response, 422)['errors']
    assert {error['field'] for error in errors} == {'host', 'read_timeout', 'pool_size', 'colour'}
    assert all(error['message'] for error in errors)
    assert api.store.list_outconns() == []


def test_malformed_json_is_400_and_a_missing_body_too(api: API) -> None:
    problem_of(api.post(BASE, data='{"name": ', content_type='application/json'), 400)
    problem_of(api.post(BASE), 400)


def test_a_name_taken_is_409(api: API) -> None:
    api.outconn('CRM')
    body = problem_of(api.post(BASE, json={'name': 'CRM', 'host': 'http://x'}), 409)
    assert 'CRM' in body['detail']
    # The other transport may have the name.
    assert api.post(BASE, json={'name': 'CRM', 'host': 'http://x', 'transport': 'soap'}).status_code == 201


def test_unknown_ids_are_404(api: API) -> None:
    for method in ('GET', 'PATCH', 'DELETE'):
        problem_of(api.call(method, f'{BASE}/999', json={} if method == 'PATCH' else None), 404)
    problem_of(api.post(f'{BASE}/999/ping'), 404)
    problem_of(api.get(f'{BASE}/999/history'), 404)
    problem_of(api.post(f'{BASE}/999/rollback', json={'version': 1}), 404)
    problem_of(api.get('/api/v1/nowhere'), 404)


def test_patch_changes_what_it_names_and_if_match_refuses_a_stale_edit(api: API) -> None:
    outconn_id = api.outconn('CRM')
    response = api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 3}, headers={'If-Match': '"1"'})
    assert response.status_code == 200 and response.headers['ETag'] == '"2"'
    assert response.get_json()['read_timeout'] == 3.0 and response.get_json()['connect_timeout'] == 10.0
    stale = problem_of(api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 4}, headers={'If-Match': '"1"'}), 412)
    assert 'version 2' in stale['detail']
    assert api.store.outconn_by_id(outconn_id).config.read_timeout == 3.0
    assert api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 4}, headers={'If-Match': 'W/"2"'}).status_code == 200
    problem_of(api.patch(f'{BASE}/{outconn_id}', json={'read_timeout': 5}, headers={'If-Match': 'xyz'}), 422)


def test_patch_validates_the_whole_result_and_refuses_unknown_fields(api: API) -> None:
    outconn_id = api.outconn('CRM')
    errors = problem_of(api.patch(f'{BASE}/{outconn_id}', json={'soap_action': 'urn:x', 'shape': 1}), 422)['errors']
    assert {error['field'] for error in errors} == {'shape'}
    errors = problem_of(api.patch(f'{BASE}/{outconn_id}', json={'soap_action': 'urn:x'}), 422)['errors']
    assert errors == [{'field': 'soap_action', 'message': 'is used by soap connections only'}]
    problem_of(api.patch(f'{BASE}/{outconn_id}', json={'security': 'nope'}), 422)
    assert api.store.outconn_by_id(outconn_id).version == 1


def test_rename_to_a_taken_name_is_409_and_security_can_be_set_and_cleared(api: API) -> None:
    first, _ = api.outconn('CRM'), api.outconn('ERP')
    problem_of(api.patch(f'{BASE}/{first}', json={'name': 'ERP'}), 409)
    api.security('crm-creds')
    assert api.patch(f'{BASE}/{first}', json={'security': 'crm-creds'}).get_json()['security'] == 'crm-creds'
    assert api.patch(f'{BASE}/{first}', json={'security': None}).get_json()['security'] is None


def test_delete_is_204_and_the_history_stays(api: API) -> None:
    outconn_id = api.outconn('CRM')
    response = api.delete(f'{BASE}/{outconn_id}')
    assert response.status_code == 204 and response.get_data() == b''
    problem_of(api.get(f'{BASE}/{outconn_id}'), 404)
    assert [entry['action'] for entry in api.get(f'{BASE}/{outconn_id}/history').get_json()] == ['create', 'delete']


def test_history_records_the_acting_token_and_rollback_makes_a_new_version(api: API) -> None:
    outconn_id = api.post(BASE, json={'name': 'CRM', 'host': 'http://a.example.com'}).get_json()['id']
    api.patch(f'{BASE}/{outconn_id}', json={'host': 'http://b.example.com'})
    history = api.get(f'{BASE}/{outconn_id}/history', role='viewer').get_json()
    assert [(entry['version'], entry['action'], entry['changed_by']) for entry in history] == [
        (1, 'create', 'token:admin-bot'), (2, 'edit', 'token:admin-bot')]
    assert history[1]['changes'] == {'host': ['http://a.example.com', 'http://b.example.com']}
    rolled = api.post(f'{BASE}/{outconn_id}/rollback', json={'version': 1})
    assert rolled.status_code == 200 and rolled.get_json()['host'] == 'http://a.example.com'
    assert rolled.get_json()['version'] == 3
    problem_of(api.post(f'{BASE}/{outconn_id}/rollback', json={'version': 9}), 422)
    problem_of(api.post(f'{BASE}/{outconn_id}/rollback', json={'version': 'one'}), 422)
    # JSON's true is no version; lax, it would have been taken as 1.
    refused = problem_of(api.post(f'{BASE}/{outconn_id}/rollback', json={'version': True}), 422)
    assert refused['errors'][0]['field'] == 'version'
    assert api.get(f'{BASE}/{outconn_id}').get_json()['version'] == 3


def test_list_filters_sorts_and_pages(api: API) -> None:
    api.security('crm-creds')
    api.outconn('CRM Customers', host='http://crm.example.com', security='crm-creds')
    api.outconn('ERP Orders', host='http://erp.example.com', is_active=False)
    api.outconn('Bank', host='http://bank.example.com', transport='soap')
    names = lambda **query: [item['name'] for item in api.get(BASE, query_string=query).get_json()['items']]  # noqa: E731
    assert names() == ['Bank', 'CRM Customers', 'ERP Orders']
    assert names(transport='soap') == ['Bank']
    assert names(q='erp.EXAMPLE') == ['ERP Orders']
    assert names(is_active='false') == ['ERP Orders']
    assert names(security='crm-creds') == ['CRM Customers']
    assert names(sort='-name') == ['ERP Orders', 'CRM Customers', 'Bank']
    page = api.get(BASE, query_string={'limit': 1, 'offset': 1}).get_json()
    assert (page['total'], page['limit'], page['offset'], [item['name'] for item in page['items']]) == (
        3, 1, 1, ['CRM Customers'])
    assert api.get(BASE).get_json()['limit'] == 100


def test_list_limit_above_500_and_bad_filters_are_422(api: API) -> None:
    assert api.get(BASE, query_string={'limit': 500}).status_code == 200
    for query in ({'limit': 501}, {'limit': 0}, {'offset': -1}, {'sort': 'password'}, {'is_active': 'maybe'},
                  {'transport': 'ftp'}, {'colour': 'red'}):
        errors = problem_of(api.get(BASE, query_string=query), 422)['errors']
        assert [error['field'] for error in errors] == list(query), query


def test_list_as_csv_by_accept_or_format(api: API) -> None:
    api.outconn('CRM', url_path='/a,b')
    for response in (api.get(BASE, headers={'Accept': 'text/csv'}), api.get(BASE, query_string={'format': 'csv'})):
        assert response.status_code == 200 and response.mimetype == 'text/csv'
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [(row['name'], row['url_path'], row['is_active']) for row in rows] == [('CRM', '/a,b', 'true')]
    assert api.get(BASE, headers={'Accept': '*/*'}).mimetype == 'application/json'
