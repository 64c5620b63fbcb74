"""Secrets at rest and in text: encrypted columns, key rotation, write-only secrets, and no leaks.

Storage and rotation run on SQLite and PostgreSQL alike. The leak test runs a whole session of
commands and calls with every security type, verbose logs on, and searches all of it for secrets.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from zato_outconn import ConnectError, OutconnConfig, Runtime, SecretsError, SecurityConfig, Store, TLSError
from zato_outconn.config import ENCRYPTED_SETTINGS
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.secret_box import KEYS_ENV

from tests.store.conftest import KEY_PASSWORD
from tests.support.cli_runner import CLI, Result, basic_token
from tests.support.servers import RecordingServer, refused_port
from tests.support.tls_servers import ClientIdentity, TLSServer

PASSWORD = 'Pa55-basic-61c2e0'
NEW_PASSWORD = 'Pa55-new-a83f17'
API_KEY = 'Api-k3y-4b9d27'
TOKEN = 'T0ken-bearer-e15c88'
# Encrypted settings each definition made by ``definitions`` has: basic_auth, apikey and bearer a
# secret each; mtls its key, its certificate and the key's password.
ENCRYPTED_COUNT = 6


def definitions(identity: ClientIdentity) -> list[SecurityConfig]:
    return [
        SecurityConfig(name='crm-basic', sec_type='basic_auth', username='alice', secret=PASSWORD),
        SecurityConfig(name='crm-key', sec_type='apikey', secret=API_KEY),
        SecurityConfig(name='crm-bearer', sec_type='bearer', secret=TOKEN),
        identity.definition('bank-cert'),
    ]


def plain_values(identity: ClientIdentity) -> dict[str, dict[str, str | None]]:
    """What each definition's encrypted settings hold, in plain text."""
    return {config.name: {setting: getattr(config, setting) for setting in ENCRYPTED_SETTINGS}
            for config in definitions(identity)}


def add_definitions(store: Store, identity: ClientIdentity, host: str = 'http://127.0.0.1:9') -> None:
    for config in definitions(identity):
        store.create_security(config)
        store.create_outconn(OutconnConfig(name=f'uses {config.name}', host=host, security=config.name))


def raw_encrypted(db_url: str) -> dict[str, dict[str, str | None]]:
    """The encrypted columns as the database holds them, read with SQL rather than the store."""
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            columns = ', '.join(ENCRYPTED_SETTINGS)
            rows = connection.execute(text(f'SELECT name, {columns} FROM security_definition'))
            return {row.name: {setting: getattr(row, setting) for setting in ENCRYPTED_SETTINGS}
                    for row in rows}
    finally:
        engine.dispose()


def raw_tables(db_url: str) -> str:
    """Every value of both tables as text, to search for what must not be there."""
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            return '\n'.join(repr(tuple(row)) for table in ('security_definition', 'outgoing_connection')
                             for row in connection.execute(text(f'SELECT * FROM {table}')))
    finally:
        engine.dispose()


def tokens_of(raw: dict[str, dict[str, str | None]]) -> list[str]:
    return [token for settings in raw.values() for token in settings.values() if token is not None]


# ---------------------------------------------------------------------- at rest


def test_encrypted_columns_hold_no_plain_text(store: Store, db_url: str, identity: ClientIdentity) -> None:
    add_definitions(store, identity)
    plain = plain_values(identity)
    raw = raw_encrypted(db_url)

    assert set(raw) == set(plain)
    for name, settings in plain.items():
        for setting, value in settings.items():
            token = raw[name][setting]
            if value is None:
                assert token is None, (name, setting)
                continue
            assert token is not None and token.startswith('gAAAAA'), (name, setting)  # a Fernet token
            assert store.secret_box.decrypt(token, what=name) == value

    everything = raw_tables(db_url)
    forbidden = [PASSWORD, API_KEY, TOKEN, KEY_PASSWORD, 'PRIVATE KEY', 'CERTIFICATE', *identity.key_body]
    for secret in forbidden:
        assert secret not in everything, f'{secret!r} is stored in plain text'
    assert 'crm-basic' in everything and 'alice' in everything  # what is not secret is findable


