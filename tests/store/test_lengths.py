"""Text settings and their columns: the model refuses what a column cannot hold, on every database.

PostgreSQL refuses an over-long VARCHAR (StringDataRightTruncation, naming no field) where SQLite
keeps it; the model's max_length, equal to the column's length, makes both refuse it first, naming
the field. The last test keeps the two from drifting apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import String, Text

from zato_outconn import ConfigError, OutconnConfig, SecurityConfig, Store
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition

from tests.support.configs import HOST, basic_auth

WSDL = '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>'
SOAP = {'transport': 'soap'}
OAUTH2 = {'sec_type': 'oauth2', 'token_url': 'https://id.example.com/token', 'client_id': 'c', 'secret': 's'}

# field: (other settings it needs, a valid value of exactly n characters)
OUTCONN_TEXT: dict[str, tuple[dict[str, Any], Callable[[int], str]]] = {
    'name': ({}, lambda n: 'n' * n),
    'host': ({}, lambda n: 'http://' + 'h' * (n - 7)),
    'url_path': ({}, lambda n: '/' + 'p' * (n - 1)),
    'content_type': ({}, lambda n: 'application/' + 'x' * (n - 12)),
    'proxy': ({}, lambda n: 'http://' + 'p' * (n - 7)),
    'cid_header': ({}, lambda n: 'X-' + 'c' * (n - 2)),
    'component_header': ({}, lambda n: 'X-' + 'c' * (n - 2)),
    'msg_ts_header': ({}, lambda n: 'X-' + 'c' * (n - 2)),
    'soap_action': (SOAP, lambda n: 'urn:' + 'a' * (n - 4)),
    'wsdl_service': ({**SOAP, 'wsdl': WSDL}, lambda n: 's' * n),
    'wsdl_port': ({**SOAP, 'wsdl': WSDL}, lambda n: 'p' * n),
}
SECURITY_TEXT: dict[str, tuple[dict[str, Any], Callable[[int], str]]] = {
    'name': ({'sec_type': 'bearer', 'secret': 't'}, lambda n: 'n' * n),
    'username': ({'sec_type': 'basic_auth', 'secret': 's'}, lambda n: 'u' * n),
    'header_name': ({'sec_type': 'apikey', 'secret': 'k'}, lambda n: 'X-' + 'k' * (n - 2)),
    'token_url': (OAUTH2, lambda n: 'https://t/' + 'a' * (n - 10)),
    'client_id': (OAUTH2, lambda n: 'c' * n),
    'scopes': (OAUTH2, lambda n: 's' * n),
    'audience': (OAUTH2, lambda n: 'a' * n),
}


def limit(model: type[OutconnConfig] | type[SecurityConfig], field: str) -> int:
    length = model.max_length_of(field)
    assert length is not None
    return length


def outconn_settings(field: str, length: int) -> dict[str, Any]:
    needs, value = OUTCONN_TEXT[field]
    return {'name': 'CRM', 'host': HOST, **needs, field: value(length)}


def security_settings(field: str, length: int) -> dict[str, Any]:
    needs, value = SECURITY_TEXT[field]
    return {'name': 'creds', **needs, field: value(length)}


def assert_too_long(info: pytest.ExceptionInfo[ConfigError], field: str, length: int) -> None:
    assert info.value.field == field, info.value.errors
    assert f'at most {length} characters' in info.value.rule


# A host is a DNS name, 253 characters at most: no host or proxy URL fills its 2000-character column
# (tests/config/test_config_bounds.py has the longest name DNS allows).
@pytest.mark.parametrize('field', sorted(set(OUTCONN_TEXT) - {'host', 'proxy'}))
def test_outconn_text_at_its_limit_is_stored_and_read_back(store: Store, field: str) -> None:
    settings = outconn_settings(field, limit(OutconnConfig, field))
    record = store.create_outconn(OutconnConfig(**settings))
    assert getattr(store.get_outconn(record.config.transport, record.config.name).config, field) == settings[field]


@pytest.mark.parametrize('field', sorted(OUTCONN_TEXT))
def test_outconn_text_over_its_limit_is_refused_and_nothing_written(store: Store, field: str) -> None:
    length = limit(OutconnConfig, field)
    with pytest.raises(ConfigError) as info:
        store.create_outconn(OutconnConfig(**outconn_settings(field, length + 1)))
    assert_too_long(info, field, length)
    assert store.list_outconns() == []

    # The same through an edit, which takes loose input: the stored row stays as it was.
    base = outconn_settings(field, 20)
    stored = store.create_outconn(OutconnConfig(**base))
    with pytest.raises(ConfigError) as info:
        store.edit_outconn(stored.config.transport, stored.config.name,
                           {field: OUTCONN_TEXT[field][1](length + 1)})
    assert_too_long(info, field, length)
    after = store.get_outconn(stored.config.transport, stored.config.name)
    assert (after.version, after.config) == (1, stored.config)


@pytest.mark.parametrize(('field', 'length', 'needs'), [
    ('url_path', 3000, {}), ('host', 2100, {}), ('soap_action', 2100, SOAP)])
def test_the_values_postgresql_used_to_refuse_unnamed(store: Store, field: str, length: int,
                                                      needs: dict[str, Any]) -> None:
    stored = store.create_outconn(OutconnConfig(name='CRM', host=HOST, **needs))
    with pytest.raises(ConfigError) as info:
        store.edit_outconn(stored.config.transport, 'CRM', {field: OUTCONN_TEXT[field][1](length)})
    assert_too_long(info, field, 2000)
    assert store.get_outconn(stored.config.transport, 'CRM').version == 1


def test_a_security_name_at_its_limit_can_be_used_by_a_connection(store: Store) -> None:
    name = 's' * limit(OutconnConfig, 'security')
    store.create_security(basic_auth(name))
    record = store.create_outconn(OutconnConfig(name='CRM', host=HOST, security=name))
    assert store.get_outconn('plain_http', 'CRM').config.security == name == record.config.security


@pytest.mark.parametrize('field', sorted(SECURITY_TEXT))
def test_security_text_at_its_limit_is_stored_and_read_back(store: Store, field: str) -> None:
    settings = security_settings(field, limit(SecurityConfig, field))
    store.create_security(SecurityConfig(**settings))
    assert getattr(store.get_security(settings['name']).config, field) == settings[field]


@pytest.mark.parametrize('field', sorted(SECURITY_TEXT))
def test_security_text_over_its_limit_is_refused_and_nothing_written(store: Store, field: str) -> None:
    length = limit(SecurityConfig, field)
    with pytest.raises(ConfigError) as info:
        store.create_security(SecurityConfig(**security_settings(field, length + 1)))
    assert_too_long(info, field, length)
    assert store.list_security() == []

    stored = store.create_security(SecurityConfig(**security_settings(field, 20)))
    with pytest.raises(ConfigError) as info:
        store.edit_security(stored.config.name, {field: SECURITY_TEXT[field][1](length + 1)})
    assert_too_long(info, field, length)
    assert store.get_security(stored.config.name).version == 1


@pytest.mark.parametrize(('model', 'table'), [(OutconnConfig, OutgoingConnection),
                                              (SecurityConfig, SecurityDefinition)])
def test_every_string_column_is_as_long_as_its_fields_max_length(model: Any, table: Any) -> None:
    columns = {column.name: column for column in table.__table__.columns}
    for field in model.model_fields:
        column = columns.get(field)
        if column is None:
            # security is the name of a definition, kept as security_id: that table's name column.
            assert field == 'security'
            assert model.max_length_of(field) == SecurityDefinition.__table__.c.name.type.length
        elif isinstance(column.type, Text):
            assert model.max_length_of(field) is None, field
        elif isinstance(column.type, String):
            assert model.max_length_of(field) == column.type.length, field
        else:
            assert model.max_length_of(field) is None, field
    # Every free-text field is covered above, by value, on both databases.
    texts = OUTCONN_TEXT if model is OutconnConfig else SECURITY_TEXT
    choices = {name for name in model.model_fields if model.max_length_of(name) and name not in texts}
    # retry_on_status and retry_methods are lists of choices, kept in one canonical spelling.
    assert choices <= {'transport', 'security', 'ping_method', 'data_format', 'soap_version', 'sec_type',
                       'password_type', 'client_auth', 'retry_on_status', 'retry_methods'}
