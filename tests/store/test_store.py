"""The store on real SQLite and PostgreSQL: writes, versions, uniqueness and secrets.

What subscribers are told of each write has tests of its own in ``tests/sync/test_changes.py``.
"""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from zato_outconn import (
    ConfigError,
    InUse,
    NotFound,
    OutconnConfig,
    SchemaError,
    SecretsError,
    SecurityConfig,
    Store,
)
from zato_outconn.config import MASK
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition
from zato_outconn.store.schema import upgrade
from zato_outconn.store.secret_box import KEY_FILE_SUFFIX, KEYS_ENV

from tests.support.configs import PASSWORD, basic_auth, outconn


def count(store: Store, model: type) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def select_secret(engine: Engine, name: str) -> str | None:
    """The secret column as stored, read with SQL rather than through the store."""
    with engine.connect() as connection:
        return connection.scalar(text('SELECT secret FROM security_definition WHERE name = :name'),
                                 {'name': name})


def raw_secret(store: Store, name: str) -> str | None:
    return select_secret(store.engine, name)


def raw_secret_at(db_url: str, name: str) -> str | None:
    engine = create_db_engine(db_url)
    try:
        return select_secret(engine, name)
    finally:
        engine.dispose()


def secret_of_definition(store: Store, name: str) -> str:
    return store.secret_box.decrypt(raw_secret(store, name), what=name)


def secret_of(store: Store, connection_name: str) -> str | None:
    (template,) = store.load_templates(name=connection_name)
    assert template.problem is None
    assert template.security is not None
    return template.security.secret


def configured_keys(db_url: str) -> MultiFernet:
    """The keys the store should be using, found the way an operator would: env, else the key file."""
    keys = [key for key in os.environ.get(KEYS_ENV, '').split(',') if key.strip()]
    if not keys:
        keys = [Path(make_url(db_url).database + KEY_FILE_SUFFIX).read_text().strip()]
    return MultiFernet([Fernet(key) for key in keys])


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------- outgoing connections: CRUD

def test_create_and_get_outconn(store: Store) -> None:
    config = outconn(url_path='/customers/{cust_id}', read_timeout=30, pool_size=5, ping_method='GET')
    created = store.create_outconn(config)
    fetched = store.get_outconn('plain_http', 'CRM')
    assert created.config == config
    assert fetched.config == config
    assert fetched.id == created.id
    assert fetched.version == 1


def test_every_setting_round_trips(store: Store) -> None:
    config = outconn(transport='soap', url_path='/ws', is_active=False, connect_timeout=1.5, read_timeout=60,
                     pool_size=1000, ping_method='OPTIONS', data_format='none', content_type='text/xml',
                     validate_tls=False, proxy='http://proxy.example.com:3128', follow_redirects=True,
                     max_redirects=3, cid_header='', component_header='X-Comp', msg_ts_header='X-TS')
    store.create_outconn(config)
    assert store.get_outconn('soap', 'CRM').config == config


def test_list_outconns_sorted_and_filtered(store: Store) -> None:
    store.create_outconn(outconn('B'))
    store.create_outconn(outconn('A'))
    store.create_outconn(outconn('C', transport='soap'))
    assert [(r.config.transport, r.config.name) for r in store.list_outconns()] == [
        ('plain_http', 'A'), ('plain_http', 'B'), ('soap', 'C')]
    assert [r.config.name for r in store.list_outconns('soap')] == ['C']


def test_list_outconns_empty(store: Store) -> None:
    assert store.list_outconns() == []


def test_edit_outconn_changes_settings(store: Store) -> None:
    store.create_outconn(outconn())
    edited = store.edit_outconn('plain_http', 'CRM', {'read_timeout': '45', 'validate_tls': 'false'})
    assert edited.config.read_timeout == 45.0
    assert edited.config.validate_tls is False
    assert store.get_outconn('plain_http', 'CRM').config == edited.config


