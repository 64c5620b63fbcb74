"""History: one row per change in the change's own transaction, diffs without secrets, rollback, the counter."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from zato_outconn import ConfigError, NotFound, OutconnConfig, SecurityConfig, Store

from tests.support.configs import PASSWORD, basic_auth, outconn


def rows(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text('SELECT * FROM history ORDER BY id'))]


def test_every_outconn_action_writes_one_row_with_its_diff(store: Store) -> None:
    store.create_security(basic_auth())
    created = store.create_outconn(outconn(security='CRM credentials'))
    store.edit_outconn('plain_http', 'CRM', {'read_timeout': 5})
    store.edit_outconn('plain_http', 'CRM', {'is_active': False})
    store.edit_outconn('plain_http', 'CRM', {'is_active': True})
    store.edit_outconn('plain_http', 'CRM', {'name': 'CRM v2'})
    store.rollback_outconn('plain_http', 'CRM v2', 2)
    history = store.outconn_history('CRM')
    assert [(record.version, record.action) for record in history] == [
        (1, 'create'), (2, 'edit'), (3, 'deactivate'), (4, 'activate'), (5, 'rename'), (6, 'rollback')]
    assert {record.object_id for record in history} == {created.id}
    assert history[0].changes['host'] == [None, 'https://crm.example.com']
    assert history[0].changes['security'] == [None, 'CRM credentials']
    assert history[1].changes == {'read_timeout': [10.0, 5.0]}
    assert history[2].changes == {'is_active': [True, False]}
    assert history[4].changes == {'name': ['CRM', 'CRM v2']}
    # Back to version 2: its name and its timeout, as a new version.
    assert history[5].changes == {'name': ['CRM v2', 'CRM']}
    assert store.get_outconn('plain_http', 'CRM').config == store.get_outconn('plain_http', 'CRM').config
    assert dict(store.get_outconn('plain_http', 'CRM').config) == history[1].settings
    assert store.get_outconn('plain_http', 'CRM').version == 6

    store.delete_outconn('plain_http', 'CRM')
    with pytest.raises(NotFound):
        store.outconn_history('CRM')
    deleted = store.outconn_history('CRM', deleted=True)
    assert [record.action for record in deleted][-1] == 'delete' and deleted[-1].version == 7
    assert store.history('outconn', created.id) == deleted


def test_security_actions_record_secrets_only_as_changed(store: Store) -> None:
    store.create_security(basic_auth())
    store.edit_security('CRM credentials', {'username': 'bob', 'secret': 'N3w-pa55word'})
    store.set_secret('CRM credentials', 'Th1rd-pa55word')
    store.edit_security('CRM credentials', {'name': 'creds'})
    store.rollback_security('creds', 1)
    store.delete_security('CRM credentials')
    record_id = rows(store)[0]['object_id']
    history = store.history('security', record_id)
    assert [record.action for record in history] == ['create', 'edit', 'edit', 'rename', 'rollback', 'delete']
    assert history[0].changes['secret'] == 'changed'
    assert history[1].changes == {'username': ['alice', 'bob'], 'secret': 'changed'}
    assert history[2].changes == {'secret': 'changed'}
    # The rollback brings the settings of version 1 back, and the secret stays as it is now.
    assert history[4].changes == {'name': ['creds', 'CRM credentials'], 'username': ['bob', 'alice']}
    stored = ' '.join(str(row) for row in rows(store))
    for secret in (PASSWORD, 'N3w-pa55word', 'Th1rd-pa55word'):
        assert secret not in stored


def test_no_secret_or_ciphertext_of_any_type_reaches_history(store: Store, identity: Any) -> None:
    definitions = [
        basic_auth(secret='b4sic-S3CRET'),
        SecurityConfig(name='key', sec_type='apikey', secret='apik3y-S3CRET'),
        SecurityConfig(name='token', sec_type='bearer', secret='bear3r-S3CRET'),
        SecurityConfig(name='oauth', sec_type='oauth2', token_url='https://login.example.com/t', client_id='app',
                       secret='cl1ent-S3CRET'),
        SecurityConfig(name='wss', sec_type='wss', username='bob', secret='wss-S3CRET'),
        SecurityConfig(name='cert', sec_type='mtls', client_cert=identity.cert_pem, secret=identity.key_pem,
                       key_password=identity.key_password),
    ]
    for config in definitions:
        store.create_security(config)
        store.set_secret(config.name, 'r0tated-S3CRET' if config.sec_type != 'mtls' else identity.key_pem)
    with store.engine.connect() as connection:
        ciphertexts = [value for row in connection.execute(
            text('SELECT secret, key_password, client_cert FROM security_definition')) for value in row if value]
    stored = ' '.join(str(row) for row in rows(store))
    assert 'S3CRET' not in stored and 'PRIVATE KEY' not in stored and identity.key_password not in stored
    assert 'BEGIN CERTIFICATE' not in stored
    assert not any(ciphertext in stored for ciphertext in ciphertexts)


def test_rollback_to_a_version_whose_definition_is_gone_is_refused(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_outconn('plain_http', 'CRM', {'security': None})
    store.delete_security('CRM credentials')
    before = (store.get_outconn('plain_http', 'CRM'), store.last_change())
    with pytest.raises(ConfigError) as raised:
        store.rollback_outconn('plain_http', 'CRM', 1)
    assert raised.value.field == 'version'
    assert "'CRM credentials'" in raised.value.rule and 'no longer exists' in raised.value.rule
    assert (store.get_outconn('plain_http', 'CRM'), store.last_change()) == before


@pytest.mark.parametrize('version', [0, 3, 99])
def test_rollback_to_a_version_that_never_was_is_refused(store: Store, version: int) -> None:
    store.create_outconn(outconn())
    store.edit_outconn('plain_http', 'CRM', {'read_timeout': 5})
    with pytest.raises(ConfigError) as raised:
        store.rollback_outconn('plain_http', 'CRM', version)
    assert raised.value.field == 'version' and 'versions are 1 to 2' in raised.value.rule


def test_the_counter_counts_every_change_and_nothing_else(store: Store) -> None:
    assert store.last_change() == 0
    store.create_security(basic_auth())
    store.create_outconn(outconn())
    store.edit_outconn('plain_http', 'CRM', {'pool_size': 3})
    assert store.last_change() == 3
    assert [row['change'] for row in rows(store)] == [1, 2, 3]
    # Refused writes leave no row and no number behind.
    with pytest.raises(ConfigError):
        store.create_outconn(outconn())
    with pytest.raises(ConfigError):
        store.edit_outconn('plain_http', 'CRM', {'pool_size': 0})
    store.list_outconns()
    assert store.last_change() == 3 and len(rows(store)) == 3


def test_the_actor_is_the_store_or_who_it_acts_as(store: Store) -> None:
    store.create_outconn(outconn())
    store.actor = 'cli:alice'
    store.edit_outconn('plain_http', 'CRM', {'pool_size': 3})
    with store.acting_as('admin:bob'):
        store.edit_outconn('plain_http', 'CRM', {'pool_size': 4})
    store.edit_outconn('plain_http', 'CRM', {'pool_size': 5})
    by = [record.changed_by for record in store.outconn_history('CRM')]
    assert by[0].startswith('local:') and by[1:] == ['cli:alice', 'admin:bob', 'cli:alice']
    assert all(record.changed_at.tzinfo is not None for record in store.outconn_history('CRM'))


@pytest.mark.parametrize('version', [0, -3, 2 ** 31, 10 ** 24])
def test_a_rollback_to_a_version_no_row_can_have_says_which_there_are(store: Store, version: int) -> None:
    """Past the databases' integers, the query itself would fail (an OverflowError on SQLite)."""
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com'))
    with pytest.raises(ConfigError) as refused:
        store.rollback_outconn('plain_http', 'CRM', version)
    assert refused.value.field == 'version' and 'its versions are 1 to 1' in refused.value.rule
    store.create_security(SecurityConfig(name='creds', sec_type='bearer', secret='t'))
    with pytest.raises(ConfigError):
        store.rollback_security('creds', version)
