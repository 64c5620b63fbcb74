"""/api/v1/security on SQLite and PostgreSQL: secrets are written, never shown; definitions in use stay."""

from __future__ import annotations

from tests.admin.conftest import API, problem_of

BASE = '/api/v1/security'
SECRET = 'S3cret-never-shown'


def test_create_says_whether_secrets_are_set_and_never_shows_them(api: API) -> None:
    response = api.post(BASE, json={'name': 'crm-creds', 'sec_type': 'basic_auth', 'username': 'alice',
                                    'secret': SECRET})
    assert response.status_code == 201, response.get_data(as_text=True)
    item = response.get_json()
    assert response.headers['Location'] == f'{BASE}/{item["id"]}'
    assert (item['secret_set'], item['key_password_set'], item['username']) == (True, False, 'alice')
    assert 'secret' not in item and 'key_password' not in item
    for answer in (response, api.get(f'{BASE}/{item["id"]}'), api.get(BASE),
                   api.get(BASE, query_string={'format': 'csv'}),
                   api.get('/api/v1/export'), api.get('/api/v1/export', query_string={'format': 'csv'})):
        assert SECRET not in answer.get_data(as_text=True)


def test_bad_definitions_name_every_field_without_the_secret(api: API) -> None:
    response = api.post(BASE, json={'name': ' k', 'sec_type': 'apikey', 'header_name': 'bad header',
                                    'timestamp_ttl': 0, 'secret': SECRET})
    body = problem_of(response, 422)
    assert {error['field'] for error in body['errors']} == {'name', 'header_name', 'timestamp_ttl'}
    response = api.post(BASE, json={'name': 'k', 'sec_type': 'apikey', 'secret': 'line\nbreak-' + SECRET})
    assert [error['field'] for error in problem_of(response, 422)['errors']] == ['secret']
    assert SECRET not in response.get_data(as_text=True)
    problem_of(api.post(BASE, json={'name': 'k', 'sec_type': 'kerberos'}), 422)


def test_set_secret_is_204_and_changes_only_the_secret(api: API) -> None:
    security_id = api.security('crm-creds')
    assert api.put(f'{BASE}/{security_id}/secret', json={'secret': 'A-new-secret'}).status_code == 204
    assert api.store.load_templates() == []  # nothing else changed: no connection appeared
    history = api.store.history('security', security_id)
    assert history[-1].changes == {'secret': 'changed'} and history[-1].changed_by == 'token:admin-bot'
    for body in ({}, {'secret': 'a', 'key_password': 'b'}, {'secret': ''}, {'password': 'x'}):
        problem_of(api.put(f'{BASE}/{security_id}/secret', json=body), 422)
    problem_of(api.put(f'{BASE}/{security_id}/secret', json={'key_password': 'k-pass'}), 422)
    key_id = api.security('key', sec_type='apikey', username=None, secret='K3y-never-shown')
    refused = api.put(f'{BASE}/{key_id}/secret', json={'secret': 'line\nbreak-K3y-never-shown'})
    assert [error['field'] for error in problem_of(refused, 422)['errors']] == ['secret']
    assert 'K3y-never-shown' not in refused.get_data(as_text=True)


def test_patch_refuses_secrets_and_renames_only_to_a_free_name(api: API) -> None:
    first, _ = api.security('one'), api.security('two')
    problem_of(api.patch(f'{BASE}/{first}', json={'secret': 'x'}), 422)
    problem_of(api.patch(f'{BASE}/{first}', json={'name': 'two'}), 409)
    problem_of(api.patch(f'{BASE}/{first}', json={'sec_type': 'bearer'}), 422)
    renamed = api.patch(f'{BASE}/{first}', json={'name': 'three', 'username': 'bob'})
    assert renamed.status_code == 200 and renamed.get_json()['secret_set'] is True
    assert (renamed.get_json()['name'], renamed.headers['ETag']) == ('three', '"2"')


def test_a_definition_in_use_is_409_and_a_name_taken_too(api: API) -> None:
    security_id = api.security('crm-creds')
    api.outconn('CRM', security='crm-creds')
    body = problem_of(api.delete(f'{BASE}/{security_id}'), 409)
    assert 'CRM' in body['detail'] and body['used_by'] == ['CRM']
    problem_of(api.post(BASE, json={'name': 'crm-creds', 'sec_type': 'bearer'}), 409)
    api.store.delete_outconn('plain_http', 'CRM')
    assert api.delete(f'{BASE}/{security_id}').status_code == 204
    problem_of(api.get(f'{BASE}/{security_id}'), 404)


def test_patch_with_if_match_refuses_a_stale_edit(api: API) -> None:
    security_id = api.security('one')
    edited = api.patch(f'{BASE}/{security_id}', json={'username': 'bob'}, headers={'If-Match': '"1"'})
    assert edited.status_code == 200 and edited.headers['ETag'] == '"2"'
    stale = problem_of(api.patch(f'{BASE}/{security_id}', json={'username': 'carol'}, headers={'If-Match': '"1"'}),
                       412)
    assert 'version 2' in stale['detail']
    assert api.store.security_by_id(security_id).config.username == 'bob'