def test_version_starts_at_one_and_increases_on_each_edit(store: Store) -> None:
    assert store.create_outconn(outconn()).version == 1
    for expected, pool_size in ((2, 5), (3, 6), (4, 7)):
        assert store.edit_outconn('plain_http', 'CRM', {'pool_size': pool_size}).version == expected
    assert store.get_outconn('plain_http', 'CRM').version == 4


def test_timestamps_are_utc_and_updated_at_moves_on_edit(store: Store) -> None:
    before = datetime.now(timezone.utc)
    store.create_outconn(outconn())
    created = store.get_outconn('plain_http', 'CRM')
    assert_utc(created.created_at)
    assert_utc(created.updated_at)
    assert before <= created.created_at <= datetime.now(timezone.utc)
    assert created.updated_at == created.created_at

    store.edit_outconn('plain_http', 'CRM', {'pool_size': 3})
    edited = store.get_outconn('plain_http', 'CRM')
    assert_utc(edited.updated_at)
    assert edited.created_at == created.created_at
    assert edited.updated_at > created.updated_at


def test_timestamps_are_utc_whatever_the_session_time_zone(
        db_url: str, fresh_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # libpq sets the PostgreSQL session's time zone from PGTZ; SQLite ignores it.
    monkeypatch.setenv('PGTZ', 'America/New_York')
    store = fresh_store()
    created = store.create_outconn(outconn())
    fetched = store.get_outconn('plain_http', 'CRM')
    assert_utc(fetched.created_at)
    assert fetched.created_at == created.created_at
    assert fetched.as_dict()['created_at'] == created.created_at.isoformat()


def test_rename_outconn(store: Store) -> None:
    store.create_outconn(outconn())
    store.edit_outconn('plain_http', 'CRM', {'name': 'CRM v2'})
    assert store.get_outconn('plain_http', 'CRM v2').version == 2
    with pytest.raises(NotFound):
        store.get_outconn('plain_http', 'CRM')


def test_delete_outconn(store: Store) -> None:
    store.create_outconn(outconn())
    store.create_outconn(outconn('Other'))
    store.delete_outconn('plain_http', 'CRM')
    assert [r.config.name for r in store.list_outconns()] == ['Other']
    with pytest.raises(NotFound):
        store.get_outconn('plain_http', 'CRM')


def test_missing_outconn_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="No plain_http connection named 'Nope'") as info:
        store.get_outconn('plain_http', 'Nope')
    assert isinstance(info.value, KeyError)
    with pytest.raises(NotFound):
        store.edit_outconn('plain_http', 'Nope', {'pool_size': 2})
    with pytest.raises(NotFound):
        store.delete_outconn('plain_http', 'Nope')


def test_find_outconn_needs_transport_only_when_ambiguous(store: Store) -> None:
    store.create_outconn(outconn('Only SOAP', transport='soap'))
    store.create_outconn(outconn('Both'))
    store.create_outconn(outconn('Both', transport='soap'))
    assert store.find_outconn('Only SOAP').config.transport == 'soap'
    assert store.find_outconn('Both', 'soap').config.transport == 'soap'
    with pytest.raises(ConfigError) as info:
        store.find_outconn('Both')
    assert info.value.field == 'transport'


# ---------------------------------------------------------------------- uniqueness and references

def test_same_name_allowed_in_each_transport(store: Store) -> None:
    store.create_outconn(outconn('CRM', transport='plain_http'))
    store.create_outconn(outconn('CRM', transport='soap'))
    assert store.get_outconn('plain_http', 'CRM').id != store.get_outconn('soap', 'CRM').id


@pytest.mark.parametrize('transport', ['plain_http', 'soap'])
def test_duplicate_name_in_same_transport_refused(store: Store, transport: str) -> None:
    store.create_outconn(outconn(transport=transport))
    with pytest.raises(ConfigError, match='already exists') as info:
        store.create_outconn(outconn(transport=transport, pool_size=3))
    assert info.value.field == 'name'
    assert count(store, OutgoingConnection) == 1
    assert store.get_outconn(transport, 'CRM').config.pool_size == 20


