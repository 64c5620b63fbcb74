"""The policy settings in the store: migration 0008 both ways, history, export and import, checks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, inspect

from zato_outconn import ConfigError, OutconnConfig, Store
from zato_outconn.store.schema import check_current, downgrade, upgrade

from tests.conftest import upgraded

POLICIES = {'max_retries': 3, 'retry_on_status': '503,429', 'retry_methods': 'get,post', 'retry_backoff': 0.25,
            'retry_after_max': 12, 'breaker_threshold': 5, 'breaker_reset': 45, 'rate_limit': 50}
# As the config keeps them: one canonical spelling of the lists, seconds as floats.
STORED = {**POLICIES, 'retry_on_status': '429,503', 'retry_methods': 'GET,POST', 'retry_after_max': 12.0,
          'breaker_reset': 45.0}
DEFAULTS = {'max_retries': 0, 'retry_on_status': '429,502,503,504', 'retry_methods': 'GET,HEAD,PUT,DELETE,OPTIONS',
            'retry_backoff': 0.5, 'retry_after_max': 30.0, 'breaker_threshold': 0, 'breaker_reset': 30.0,
            'rate_limit': 0}


def columns(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {column['name'] for column in inspect(connection).get_columns('outgoing_connection')}


def test_0008_adds_the_columns_with_defaults_for_old_rows_and_its_downgrade_drops_them(engine: Engine) -> None:
    upgrade(engine, '0007')
    assert not columns(engine) & DEFAULTS.keys()
    upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)
    store = Store(url)
    try:
        store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', **POLICIES))
    finally:
        store.close()
    downgrade(engine, '0007')
    assert not columns(engine) & DEFAULTS.keys()
    upgrade(engine)
    check_current(engine)
    store = Store(url)
    try:
        # The row kept through the downgrade has every policy at its default again.
        config = store.get_outconn('plain_http', 'CRM').config
        assert {name: getattr(config, name) for name in DEFAULTS} == DEFAULTS
    finally:
        store.close()


def test_the_settings_are_stored_in_their_canonical_spelling(store: Store) -> None:
    store.create_outconn(OutconnConfig.from_input({'name': 'CRM', 'host': 'http://crm.example.com',
                                                   **{key: str(value) for key, value in POLICIES.items()}}))
    config = store.get_outconn('plain_http', 'CRM').config
    assert {name: getattr(config, name) for name in STORED} == STORED
    assert config.retry_statuses == frozenset({429, 503}) and config.retried_methods == frozenset({'GET', 'POST'})


def test_edits_of_the_settings_are_in_the_history(store: Store) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com'))
    store.edit_outconn('plain_http', 'CRM', {'max_retries': 3, 'breaker_threshold': 5, 'rate_limit': 50})
    store.edit_outconn('plain_http', 'CRM', {'retry_on_status': '503'})
    history = store.outconn_history('CRM')
    assert history[1].changes == {'max_retries': [0, 3], 'breaker_threshold': [0, 5], 'rate_limit': [0, 50]}
    assert history[2].changes == {'retry_on_status': ['429,502,503,504', '503']}
    store.rollback_outconn('plain_http', 'CRM', 1)
    config = store.get_outconn('plain_http', 'CRM').config
    assert {name: getattr(config, name) for name in DEFAULTS} == DEFAULTS


def test_export_and_import_carry_the_settings(store: Store, tmp_path: Any) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', **POLICIES))
    document = store.export_document()
    [item] = document['outconns']
    assert {name: item[name] for name in STORED} == STORED
    other = Store(upgraded(f'sqlite:///{tmp_path / "other.db"}'))
    try:
        other.import_document(document)
        config = other.get_outconn('plain_http', 'CRM').config
        assert config == store.get_outconn('plain_http', 'CRM').config
    finally:
        other.close()


def test_an_export_made_before_the_settings_imports_with_their_defaults(store: Store, tmp_path: Any) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com'))
    document = store.export_document()
    for name in DEFAULTS:
        del document['outconns'][0][name]
    other = Store(upgraded(f'sqlite:///{tmp_path / "other.db"}'))
    try:
        other.import_document(document)
        config = other.get_outconn('plain_http', 'CRM').config
        assert {name: getattr(config, name) for name in DEFAULTS} == DEFAULTS
    finally:
        other.close()


@pytest.mark.parametrize(('field', 'value', 'words'), [
    ('max_retries', '-1', 'whole number from 0 to 100'),
    ('max_retries', '101', 'whole number from 0 to 100'),
    ('retry_on_status', '503,abc', "HTTP error status codes (400-599) separated by commas, e.g. 429,503; got 'abc'"),
    ('retry_on_status', '600', 'HTTP error status codes (400-599)'),
    # A success or a redirect retried would repeat what the server has done already.
    ('retry_on_status', '200,503', "HTTP error status codes (400-599) separated by commas, e.g. 429,503; got '200'"),
    ('retry_on_status', '302', "got '302'"),
    ('retry_methods', 'GET,FETCH', "HTTP methods from GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS separated by "
                                   "commas; got 'FETCH'"),
    ('retry_backoff', '-1', 'positive number of seconds'),
    ('retry_after_max', 'soon', 'number of seconds'),
    ('breaker_threshold', '1.5', 'whole number'),
    ('breaker_reset', '0', 'positive number of seconds'),
    ('rate_limit', '-5', 'whole number from 0 to 1000000'),
])
def test_bad_values_are_refused_naming_the_field(field: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OutconnConfig.from_input({'name': 'CRM', 'host': 'http://crm.example.com', field: value})
    assert caught.value.field == field
    assert words in caught.value.rule


def test_zero_waits_are_allowed() -> None:
    config = OutconnConfig(name='CRM', host='http://crm.example.com', retry_backoff=0, retry_after_max=0)
    assert config.retry_backoff == 0.0 and config.retry_after_max == 0.0


def test_empty_lists_retry_nothing_but_what_was_never_sent() -> None:
    config = OutconnConfig(name='CRM', host='http://crm.example.com', retry_on_status='', retry_methods='')
    assert config.retry_statuses == frozenset() and config.retried_methods == frozenset()


def test_the_lists_may_be_given_as_lists_or_one_status_as_a_number() -> None:
    config = OutconnConfig(name='CRM', host='http://crm.example.com', retry_on_status=[503, '429'],
                           retry_methods=['put', 'GET'])
    assert (config.retry_on_status, config.retry_methods) == ('429,503', 'GET,PUT')
    assert OutconnConfig(name='CRM', host='http://crm.example.com', retry_on_status=503).retry_on_status == '503'


@pytest.mark.parametrize('value', ['²', '٣٠٣', True, '99999999999999999999'])
def test_statuses_are_ascii_numbers_in_range(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        OutconnConfig(name='CRM', host='http://crm.example.com', retry_on_status=value)
    assert caught.value.field == 'retry_on_status'
