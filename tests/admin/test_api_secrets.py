"""PUT /api/v1/security/<id>/secret: one secret at a time, or an mtls key with its password and
certificate in one body, checked together; what it refuses reads well, never showing a secret."""

from __future__ import annotations

import pytest
import trustme

from zato_outconn import ConfigError, Store
from zato_outconn.admin.schemas import one_secret
from zato_outconn.config.security import describe_certificate

from tests.admin.conftest import API, problem_of
from tests.admin.test_pages_security import _encrypted, _stored_cert, _stored_secret

BASE = '/api/v1/security'
SECRET = 'S3cret-never-shown'


@pytest.mark.parametrize(('given', 'settings', 'field', 'message'), [
    ({}, ('secret',), 'secret', 'is required'),
    ({}, ('secret', 'key_password'), 'secret', 'is required (or send key_password instead)'),
    ({'secret': 'a', 'key_password': 'b'}, ('secret', 'key_password'), 'key_password',
     'cannot be set together with secret; send one at a time'),
    ({'client_cert': 'c'}, ('secret', 'key_password'), 'client_cert', 'is not set here; send secret or key_password'),
])
def test_one_secret_says_what_to_send(given: dict[str, str], settings: tuple[str, ...], field: str,
                                      message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        one_secret(given, settings)
    assert (refused.value.field, refused.value.rule) == (field, message)
    assert str(refused.value) == f'{field}: {message}'
    assert one_secret({'key_password': 'b'}) == ('key_password', 'b')


def _pems(ca: trustme.CA, *names: str) -> list[tuple[str, str]]:
    issued = [ca.issue_cert(f'{name}.example.com') for name in names]
    return [(item.cert_chain_pems[0].bytes().decode(), item.private_key_pem.bytes().decode()) for item in issued]


def test_an_mtls_key_is_rotated_with_its_certificate_and_password_in_one_put(sqlite_api: API) -> None:
    api, store = sqlite_api, sqlite_api.store
    first, second, third = _pems(trustme.CA(), 'first', 'second', 'third')
    security_id = api.security('client', sec_type='mtls', username=None, client_cert=first[0], secret=first[1])
    path = f'{BASE}/{security_id}/secret'
    # A new key against the old certificate, or a new certificate against the old key, cannot pass
    # alone: sent together, they are checked together.
    assert [error['field'] for error in problem_of(api.put(path, json={'secret': second[1]}), 422)['errors']] == [
        'secret']
    problem_of(api.patch(f'{BASE}/{security_id}', json={'client_cert': second[0]}), 422)
    renewed = api.put(path, json={'secret': second[1], 'client_cert': second[0]})
    assert renewed.status_code == 204, renewed.get_data(as_text=True)
    assert _stored_secret(store, 'client') == second[1] and _stored_cert(store) == second[0]
    entry = store.history('security', security_id)[-1]
    assert entry.changes == {'secret': 'changed', 'client_cert': 'changed'} and entry.changed_by == 'token:admin-bot'
    # An encrypted key with its password and certificate.
    locked = _encrypted(third[1], 'Key-pa55')
    assert api.put(path, json={'secret': locked, 'key_password': 'Key-pa55', 'client_cert': third[0]}
                   ).status_code == 204
    item = api.get(f'{BASE}/{security_id}').get_json()
    assert item['key_password_set'] is True and item['client_cert'] == describe_certificate(third[0])
    # A plain key after the encrypted one: its password goes with the old key.
    assert api.put(path, json={'secret': second[1], 'client_cert': second[0]}).status_code == 204
    assert api.get(f'{BASE}/{security_id}').get_json()['key_password_set'] is False
    # A wrong password is refused, saying it may be, and nothing changes.
    wrong = api.put(path, json={'secret': locked, 'key_password': 'wrong-Pa55', 'client_cert': third[0]})
    errors = problem_of(wrong, 422)['errors']
    assert [error['field'] for error in errors] == ['secret'] and 'key_password' in errors[0]['message']
    assert _stored_secret(store, 'client') == second[1]
    # The certificate alone is no secret to PUT: PATCH changes it against the stored key.
    alone = problem_of(api.put(path, json={'client_cert': third[0]}), 422)
    assert alone['errors'][0]['field'] == 'client_cert' and 'PATCH' in alone['errors'][0]['message']
    for answer in (renewed, wrong):
        text = answer.get_data(as_text=True)
        assert 'Key-pa55' not in text and 'wrong-Pa55' not in text and 'PRIVATE KEY' not in text


def test_a_definition_without_a_certificate_takes_one_secret_only(sqlite_api: API, sqlite_store: Store) -> None:
    api = sqlite_api
    security_id = api.security('creds')
    path = f'{BASE}/{security_id}/secret'
    refused = problem_of(api.put(path, json={'secret': 'a', 'client_cert': 'b'}), 422)
    assert refused['errors'] == [{'field': 'client_cert', 'message': 'is not set here; send secret or key_password'}]
    empty = problem_of(api.put(path, json={}), 422)
    assert empty['errors'] == [{'field': 'secret', 'message': 'is required (or send key_password instead)'}]
    assert api.put(path, json={'secret': 'A-new-S3cret'}).status_code == 204


def test_the_openapi_document_describes_the_certificate_sent_with_the_key(sqlite_api: API) -> None:
    schema = sqlite_api.get('/api/v1/openapi.json').get_json()['components']['schemas']['SecretIn']
    assert set(schema['properties']) == {'secret', 'key_password', 'client_cert'}
    assert 'with' in schema['properties']['client_cert']['description']


@pytest.mark.parametrize('path', ['', '/secret'])
def test_a_secret_with_a_lone_surrogate_is_refused_naming_where(sqlite_api: API, path: str) -> None:
    """JSON can spell one ("\\ud800"); UTF-8 cannot encode it, so it cannot be encrypted: a 422, not a 500."""
    body = '{"name": "partner", "sec_type": "basic_auth", "username": "alice", "secret": "ab\\ud800cd"}'
    if path:
        definition = sqlite_api.security('partner')
        answer = sqlite_api.put(f'{BASE}/{definition}/secret', data='{"secret": "ab\\ud800cd"}',
                                content_type='application/json')
    else:
        answer = sqlite_api.post(BASE, data=body, content_type='application/json')
    problem = problem_of(answer, 422)
    [error] = problem['errors']
    assert error['field'] == 'secret'
    # The body's own schema refuses it on a PUT (pydantic's words); the definition's check on a create.
    assert error['message'] in ('has a lone surrogate at position 2, which UTF-8 cannot encode; fix the text',
                                'Input should be a valid string, unable to parse raw data as a unicode string')
    assert 'abcd' not in answer.get_data(as_text=True)