def test_rename_onto_existing_name_refused(store: Store) -> None:
    store.create_outconn(outconn('CRM'))
    store.create_outconn(outconn('ERP'))
    with pytest.raises(ConfigError) as info:
        store.edit_outconn('plain_http', 'ERP', {'name': 'CRM'})
    assert info.value.field == 'name'
    assert store.get_outconn('plain_http', 'ERP').version == 1


def test_transport_cannot_change_on_edit(store: Store) -> None:
    store.create_outconn(outconn())
    with pytest.raises(ConfigError) as info:
        store.edit_outconn('plain_http', 'CRM', {'transport': 'soap'})
    assert info.value.field == 'transport'
    assert store.list_outconns('soap') == []


def test_unknown_security_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match='security create') as info:
        store.create_outconn(outconn(security='No such definition'))
    assert info.value.field == 'security'
    assert count(store, OutgoingConnection) == 0


def test_edit_to_unknown_security_refused(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    with pytest.raises(ConfigError) as info:
        store.edit_outconn('plain_http', 'CRM', {'security': 'No such definition'})
    assert info.value.field == 'security'
    record = store.get_outconn('plain_http', 'CRM')
    assert (record.config.security, record.version) == ('CRM credentials', 1)


# ---------------------------------------------------------------------- invalid input writes nothing

def test_invalid_edit_leaves_row_unchanged(store: Store) -> None:
    store.create_outconn(outconn())
    before = store.get_outconn('plain_http', 'CRM')
    for changes in ({'pool_size': 0}, {'read_timeout': 'never'}, {'host': 'ftp://x'}, {'colour': 'red'}):
        with pytest.raises(ConfigError):
            store.edit_outconn('plain_http', 'CRM', changes)
    assert store.get_outconn('plain_http', 'CRM') == before


def test_refused_writes_leave_no_rows(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn())
    rows = (count(store, OutgoingConnection), count(store, SecurityDefinition))
    with pytest.raises(ConfigError):
        store.create_outconn(outconn('New', security='Missing'))
    with pytest.raises(ConfigError):
        store.create_outconn(outconn())
    with pytest.raises(ConfigError):
        store.create_security(basic_auth(secret='other'))
    with pytest.raises(ConfigError):
        store.edit_security('CRM credentials', {'sec_type': 'bearer'})
    assert (count(store, OutgoingConnection), count(store, SecurityDefinition)) == rows
    assert secret_of_definition(store, 'CRM credentials') == PASSWORD



# ---------------------------------------------------------------------- security definitions

@pytest.mark.parametrize('config', [
    basic_auth(),
    SecurityConfig(name='Key', sec_type='apikey', secret='k-123'),
    SecurityConfig(name='Token', sec_type='bearer', secret='t-123'),
    SecurityConfig(name='No secret yet', sec_type='bearer'),
])
def test_create_and_get_security(store: Store, config: SecurityConfig) -> None:
    created = store.create_security(config)
    fetched = store.get_security(config.name)
    assert fetched.id == created.id
    assert fetched.version == 1
    assert fetched.config.sec_type == config.sec_type
    assert fetched.config.username == config.username
    assert fetched.config.header_name == config.header_name
    assert fetched.has_secret is bool(config.secret)
    assert_utc(fetched.created_at)


def test_security_record_never_holds_the_secret(store: Store) -> None:
    store.create_security(basic_auth())
    record = store.get_security('CRM credentials')
    assert record.config.secret == MASK
    assert PASSWORD not in repr(record)


def test_list_security_sorted_with_users(store: Store) -> None:
    store.create_security(SecurityConfig(name='Token', sec_type='bearer', secret='t'))
    store.create_security(basic_auth('Basic'))
    store.create_outconn(outconn('ERP', security='Basic'))
    store.create_outconn(outconn('CRM', security='Basic'))
    listed = store.list_security()
    assert [record.config.name for record in listed] == ['Basic', 'Token']
    assert listed[0].used_by == ('CRM', 'ERP')
    assert listed[1].used_by == ()


def test_duplicate_security_name_refused(store: Store) -> None:
    store.create_security(basic_auth())
    with pytest.raises(ConfigError, match='already exists') as info:
        store.create_security(SecurityConfig(name='CRM credentials', sec_type='bearer', secret='t'))
    assert info.value.field == 'name'
    assert count(store, SecurityDefinition) == 1


def test_edit_security_bumps_version_and_updated_at(store: Store) -> None:
    created = store.create_security(basic_auth())
    edited = store.edit_security('CRM credentials', {'username': 'bob'})
    assert edited.config.username == 'bob'
    assert edited.version == 2
    assert edited.updated_at > created.updated_at
    assert store.get_security('CRM credentials').created_at == created.created_at


def test_edit_security_without_secret_keeps_it(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_security('CRM credentials', {'username': 'bob'})
    store.edit_security('CRM credentials', {'username': 'carol', 'secret': ''})
    (template,) = store.load_templates()
    assert template.security.username == 'carol'
    assert template.security.secret == PASSWORD


def test_edit_security_with_secret_replaces_it(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_security('CRM credentials', {'secret': 'new password'})
    assert secret_of(store, 'CRM') == 'new password'


def test_rename_security_keeps_connections_pointing_at_it(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_security('CRM credentials', {'name': 'CRM login'})
    assert store.get_outconn('plain_http', 'CRM').config.security == 'CRM login'
    assert secret_of(store, 'CRM') == PASSWORD


def test_sec_type_cannot_change(store: Store) -> None:
    store.create_security(basic_auth())
    with pytest.raises(ConfigError) as info:
        store.edit_security('CRM credentials', {'sec_type': 'bearer', 'username': ''})
    assert info.value.field == 'sec_type'
    assert store.get_security('CRM credentials').config.sec_type == 'basic_auth'


def test_set_secret_changes_only_the_secret(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    before = store.get_security('CRM credentials')
    after = store.set_secret('CRM credentials', 'rotated')
    assert after.config == before.config
    assert after.version == before.version + 1
    assert secret_of(store, 'CRM') == 'rotated'
    assert store.get_outconn('plain_http', 'CRM').version == 1


def test_set_secret_refuses_empty_and_invalid(store: Store) -> None:
    store.create_security(SecurityConfig(name='Token', sec_type='bearer', secret='t-1'))
    with pytest.raises(ConfigError) as info:
        store.set_secret('Token', '')
    assert info.value.field == 'secret'
    with pytest.raises(ConfigError) as info:
        store.set_secret('Token', 'line\nbreak')
    assert info.value.field == 'secret'
    assert secret_of_definition(store, 'Token') == 't-1'
    assert store.get_security('Token').version == 1


def test_set_secret_on_missing_definition_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.set_secret('Nope', 'x')


def test_delete_unused_security(store: Store) -> None:
    store.create_security(basic_auth())
    store.delete_security('CRM credentials')
    assert store.list_security() == []
    with pytest.raises(NotFound):
        store.get_security('CRM credentials')


def test_delete_security_in_use_refused_naming_each_connection(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn('CRM', security='CRM credentials'))
    store.create_outconn(outconn('CRM SOAP', transport='soap', security='CRM credentials'))
    store.create_outconn(outconn('Unrelated'))
    with pytest.raises(InUse) as info:
        store.delete_security('CRM credentials')
    assert sorted(info.value.users) == ['CRM', 'CRM SOAP']
    assert "'CRM'" in str(info.value) and "'CRM SOAP'" in str(info.value)
    assert count(store, SecurityDefinition) == 1
    assert count(store, OutgoingConnection) == 3
    assert secret_of(store, 'CRM') == PASSWORD


def test_delete_security_after_connections_move_away(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_outconn('plain_http', 'CRM', {'security': ''})
    store.delete_security('CRM credentials')
    assert store.get_outconn('plain_http', 'CRM').config.security is None


# ---------------------------------------------------------------------- secrets at rest

def test_secret_stored_encrypted(store: Store, db_url: str) -> None:
    store.create_security(basic_auth())
    stored = raw_secret(store, 'CRM credentials')
    assert stored is not None
    assert PASSWORD not in stored
    assert configured_keys(db_url).decrypt(stored.encode()).decode() == PASSWORD


def test_secret_set_later_also_encrypted(store: Store, db_url: str) -> None:
    store.create_security(SecurityConfig(name='Token', sec_type='bearer'))
    assert raw_secret(store, 'Token') is None
    store.set_secret('Token', 'bearer-token-value')
    stored = raw_secret(store, 'Token')
    assert 'bearer-token-value' not in stored
    assert configured_keys(db_url).decrypt(stored.encode()).decode() == 'bearer-token-value'


def test_as_dict_never_contains_the_secret(store: Store) -> None:
    store.create_security(basic_auth())
    outconn_record = store.create_outconn(outconn(security='CRM credentials'))
    security_dict = store.get_security('CRM credentials').as_dict()
    assert 'secret' not in security_dict
    assert security_dict['secret_set'] is True
    assert security_dict['used_by'] == ['CRM']
    assert PASSWORD not in repr(security_dict)
    assert MASK not in repr(security_dict)
    outconn_dict = outconn_record.as_dict()
    assert outconn_dict['security'] == 'CRM credentials'
    assert PASSWORD not in repr(outconn_dict)
    assert not any('secret' in key for key in outconn_dict)


def test_as_dict_is_plain_data(store: Store) -> None:
    record = store.create_outconn(outconn())
    values = record.as_dict()
    assert values['version'] == 1
    assert datetime.fromisoformat(values['created_at']) == record.created_at
    assert set(OutconnConfig.field_names()) <= set(values)


def test_load_templates_decrypts_and_filters(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_security(SecurityConfig(name='Token', sec_type='bearer', secret='t-1'))
    store.create_outconn(outconn('CRM', security='CRM credentials'))
    store.create_outconn(outconn('ERP', transport='soap', security='Token'))
    store.create_outconn(outconn('Open'))
    by_name = {t.config.name: t for t in store.load_templates()}
    assert by_name['CRM'].security.secret == PASSWORD
    assert by_name['ERP'].security.secret == 't-1'
    assert by_name['Open'].security is None
    assert [t.config.name for t in store.load_templates(transport='soap')] == ['ERP']
    assert [t.config.name for t in store.load_templates(security='Token')] == ['ERP']


# ---------------------------------------------------------------------- keys

def test_sqlite_without_keys_creates_private_key_file(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(KEYS_ENV, raising=False)
    key_file = Path(make_url(sqlite_url).database + KEY_FILE_SUFFIX)
    assert not key_file.exists()
    caplog.set_level(logging.WARNING, logger='zato_outconn.crypto')
    store = Store(sqlite_url)
    try:
        store.create_security(basic_auth())
    finally:
        store.close()
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == 'zato_outconn.crypto']
    assert len(warnings) == 1
    assert str(key_file) in warnings[0].getMessage()
    assert KEYS_ENV in warnings[0].getMessage()
    key = Fernet(key_file.read_text().strip())
    assert key.decrypt(raw_secret_at(sqlite_url, 'CRM credentials').encode()).decode() == PASSWORD


def test_sqlite_key_file_reused_by_next_store(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(KEYS_ENV, raising=False)
    first = Store(sqlite_url)
    first.create_security(basic_auth())
    first.create_outconn(outconn(security='CRM credentials'))
    first.close()
    key_file = Path(make_url(sqlite_url).database + KEY_FILE_SUFFIX)
    key_text = key_file.read_text()
    caplog.clear()
    caplog.set_level(logging.WARNING, logger='zato_outconn.crypto')
    second = Store(sqlite_url)
    try:
        assert secret_of(second, 'CRM') == PASSWORD
    finally:
        second.close()
    assert key_file.read_text() == key_text
    assert not [r for r in caplog.records if r.name == 'zato_outconn.crypto']


def test_first_key_encrypts_and_older_keys_still_decrypt(
        db_url: str, fresh_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(KEYS_ENV, old_key)
    old = fresh_store()
    old.create_security(basic_auth('Old'))
    old.create_outconn(outconn('Uses old', security='Old'))

    monkeypatch.setenv(KEYS_ENV, f'{new_key}, {old_key}')
    rotated = fresh_store()
    rotated.create_security(basic_auth('New', secret='new password'))
    rotated.create_outconn(outconn('Uses new', security='New'))

    assert secret_of(rotated, 'Uses old') == PASSWORD
    assert secret_of(rotated, 'Uses new') == 'new password'
    new_token = raw_secret(rotated, 'New').encode()
    assert Fernet(new_key).decrypt(new_token).decode() == 'new password'
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(new_token)


def test_wrong_key_fails_only_that_definitions_connections(
        db_url: str, fresh_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    lost = fresh_store()
    lost.create_security(basic_auth('Lost'))
    lost.create_outconn(outconn('CRM', security='Lost'))
    lost.create_outconn(outconn('CRM SOAP', transport='soap', security='Lost'))
    lost.create_outconn(outconn('Open'))

    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    store = fresh_store()
    store.create_security(SecurityConfig(name='Token', sec_type='bearer', secret='t-1'))
    store.create_outconn(outconn('ERP', security='Token'))

    with pytest.raises(SecretsError, match="security definition 'Lost'"):
        store.secret_box.decrypt(raw_secret(store, 'Lost'), what="security definition 'Lost'")
    by_name = {t.config.name: t for t in store.load_templates()}
    assert set(by_name) == {'CRM', 'CRM SOAP', 'Open', 'ERP'}
    for name in ('CRM', 'CRM SOAP'):
        assert 'Cannot decrypt' in by_name[name].problem
        assert "'Lost'" in by_name[name].problem
        # No security at all, so surely not its password.
        assert by_name[name].security is None
    assert by_name['ERP'].problem is None
    assert by_name['ERP'].security.secret == 't-1'
    assert by_name['Open'].problem is None


def test_set_secret_recovers_definition_whose_key_was_lost(
        db_url: str, fresh_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    fresh_store().create_security(basic_auth())
    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    store = fresh_store()
    store.create_outconn(outconn(security='CRM credentials'))
    assert store.load_templates()[0].problem is not None
    store.set_secret('CRM credentials', 'typed again')
    assert secret_of(store, 'CRM') == 'typed again'


@pytest.mark.postgres
def test_postgresql_without_keys_refuses_to_store_secrets(
        pg_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_db_engine(pg_database)
    upgrade(engine)
    engine.dispose()
    monkeypatch.delenv(KEYS_ENV, raising=False)
    store = Store(pg_database)
    try:
        with pytest.raises(SecretsError, match=KEYS_ENV):
            store.create_security(basic_auth())
        assert count(store, SecurityDefinition) == 0
    finally:
        store.close()


# ---------------------------------------------------------------------- schema check

def test_store_without_schema_says_to_upgrade(empty_db_url: str) -> None:
    with pytest.raises(SchemaError) as info:
        Store(empty_db_url)
    message = str(info.value)
    assert 'zato-outconn --db ' in message
    assert message.rstrip().endswith('db upgrade')


# ---------------------------------------------------------------------- the mask

def test_the_mask_never_replaces_a_stored_secret(store: Store) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    # What a form or an export shows in place of the secret, sent back unchanged.
    store.edit_security('CRM credentials', {'username': 'bob', 'secret': MASK})
    assert secret_of(store, 'CRM') == PASSWORD
    with pytest.raises(ConfigError) as info:
        store.set_secret('CRM credentials', MASK)
    assert info.value.field == 'secret'
    assert secret_of(store, 'CRM') == PASSWORD
