"""Export and import: lossless round trips, one transaction or nothing, no secrets anywhere."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from sqlalchemy import create_engine, text

from zato_outconn import ConfigError, ImportRefused, OutconnConfig, Runtime, SecretsError, SecurityConfig, Store
from zato_outconn.store.transfer import DEFAULT_MAX_IMPORT, dump, load

from tests.conftest import upgraded
from tests.support.servers import RecordingServer
from tests.support.tls_servers import ClientIdentity

WSDL = ('<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" name="Bank" '
        'targetNamespace="urn:bank"/>')
SECRETS = ('b4sic-S3CRET', 'apik3y-S3CRET', 'bear3r-S3CRET', 'dig3st-S3CRET', 'ntlm-S3CRET', 'cl1ent-S3CRET',
           'wss-S3CRET')


def every_definition(identity: ClientIdentity) -> list[SecurityConfig]:
    """One definition of every type, each setting it has set to something other than its default."""
    return [
        SecurityConfig(name='basic', sec_type='basic_auth', username='alice', secret=SECRETS[0]),
        SecurityConfig(name='key', sec_type='apikey', header_name='X-Key-Of-Mine', secret=SECRETS[1]),
        SecurityConfig(name='token', sec_type='bearer', secret=SECRETS[2]),
        SecurityConfig(name='digest', sec_type='digest', username='dora', secret=SECRETS[3]),
        SecurityConfig(name='ntlm', sec_type='ntlm', username='CORP\\nick', secret=SECRETS[4]),
        SecurityConfig(name='oauth', sec_type='oauth2', token_url='https://login.example.com/t?tenant=1',
                       client_id='app', scopes='orders.read orders.write', audience='https://api.example.com',
                       token_extra='resource=crm&x=1', client_auth='body', secret=SECRETS[5]),
        SecurityConfig(name='cert', sec_type='mtls', client_cert=identity.cert_pem, secret=identity.key_pem,
                       key_password=identity.key_password),
        SecurityConfig(name='wss', sec_type='wss', username='walt', password_type='digest', timestamp_ttl=300,
                       secret=SECRETS[6]),
    ]


def every_outconn(ca_pem: str) -> list[OutconnConfig]:
    plain = OutconnConfig(
        name='CRM', host='https://crm.example.com:8443', url_path='/customers/{cust_id}?v=2', security='basic',
        is_active=False, connect_timeout=3.5, read_timeout=7.25, pool_size=7, ping_method='GET', data_format='form',
        content_type='application/x-custom', validate_tls=False, ca_bundle=ca_pem, proxy='http://proxy:3128',
        follow_redirects=True, max_redirects=3, cid_header='X-CID', component_header='', msg_ts_header='X-TS')
    soap = OutconnConfig(
        name='Bank', transport='soap', host='https://bank.example.com', url_path='/accounts', security='wss',
        soap_version='1.2', soap_action='urn:SetBalance', wsdl=WSDL, wsdl_service='BankService',
        wsdl_port='BankPort', ping_method='POST')
    # The same name as a plain_http one: a soap connection is told apart by its transport.
    twin = OutconnConfig(name='CRM', transport='soap', host='http://crm.example.com', security='cert')
    return [plain, soap, twin]


def fill(store: Store, identity: ClientIdentity, ca_pem: str) -> None:
    for config in every_definition(identity):
        store.create_security(config)
    for outconn in every_outconn(ca_pem):
        store.create_outconn(outconn)


@pytest.fixture
def ca_pem() -> str:
    return trustme.CA().cert_pem.bytes().decode()


@pytest.fixture
def other_db_url(db_url: str, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database of the same kind as db_url, with the schema in place."""
    if db_url.startswith('sqlite'):
        yield upgraded(f'sqlite:///{tmp_path / "other.db"}')
        return
    pg_server = request.getfixturevalue('pg_server')
    name = f'zato_outconn_test_{uuid.uuid4().hex[:12]}'
    admin = create_engine(pg_server, isolation_level='AUTOCOMMIT')
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE {name}'))
    try:
        yield upgraded(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def other(other_db_url: str) -> Iterator[Store]:
    store = Store(other_db_url)
    yield store
    store.close()


def position(document: dict[str, Any], key: str, name: str, transport: str | None = None) -> int:
    """Where the item of that name is in the (sorted) document."""
    return next(index for index, item in enumerate(document[key])
                if item['name'] == name and (transport is None or item['transport'] == transport))


def without_secret_flags(document: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    for item in copied['security']:
        item['secret_set'] = item['key_password_set'] = False
    return copied


@pytest.mark.parametrize('output_format', ['json', 'yaml'])
def test_export_import_export_gives_the_same_document(store: Store, other: Store, identity: ClientIdentity,
                                                      ca_pem: str, output_format: str) -> None:
    fill(store, identity, ca_pem)
    first = store.export_document()
    text_form = dump(first, output_format)
    report = other.import_document(load(text_form))
    assert report.written and report.counts() == {'create': 11}
    second = other.export_document()
    # Everything comes back; only the secrets, which an export never holds, are now unset.
    assert second == without_secret_flags(first)
    assert all(item['secret_set'] for item in first['security'])
    assert [record.config for record in other.list_outconns()] == [record.config for record in store.list_outconns()]
    # Every setting is in the document, defaults included.
    assert set(first['outconns'][0]) == set(OutconnConfig.model_fields)
    for secret in (*SECRETS, identity.key_pem, identity.key_password or ''):
        assert secret not in text_form


def test_one_bad_item_writes_nothing_and_is_named(store: Store, other: Store, identity: ClientIdentity,
                                                  ca_pem: str) -> None:
    fill(store, identity, ca_pem)
    document = store.export_document()
    bank, token = position(document, 'outconns', 'Bank'), position(document, 'security', 'token')
    document['outconns'][bank]['pool_size'] = 0
    document['security'][token]['header_name'] = 'X-Key'
    with pytest.raises(ImportRefused) as raised:
        other.import_document(document)
    errors = dict(raised.value.errors)
    assert set(errors) == {f"outconns[{bank}] soap 'Bank': pool_size", f"security[{token}] 'token': header_name"}
    assert 'from 1 to 1000' in errors[f"outconns[{bank}] soap 'Bank': pool_size"]
    assert 'apikey only' in errors[f"security[{token}] 'token': header_name"]
    assert other.list_outconns() == [] and other.list_security() == [] and other.last_change() == 0
    lines = [item.line() for item in raised.value.report.items]
    assert sum(line.startswith('error') for line in lines) == 2


def test_a_dry_run_writes_nothing_and_says_what_would_change(store: Store, other: Store,
                                                             identity: ClientIdentity, ca_pem: str) -> None:
    fill(store, identity, ca_pem)
    document = store.export_document()
    other.import_document(document)
    changed = copy.deepcopy(document)
    crm = position(changed, 'outconns', 'CRM', 'plain_http')
    changed['outconns'][crm]['read_timeout'] = 30
    before = (other.export_document(), other.last_change())
    report = other.import_document(changed, on_conflict='overwrite', dry_run=True)
    assert not report.written and (other.export_document(), other.last_change()) == before
    actions = {item.label: item.action for item in report.items}
    assert actions[f"outconns[{crm}] plain_http 'CRM'"] == 'update'
    assert list(actions.values()).count('unchanged') == 10
    [update] = [item for item in report.items if item.action == 'update']
    assert update.changes == {'read_timeout': [7.25, 30.0]} and "read_timeout 7.25 -> 30.0" in update.line()
    assert json.dumps(report.as_dict())


def test_conflicts_fail_skip_or_overwrite(store: Store, identity: ClientIdentity, ca_pem: str) -> None:
    fill(store, identity, ca_pem)
    document = store.export_document()
    document['outconns'][position(document, 'outconns', 'CRM', 'plain_http')]['read_timeout'] = 30
    document['security'][position(document, 'security', 'basic')]['username'] = 'bob'
    with pytest.raises(ImportRefused) as raised:
        store.import_document(document)
    assert all('exists already' in rule and '--on-conflict' in rule for _, rule in raised.value.errors)
    assert len(raised.value.errors) == 11

    skipped = store.import_document(document, on_conflict='skip')
    assert skipped.counts() == {'skip': 11} and store.get_outconn('plain_http', 'CRM').config.read_timeout == 7.25

    change = store.last_change()
    overwritten = store.import_document(document, on_conflict='overwrite')
    assert overwritten.counts() == {'update': 2, 'unchanged': 9}
    assert store.get_outconn('plain_http', 'CRM').config.read_timeout == 30.0
    assert store.last_change() == change + 2
    assert store.outconn_history('CRM', 'plain_http')[-1].changes == {'read_timeout': [7.25, 30.0]}
    # The secret the file does not hold is kept.
    template = store.load_templates(name='CRM', transport='plain_http')[0]
    assert template.security is not None and template.security.username == 'bob'
    assert template.security.secret == SECRETS[0]


def test_a_refusal_found_while_writing_rolls_everything_back(store: Store, other: Store, identity: ClientIdentity,
                                                             ca_pem: str, ca: trustme.CA) -> None:
    fill(store, identity, ca_pem)
    document = store.export_document()
    other.import_document(document)
    assert identity.key_password is not None
    other.set_secret('cert', identity.key_password, setting='key_password')
    other.set_secret('cert', identity.key_pem)
    # Another certificate over the stored key: only the stored key tells that it does not belong to it.
    cert = position(document, 'security', 'cert')
    document['security'][cert]['client_cert'] = ca.issue_cert('someone-else').cert_chain_pems[0].bytes().decode()
    document['outconns'][position(document, 'outconns', 'CRM', 'plain_http')]['read_timeout'] = 30
    before = (other.export_document(), other.last_change())
    with pytest.raises(ImportRefused) as raised:
        other.import_document(document, on_conflict='overwrite')
    assert any(field.startswith(f"security[{cert}] 'cert'") for field, _ in raised.value.errors)
    assert (other.export_document(), other.last_change()) == before


def test_an_imported_definition_needs_its_secret_before_calls(store: Store, other_db_url: str) -> None:
    store.create_security(SecurityConfig(name='basic', sec_type='basic_auth', username='alice', secret='pw-1'))
    with RecordingServer() as server:
        store.create_outconn(OutconnConfig(name='CRM', host=server.url, security='basic'))
        document = store.export_document()
        with Runtime(other_db_url) as runtime:
            runtime.store.import_document(document)
            conn = runtime.outgoing.plain_http['CRM'].conn
            with pytest.raises(SecretsError, match='set-password'):
                conn.get('cid-1')
            assert server.recorder.requests == []
            runtime.store.set_secret('basic', 'pw-1')
            assert runtime.outgoing.plain_http['CRM'].conn.get('cid-2').status_code == 200


def test_what_cannot_be_read_is_refused_before_anything_else(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match='an import takes 10 at most'):
        load(b'{"format": "zato-outconn"}', limit=10)
    with pytest.raises(ConfigError) as raised:
        load('{"format": "zato-outconn", ')
    assert raised.value.field == 'file' and 'JSON' in raised.value.rule
    with pytest.raises(ConfigError, match='not a zato-outconn export'):
        load('- a\n- b\n')
    with pytest.raises(ConfigError) as raised:
        load('{"format": "zato-outconn", "format_version": 7}')
    assert raised.value.field == 'format_version'
    assert DEFAULT_MAX_IMPORT == 10 * 1024 * 1024


def test_references_and_duplicates_inside_the_file_are_checked(store: Store) -> None:
    document = {'format': 'zato-outconn', 'format_version': 1, 'security': [
        {'name': 'wss', 'sec_type': 'wss', 'username': 'bob'}], 'outconns': [
        {'name': 'A', 'host': 'http://a', 'security': 'nowhere'},
        {'name': 'B', 'host': 'http://b', 'security': 'wss'},
        {'name': 'C', 'host': 'http://c'}, {'name': 'C', 'host': 'http://c2'}]}
    with pytest.raises(ImportRefused) as raised:
        store.import_document(document)
    errors = dict(raised.value.errors)
    assert 'no security definition' in errors["outconns[0] plain_http 'A': security"]
    assert 'SOAP envelopes' in errors["outconns[1] plain_http 'B': security"]
    assert 'more than once' in errors["outconns[3] plain_http 'C': name"]
    assert store.list_security() == []


@pytest.mark.parametrize('dry_run', [True, False])
def test_an_import_that_changes_a_definition_s_type_is_refused_on_a_dry_run_too(store: Store, dry_run: bool) -> None:
    """The store refuses to change a definition's type; a dry run must say what the import would do."""
    store.create_security(SecurityConfig(name='sec1', sec_type='basic_auth', username='alice', secret='pw'))
    document = store.export_document()
    [definition] = document['security']
    document['security'] = [{'name': 'sec1', 'sec_type': 'bearer', 'secret': 'token'}]
    assert definition['sec_type'] == 'basic_auth'
    with pytest.raises(ImportRefused) as raised:
        store.import_document(document, on_conflict='overwrite', dry_run=dry_run)
    assert raised.value.errors == [("security[0] 'sec1': sec_type",
                                    'cannot be changed; create a new definition of the other type')]
    assert store.get_security('sec1').config.sec_type == 'basic_auth'