def test_list_and_show_never_reveal_a_secret(store: Store, identity: ClientIdentity) -> None:
    add_definitions(store, identity)
    shown = [record.as_dict() for record in store.list_security()] + [
        store.get_security(config.name).as_dict() for config in definitions(identity)]
    text_shown = repr(shown) + repr(store.list_security())
    for secret in (PASSWORD, API_KEY, TOKEN, KEY_PASSWORD, 'PRIVATE KEY', *identity.key_body):
        assert secret not in text_shown
    by_name = {values['name']: values for values in shown}
    assert by_name['crm-basic']['secret_set'] is True and by_name['crm-basic']['key_password_set'] is False
    assert by_name['bank-cert']['key_password_set'] is True
    assert 'CN=payments-client' in by_name['bank-cert']['client_cert']


# ---------------------------------------------------------------------- rotation


def test_rotation_re_encrypts_everything_under_the_first_key(db_url: str, open_store: Callable[[], Store],
                                                             keys: dict[str, str], identity: ClientIdentity,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, keys['A'])
    add_definitions(open_store(), identity)
    before = raw_encrypted(db_url)

    monkeypatch.setenv(KEYS_ENV, f'{keys["B"]},{keys["A"]}')
    assert open_store().rotate_secrets() == ENCRYPTED_COUNT

    after = raw_encrypted(db_url)
    plain = plain_values(identity)
    for name, settings in after.items():
        for setting, token in settings.items():
            if token is None:
                continue
            assert token != before[name][setting], (name, setting)
            assert Fernet(keys['B']).decrypt(token.encode()).decode() == plain[name][setting]
            with pytest.raises(InvalidToken):
                Fernet(keys['A']).decrypt(token.encode())

    # The old key can go now.
    monkeypatch.setenv(KEYS_ENV, keys['B'])
    templates = open_store().load_templates()
    assert len(templates) == len(plain)
    for template in templates:
        assert template.problem is None and template.security is not None
        assert {setting: getattr(template.security, setting) for setting in ENCRYPTED_SETTINGS} == \
            plain[template.security.name]


def test_failed_rotation_changes_nothing(db_url: str, open_store: Callable[[], Store], keys: dict[str, str],
                                         identity: ClientIdentity, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, keys['A'])
    add_definitions(open_store(), identity)
    # Last by name, so that every other row has been re-encrypted in the session when it fails.
    monkeypatch.setenv(KEYS_ENV, keys['C'])
    open_store().create_security(SecurityConfig(name='zz-lost', sec_type='bearer', secret='lost-token'))
    before = raw_encrypted(db_url)

    monkeypatch.setenv(KEYS_ENV, f'{keys["B"]},{keys["A"]}')
    store = open_store()
    with pytest.raises(SecretsError) as raised:
        store.rotate_secrets()
    message = str(raised.value)
    assert "'zz-lost'" in message and 'nothing was changed' in message
    assert 'lost-token' not in message and keys['A'] not in message and keys['B'] not in message

    assert raw_encrypted(db_url) == before
    assert [record.version for record in store.list_security()] == [1] * 5
    monkeypatch.setenv(KEYS_ENV, keys['A'])
    secrets = {t.security.name: t.security.secret for t in open_store().load_templates() if t.security}
    assert secrets == {config.name: config.secret for config in definitions(identity)}


def test_secrets_rotate_command(db_url: str, open_store: Callable[[], Store], keys: dict[str, str],
                                identity: ClientIdentity, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, keys['A'])
    add_definitions(open_store(), identity)
    before = raw_encrypted(db_url)

    folder = tmp_path / 'work'
    folder.mkdir()
    wrong = CLI(folder, **{KEYS_ENV: keys['C']})
    rotated = CLI(folder, **{KEYS_ENV: f'{keys["B"]},{keys["A"]}'})
    refused = wrong.run('--db', db_url, 'secrets', 'rotate')
    assert refused.code == 1 and refused.out == '', str(refused)
    assert refused.err.startswith('error: ') and 'nothing was changed' in refused.err, str(refused)
    assert raw_encrypted(db_url) == before

    result = rotated.run('--db', db_url, 'secrets', 'rotate')
    assert result.code == 0 and result.err == '', str(result)
    assert result.out.strip() == f'Re-encrypted {ENCRYPTED_COUNT} secrets under the first key'
    for token in tokens_of(raw_encrypted(db_url)):
        Fernet(keys['B']).decrypt(token.encode())
    # Keys come from the environment only: no key file beside an SQLite file, nothing in the working folder.
    assert not list(tmp_path.rglob('*.key')) and not list(folder.iterdir())


