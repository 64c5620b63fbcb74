"""Loading templates at start: one query, configs as they were checked, secrets decrypted on first use only."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from zato_outconn import ConfigError, OutconnConfig, Runtime, SecretsError, SecurityConfig, Store
from zato_outconn.store.secret_box import KEYS_ENV

from tests.support.cli_runner import basic_token
from tests.support.servers import RecordingServer


def test_a_secret_that_does_not_decrypt_marks_only_its_connections_on_first_use(
        db_url: str, open_store: Callable[[], Store], keys: dict[str, str], http_server: RecordingServer,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(KEYS_ENV, keys['A'])
    store = open_store()
    store.create_security(SecurityConfig(name='Shared', sec_type='basic_auth', username='alice', secret='Sh4red-pw'))
    for name in ('One', 'Two'):
        store.create_outconn(OutconnConfig(name=name, host=http_server.url, url_path=f'/{name}', security='Shared'))
    # Encrypted with a key the runtime below is not given.
    monkeypatch.setenv(KEYS_ENV, keys['B'])
    open_store().create_security(SecurityConfig(name='Lost', sec_type='basic_auth', username='bob',
                                                secret='L0st-pw-9'))
    open_store().create_outconn(OutconnConfig(name='Locked', host=http_server.url, security='Lost'))

    monkeypatch.setenv(KEYS_ENV, keys['A'])
    caplog.set_level(logging.ERROR, logger='zato_outconn.store')
    with Runtime(db_url, sync=False) as runtime:
        registry = runtime.outgoing.plain_http
        assert sorted(registry) == ['Locked', 'One', 'Two']
        # Nothing was decrypted at start, so nothing failed yet.
        assert 'Lost' not in caplog.text

        assert registry['One'].conn.get('cid-1').status_code == 200
        assert registry['Two'].conn.auth == ('alice', 'Sh4red-pw')
        registry['Two'].conn.get('cid-2')
        with pytest.raises(SecretsError, match="'Locked'"):
            registry['Locked'].conn.get('cid-3')
        assert registry['Locked'].conn.auth is None
        assert registry['One'].conn.get('cid-4').status_code == 200

    sent = [(request.path, request.headers['Authorization']) for request in http_server.recorder.requests]
    assert sent == [(path, f'Basic {basic_token("alice", "Sh4red-pw")}') for path in ('/One', '/Two', '/One')]
    # Said once, on first use, naming the definition and never its secret.
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "'Lost'" in errors[0] and 'L0st-pw-9' not in caplog.text


def test_each_shared_definition_is_decrypted_once_for_all_its_connections(store: Store) -> None:
    store.create_security(SecurityConfig(name='Shared', sec_type='bearer', secret='T0ken-1'))
    for name in ('A', 'B', 'C'):
        store.create_outconn(OutconnConfig(name=name, host='http://crm.example.com', security='Shared'))
    templates = store.load_templates()
    assert {template.security.secret for template in templates if template.security} == {'T0ken-1'}
    assert len({id(template.security) for template in templates}) == 1
    assert all(template.problem is None for template in templates)
    assert 'T0ken-1' not in repr(templates)


def test_loaded_configs_are_those_that_were_checked(store: Store) -> None:
    store.create_security(SecurityConfig(name='Creds', sec_type='basic_auth', username='alice', secret='pw-1234'))
    written = [
        OutconnConfig(name='Plain', host='https://crm.example.com:8443', url_path='/customers/{cust_id}?v=2',
                      security='Creds', is_active=False, connect_timeout=2.5, read_timeout=7, total_timeout=30,
                      max_response_size=1024, pool_size=3, ping_method='GET', data_format='form',
                      content_type='application/xml', validate_tls=False, proxy='http://proxy.example.com:3128',
                      follow_redirects=True, max_redirects=4, cid_header='X-Request-ID', component_header='',
                      msg_ts_header='X-TS'),
        OutconnConfig(name='Soapy', host='http://bank.example.com', transport='soap', soap_version='1.2',
                      soap_action='urn:SetBalance'),
    ]
    for config in written:
        store.create_outconn(config)
    loaded = {template.config.name: template.config for template in store.load_templates()}
    listed = {record.config.name: record.config for record in store.list_outconns()}
    for config in written:
        for other in (loaded[config.name], listed[config.name], store.find_outconn(config.name).config):
            assert other == config and dict(other) == dict(config) and list(dict(other)) == list(dict(config))
            assert other.path_template == config.path_template
    # A loaded config is as frozen, and its changes as checked, as any other.
    with pytest.raises(ConfigError, match='pool_size'):
        loaded['Plain'].with_changes({'pool_size': 0})
    with pytest.raises(AttributeError):
        loaded['Plain'].pool_size = 5  # type: ignore[misc]


def test_templates_of_one_name_or_definition_come_with_their_security(store: Store) -> None:
    store.create_security(SecurityConfig(name='Key', sec_type='apikey', secret='K3y-value'))
    store.create_outconn(OutconnConfig(name='Keyed', host='http://a.example.com', security='Key'))
    store.create_outconn(OutconnConfig(name='Open', host='http://b.example.com'))
    (keyed,) = store.load_templates(security='Key')
    assert keyed.config.name == 'Keyed' and keyed.security is not None and keyed.security.secret == 'K3y-value'
    (opened,) = store.load_templates(name='Open')
    assert opened.security is None and opened.problem is None
    assert [template.config.name for template in store.load_templates(ids=[keyed.id])] == ['Keyed']


def test_many_ids_are_read_a_bounded_number_to_a_query(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from zato_outconn.store import outconns

    store.create_security(SecurityConfig(name='Shared', sec_type='bearer', secret='T0ken-2'))
    ids = [store.create_outconn(OutconnConfig(name=f'C{n}', host='http://crm.example.com', security='Shared')).id
           for n in range(5)]
    monkeypatch.setattr(outconns, '_IDS_PER_QUERY', 2)
    assert sorted(template.id for template in store.load_templates(ids=ids)) == sorted(ids)
    assert len(store.load_templates(security_ids=[1, 2, 3, 4, 5])) == 5
    assert [t.config.name for t in store.load_templates(ids=ids, transport='soap')] == []