# ---------------------------------------------------------------------- write-only secrets


def test_set_secret_reaches_the_running_connection(make_conn: Callable[..., Any], runtime: Runtime,
                                                   http_server: RecordingServer) -> None:
    item = make_conn(security={'name': 'crm-basic', 'sec_type': 'basic_auth', 'username': 'alice',
                               'secret': PASSWORD})
    item.conn.get('cid-1')
    assert http_server.recorder.last.headers['Authorization'] == f'Basic {basic_token("alice", PASSWORD)}'

    record = runtime.store.set_secret('crm-basic', NEW_PASSWORD)
    assert record.version == 2 and NEW_PASSWORD not in repr(record.as_dict())

    conn = runtime.outgoing.plain_http['CRM'].conn
    assert conn.auth == ('alice', NEW_PASSWORD)
    conn.get('cid-2')
    assert http_server.recorder.last.headers['Authorization'] == f'Basic {basic_token("alice", NEW_PASSWORD)}'
    assert item.conn._opened is None  # the connection with the old password is closed


def test_edit_that_leaves_secrets_out_keeps_them(store: Store, db_url: str, identity: ClientIdentity) -> None:
    add_definitions(store, identity)
    before = raw_encrypted(db_url)

    store.edit_security('crm-basic', {'username': 'bob'})
    store.edit_security('crm-key', {'header_name': 'X-Other-Key', 'secret': ''})  # a blank form field
    store.edit_security('bank-cert', {'name': 'bank-cert-2', 'secret': '', 'key_password': None,
                                      'client_cert': ''})

    after = raw_encrypted(db_url)
    assert after.pop('bank-cert-2') == before.pop('bank-cert')
    assert after == before  # not even re-encrypted
    secrets = {t.security.name: (t.security.username, t.security.header_name, t.security.secret,
                                 t.security.key_password)
               for t in store.load_templates() if t.security}
    assert secrets['crm-basic'] == ('bob', None, PASSWORD, None)
    assert secrets['crm-key'] == (None, 'X-Other-Key', API_KEY, None)
    assert secrets['bank-cert-2'] == (None, None, identity.key_pem, KEY_PASSWORD)


# ---------------------------------------------------------------------- no leaks


def forbidden_texts(identity: ClientIdentity, keys: dict[str, str]) -> list[str]:
    """Every secret of the session, and every form in which one could slip into text."""
    plain_key = serialization.load_pem_private_key(identity.key_pem.encode(), KEY_PASSWORD.encode())
    plain_pems = [plain_key.private_bytes(serialization.Encoding.PEM, private_format,
                                          serialization.NoEncryption()).decode()
                  for private_format in (serialization.PrivateFormat.PKCS8,
                                         serialization.PrivateFormat.TraditionalOpenSSL)]
    key_lines = [line for pem in (identity.key_pem, *plain_pems) for line in pem.splitlines()
                 if line and not line.startswith('-----')]
    secrets = [PASSWORD, NEW_PASSWORD, API_KEY, TOKEN, KEY_PASSWORD]
    return [*secrets, *(base64.b64encode(secret.encode()).decode() for secret in secrets),
            basic_token('alice', PASSWORD), basic_token('alice', NEW_PASSWORD), f'Bearer {TOKEN}',
            'PRIVATE KEY', *key_lines, *keys.values()]


def run_side_by_side(cli: CLI, calls: list[tuple[tuple[str, ...], str]]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda call: cli.run(*call[0], input=call[1]), calls))


def test_a_whole_session_shows_no_secret(tmp_path: Path, http_server: RecordingServer, ca: trustme.CA,
                                         identity: ClientIdentity, keys: dict[str, str],
                                         caplog: pytest.LogCaptureFixture,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    forbidden = forbidden_texts(identity, keys)
    (tmp_path / 'cert.pem').write_text(identity.cert_pem)
    (tmp_path / 'key.pem').write_text(identity.key_pem)
    db_url = f'sqlite:///{tmp_path / "zato-outconn.db"}'
    cli = CLI(tmp_path, ZATO_OUTCONN_DB=db_url, ZATO_OUTCONN_LOG_LEVEL='DEBUG', **{KEYS_ENV: keys['A']})
    with TLSServer(ca, client_ca=ca) as bank:
        session = [cli.ok('db', 'upgrade')]
        session += run_side_by_side(cli, [
            (('security', 'create', 'basic_auth', 'crm-basic', '--username', 'alice', '--password-stdin'),
             PASSWORD + '\n'),
            (('security', 'create', 'apikey', 'crm-key', '--key-stdin'), API_KEY + '\n'),
            (('security', 'create', 'bearer', 'crm-bearer', '--token-stdin'), TOKEN + '\n'),
            (('security', 'create', 'mtls', 'bank-cert', '--cert-file', 'cert.pem', '--key-file', 'key.pem',
              '--key-password-stdin'), KEY_PASSWORD + '\n'),
        ])
        assert all(result.code == 0 for result in session), '\n'.join(map(str, session))

        monkeypatch.setenv(KEYS_ENV, keys['A'])
        store = Store(db_url)
        try:
            for name, security in (('Basic', 'crm-basic'), ('Key', 'crm-key'), ('Bearer', 'crm-bearer')):
                store.create_outconn(OutconnConfig(name=name, host=http_server.url, url_path=f'/{name}',
                                                   security=security))
            store.create_outconn(OutconnConfig(name='Denied', host=http_server.url, url_path='/status/401',
                                               security='crm-basic'))
            ca_pem = ca.cert_pem.bytes().decode()
            store.create_outconn(OutconnConfig(name='Bank', host=bank.url, ca_bundle=ca_pem,
                                               security='bank-cert'))
            store.create_outconn(OutconnConfig(name='Bank without cert', host=bank.url, ca_bundle=ca_pem))
        finally:
            store.close()

        looks = run_side_by_side(cli, [(args, '') for args in [
            ('security', 'list'), ('security', 'list', '--format', 'json'), ('security', 'show', 'bank-cert'),
            ('security', 'show', 'crm-basic', '--format', 'json'), ('outconn', 'ping', 'Basic'),
            ('outconn', 'ping', 'Key'), ('outconn', 'ping', 'Bearer', '--format', 'json'),
            ('outconn', 'ping', 'Bank'), ('outconn', 'ping', 'Bank without cert'),
        ]])
        assert [result.code for result in looks] == [0] * 8 + [1], '\n'.join(map(str, looks))
        assert 'certificate required' in looks[-1].err.lower(), str(looks[-1])
        session += looks
        seen = {request.path: request.headers for request in http_server.recorder.requests}
        assert seen['/Basic']['Authorization'] == f'Basic {basic_token("alice", PASSWORD)}'
        assert seen['/Key']['X-API-Key'] == API_KEY
        assert seen['/Bearer']['Authorization'] == f'Bearer {TOKEN}'
        assert bank.recorder.clients == ['payments-client']

        changes = run_side_by_side(cli, [
            (('security', 'set-password', 'crm-basic', '--password-stdin'), NEW_PASSWORD + '\n'),
            (('security', 'edit', 'crm-key', '--header-name', 'X-Other-Key'), ''),
            # Failures with a secret on stdin: their errors must not echo it.
            (('security', 'create', 'bearer', 'crm-bearer', '--token-stdin'), TOKEN + '\n'),
            (('security', 'create', 'mtls', 'bad-cert', '--cert-file', 'cert.pem', '--key-file', 'key.pem',
              '--key-password-stdin'), PASSWORD + '\n'),
        ])
        assert [result.code for result in changes] == [0, 0, 1, 1], '\n'.join(map(str, changes))
        session += changes

        cli.set_env(**{KEYS_ENV: f'{keys["B"]},{keys["A"]}'})
        rotated = cli.ok('secrets', 'rotate')
        assert f'Re-encrypted {ENCRYPTED_COUNT} secrets' in rotated.out
        session.append(rotated)

        cli.set_env(**{KEYS_ENV: keys['B']})
        after = run_side_by_side(cli, [(('outconn', 'ping', name), '') for name in ('Basic', 'Bank')])
        assert all(result.code == 0 for result in after), '\n'.join(map(str, after))
        session += after
        assert http_server.recorder.last.headers['Authorization'] == \
            f'Basic {basic_token("alice", NEW_PASSWORD)}'
        assert bank.recorder.clients == ['payments-client'] * 2

        # The same connections called in this process, with every logger at DEBUG.
        caplog.set_level(logging.DEBUG)
        # SQLAlchemy holds its loggers at WARNING unless told; at DEBUG they show every SQL parameter.
        caplog.set_level(logging.DEBUG, logger='sqlalchemy')
        monkeypatch.setenv(KEYS_ENV, keys['B'])
        in_process = in_process_calls(db_url, http_server, bank)

    assert any(line.startswith('DEBUG:') for result in session for line in result.err.splitlines())
    assert 'DEBUG' in caplog.text and 'Bank' in caplog.text and 'UPDATE security_definition' in caplog.text
    outputs = [(f'zato-outconn {" ".join(result.args)}', result.out + result.err) for result in session]
    outputs += [('the logs of this process', caplog.text),
                ('texts made in this process', '\n'.join(in_process))]
    assert len(outputs) == 23
    for where, output in outputs:
        for secret in forbidden:
            assert secret not in output, f'{secret!r} appeared in the output of {where}:\n{output}'


def in_process_calls(db_url: str, http_server: RecordingServer, bank: TLSServer) -> list[str]:
    """Call each connection, some failing on purpose; the texts that calls and errors produce."""
    texts: list[str] = []
    with Runtime(db_url) as runtime:
        runtime.store.create_outconn(OutconnConfig(name='Down', host=f'http://127.0.0.1:{refused_port()}',
                                                   security='crm-bearer'))
        registry = runtime.outgoing.plain_http
        for name in ('Basic', 'Key', 'Bearer', 'Denied', 'Bank'):
            item = registry[name]
            texts += [repr(item), repr(item.conn), repr(item.conn.security),
                      str(item.conn.post('cid-post', {'a': 1}).status_code), str(item.conn.ping('cid-ping'))]
        for name, error_class in (('Down', ConnectError), ('Bank without cert', TLSError)):
            with pytest.raises(error_class) as raised:
                registry[name].conn.get('cid-fail')
            texts += [str(raised.value), repr(raised.value), str(registry[name].conn.ping('cid-ping'))]
        # The edit through the CLI kept the key, and the rotation left it readable with the new key alone.
        key_headers = [request.headers for request in http_server.recorder.requests if request.path == '/Key']
        assert key_headers[-1]['X-Other-Key'] == API_KEY and 'X-API-Key' not in key_headers[-1]
        runtime.store.set_secret('crm-key', API_KEY + '-next')
        texts += [repr(template) for template in runtime.store.load_templates()]
        texts += [repr(record.as_dict()) for record in runtime.store.list_security()]
        registry['Key'].conn.get('cid-new-key')
    assert http_server.recorder.last.headers['X-Other-Key'] == API_KEY + '-next'
    assert bank.recorder.clients[-2:] == ['payments-client'] * 2
    return texts


def test_a_damaged_key_file_is_named_in_the_error(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEYS_ENV, raising=False)
    key_file = Path(sqlite_url.removeprefix('sqlite:///') + '.key')
    key_file.write_text('not a key\n')
    store = Store(sqlite_url)
    try:
        with pytest.raises(SecretsError) as raised:
            store.create_security(SecurityConfig(name='c', sec_type='bearer', secret='T'))
        assert str(key_file) in str(raised.value) and KEYS_ENV not in str(raised.value).split(';')[0]
    finally:
        store.close()


def test_the_mask_given_as_a_new_secret_is_no_secret(store: Store) -> None:
    """'******' stands in for a stored secret (exports, forms): a definition created with it has none,
    and says so, rather than saying it has one that every call then refuses."""
    record = store.create_security(SecurityConfig(name='masked', sec_type='bearer', secret='******'))
    assert not record.has_secret and not store.get_security('masked').has_secret
    [entry] = store.history('security', record.id)
    assert 'secret' not in entry.changes
    store.set_secret('masked', 'the-real-token')
    assert store.get_security('masked').has_secret
