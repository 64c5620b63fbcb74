"""mTLS against a real HTTPS server that requires a client certificate, with certificates made by trustme.

The client certificate and key live in the database as PEM text; these tests check that they reach
the TLS handshake, that the key touches the disk only briefly and privately, that an edit takes effect
on the next call, and that neither the CLI nor the logs ever show the key.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.fernet import Fernet
from urllib3.exceptions import InsecureRequestWarning

from zato_outconn import ConfigError, OutconnConfig, Runtime, SecretsError, SecurityConfig, Store, TLSError
from zato_outconn.store.engine import DB_ENV
from zato_outconn.store.secret_box import KEYS_ENV

from tests.security.conftest import KEY_PASSWORD
from tests.support.cli_runner import CLI
from tests.support.tls_servers import ClientIdentity, TLSServer, client_identity


def add_connection(runtime: Runtime, name: str, host: str, *, security: SecurityConfig | None = None,
                   **settings: Any) -> Any:
    if security is not None:
        runtime.store.create_security(security)
        settings['security'] = security.name
    runtime.store.create_outconn(OutconnConfig(name=name, host=host, **settings))
    return runtime.outgoing.plain_http[name]


def mtls_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), 'zato-outconn-mtls-*')))


# ---------------------------------------------------------------------- the handshake


@pytest.mark.parametrize('client', ['client_one', 'client_two'], ids=['plain key', 'encrypted key'])
def test_call_presents_the_client_certificate(runtime: Runtime, mtls_server: TLSServer, ca_pem: str,
                                              client: str, request: pytest.FixtureRequest) -> None:
    identity: ClientIdentity = request.getfixturevalue(client)
    item = add_connection(runtime, 'Bank', mtls_server.url, url_path='/accounts/{id}', ca_bundle=ca_pem,
                          security=identity.definition('bank-cert'))

    response = item.conn.get('cid-1', {'id': 7})
    assert response.status_code == 200
    assert response.json() == {'client': identity.common_name, 'path': '/accounts/7'}
    ping = item.conn.ping('cid-2')
    assert ping.ok, ping
    assert mtls_server.recorder.clients == [identity.common_name, identity.common_name]
    assert mtls_server.recorder.handshake_errors == []


def test_without_a_client_certificate_the_call_fails_clearly(runtime: Runtime, mtls_server: TLSServer,
                                                             ca_pem: str) -> None:
    item = add_connection(runtime, 'Bank', mtls_server.url, url_path='/accounts', ca_bundle=ca_pem)

    with pytest.raises(TLSError) as raised:
        item.conn.get('cid-no-cert')
    error = raised.value
    assert (error.name, error.method, error.url, error.cid) == ('Bank', 'GET', f'{mtls_server.url}/accounts',
                                                                'cid-no-cert')
    # The server's alert, as the client received it, says what is missing.
    assert 'certificate required' in str(error).lower(), str(error)
    assert isinstance(error.__cause__, Exception)

    ping = item.conn.ping('cid-ping')
    assert not ping.ok and 'certificate required' in (ping.error or '').lower(), ping
    assert mtls_server.recorder.requests == []
    failures = mtls_server.recorder.failed_handshakes(2)
    assert len(failures) == 2 and all('certificate' in reason.lower() for reason in failures), failures


def test_a_certificate_from_another_ca_is_refused(runtime: Runtime, mtls_server: TLSServer,
                                                  ca_pem: str) -> None:
    stranger = client_identity(trustme.CA(), 'stranger')
    item = add_connection(runtime, 'Bank', mtls_server.url, ca_bundle=ca_pem,
                          security=stranger.definition('stranger-cert'))
    with pytest.raises(TLSError, match='(?i)unknown ca'):
        item.conn.get('cid-1')
    assert mtls_server.recorder.requests == []


def test_editing_the_definition_presents_the_new_certificate(runtime: Runtime, mtls_server: TLSServer,
                                                             ca_pem: str, client_one: ClientIdentity,
                                                             client_two: ClientIdentity) -> None:
    before = add_connection(runtime, 'Bank', mtls_server.url, ca_bundle=ca_pem,
                            security=client_one.definition('bank-cert'))
    assert before.conn.get('cid-1').json()['client'] == 'client-one'

    runtime.store.edit_security('bank-cert', {'client_cert': client_two.cert_pem,
                                              'secret': client_two.key_pem, 'key_password': KEY_PASSWORD})

    after = runtime.outgoing.plain_http['Bank']
    assert after.conn is not before.conn
    assert after.conn.get('cid-2').json()['client'] == 'client-two'
    # The old connection's pool, with the old certificate in its TLS context, is closed.
    assert before.conn._opened is None

    # Back to a key that is not encrypted: the password of the one it replaces goes with it.
    record = runtime.store.edit_security('bank-cert', {'client_cert': client_one.cert_pem,
                                                       'secret': client_one.key_pem})
    assert record.as_dict()['key_password_set'] is False
    assert runtime.outgoing.plain_http['Bank'].conn.get('cid-3').json()['client'] == 'client-one'
    assert after.conn._opened is None
    assert mtls_server.recorder.clients == ['client-one', 'client-two', 'client-one']

    # An encrypted key needs its password given with it.
    with pytest.raises(ConfigError) as raised:
        runtime.store.edit_security('bank-cert', {'client_cert': client_two.cert_pem,
                                                  'secret': client_two.key_pem})
    assert raised.value.field == 'key_password'


def test_host_name_is_still_checked_when_presenting_a_certificate(runtime: Runtime, mtls_server: TLSServer,
                                                                  ca_pem: str,
                                                                  client_one: ClientIdentity) -> None:
    # The server's certificate names 127.0.0.1 only.
    item = add_connection(runtime, 'Bank', f'https://localhost:{mtls_server.port}', ca_bundle=ca_pem,
                          security=client_one.definition('bank-cert'))
    with pytest.raises(TLSError, match="(?i)hostname|doesn't match|does not match"):
        item.conn.get('cid-1')
    assert mtls_server.recorder.requests == []


def test_client_certificate_without_validating_the_server(runtime: Runtime, mtls_server: TLSServer,
                                                          client_one: ClientIdentity) -> None:
    item = add_connection(runtime, 'Bank', mtls_server.url, validate_tls=False,
                          security=client_one.definition('bank-cert'))
    with pytest.warns(InsecureRequestWarning):
        assert item.conn.get('cid-1').json()['client'] == 'client-one'


# ---------------------------------------------------------------------- the key on disk and in text


def test_key_is_written_owner_only_and_removed_at_once(runtime: Runtime, mtls_server: TLSServer, ca_pem: str,
                                                       client_two: ClientIdentity,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Watch, without changing it, every file os.open creates: its mode, and its folder's.
    created: list[tuple[str, int, int]] = []
    real_open = os.open

    def watching_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        descriptor = real_open(path, flags, mode, *args, **kwargs)
        if flags & os.O_CREAT:
            created.append((os.fspath(path), stat.S_IMODE(os.fstat(descriptor).st_mode),
                            stat.S_IMODE(os.stat(os.path.dirname(os.fspath(path))).st_mode)))
        return descriptor

    before = mtls_folders()
    item = add_connection(runtime, 'Bank', mtls_server.url, ca_bundle=ca_pem,
                          security=client_two.definition('bank-cert'))
    monkeypatch.setattr(os, 'open', watching_open)
    assert item.conn.session is not None  # opens the session, and with it the TLS context holding the key
    monkeypatch.undo()

    key_files = [entry for entry in created if os.path.basename(os.path.dirname(entry[0])).startswith(
        'zato-outconn-mtls-')]
    assert sorted(os.path.basename(path) for path, _, _ in key_files) == ['cert.pem', 'key.pem']
    for path, file_mode, folder_mode in key_files:
        assert (file_mode, folder_mode) == (0o600, 0o700), path
        assert not os.path.exists(path)
    assert mtls_folders() == before

    assert item.conn.get('cid-1').json()['client'] == 'client-two'
    assert mtls_folders() == before
    item.conn.close()

    conn = item.conn
    record = runtime.store.get_security('bank-cert')
    texts = [caplog.text, repr(item), repr(conn), repr(conn.security), repr(conn.config), str(vars(conn)),
             repr(record), str(record.as_dict())]
    for text in texts:
        for line in client_two.key_body:
            assert line not in text
        assert 'PRIVATE KEY' not in text and KEY_PASSWORD not in text


# ---------------------------------------------------------------------- the CA bundle


def test_stored_ca_bundle_validates_a_plain_https_server(runtime: Runtime,
                                                         start_server: Callable[..., TLSServer],
                                                         ca_pem: str) -> None:
    server = start_server(require_client_cert=False)
    trusted = add_connection(runtime, 'Trusted', server.url, ca_bundle=ca_pem)
    system = add_connection(runtime, 'System CAs', server.url)
    other = add_connection(runtime, 'Other CA', server.url, ca_bundle=trustme.CA().cert_pem.bytes().decode())

    assert trusted.config.validate_tls is True
    assert trusted.conn.get('cid-1').json() == {'client': None, 'path': '/'}
    for item in (system, other):
        with pytest.raises(TLSError, match='certificate verify failed') as raised:
            item.conn.get('cid-2')
        assert raised.value.name == item.name
    assert server.recorder.clients == [None]


# ---------------------------------------------------------------------- the CLI


def test_security_show_gives_subject_and_expiry_but_no_key(tmp_path: Path, sqlite_url: str, ca: trustme.CA,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEYS_ENV, key)
    not_after = (datetime.now(timezone.utc) + timedelta(days=45)).replace(microsecond=0)
    identity = client_identity(ca, 'billing-client', key_password=KEY_PASSWORD, not_after=not_after)
    certificate = x509.load_pem_x509_certificate(identity.cert_pem.encode())
    store = Store(sqlite_url)
    try:
        store.create_security(identity.definition('billing-cert'))
    finally:
        store.close()

    cli = CLI(tmp_path, **{DB_ENV: sqlite_url, KEYS_ENV: key})
    table, as_json = cli.many([('security', 'show', 'billing-cert'),
                               ('security', 'show', 'billing-cert', '--format', 'json')])
    for result in (table, as_json):
        assert result.code == 0 and result.err == '', str(result)

    subject = certificate.subject.rfc4514_string()
    assert 'CN=billing-client' in subject
    summary = f'{subject}, expires {certificate.not_valid_after_utc.isoformat()}'
    expected = r'^client_cert\s+' + re.escape(summary) + r' \(in (44|45) days\)$'
    assert re.search(expected, table.out, re.MULTILINE), table.out
    assert re.search(r'^secret_set\s+yes$', table.out, re.MULTILINE), table.out
    assert re.search(r'^key_password_set\s+yes$', table.out, re.MULTILINE), table.out

    shown = as_json.json
    assert shown['client_cert'].startswith(summary)
    assert (shown['sec_type'], shown['secret_set'], shown['key_password_set']) == ('mtls', True, True)
    assert 'secret' not in shown and 'key_password' not in shown
    for text in (table.out, as_json.out):
        assert 'PRIVATE KEY' not in text and 'BEGIN CERTIFICATE' not in text and KEY_PASSWORD not in text
        for line in identity.key_body:
            assert line not in text


# ---------------------------------------------------------------------- validation


def test_a_key_that_does_not_belong_to_the_certificate_is_refused(client_one: ClientIdentity,
                                                                  client_two: ClientIdentity) -> None:
    with pytest.raises(ConfigError) as raised:
        SecurityConfig(name='m', sec_type='mtls', client_cert=client_one.cert_pem, secret=client_two.key_pem,
                       key_password=KEY_PASSWORD)
    assert raised.value.field == 'secret'
    assert 'does not belong to client_cert' in str(raised.value)


@pytest.mark.parametrize(('key_password', 'field', 'says'), [
    (None, 'key_password', 'encrypted'),
    ('not-the-password', 'secret', 'key_password'),
], ids=['no password', 'wrong password'])
def test_an_encrypted_key_needs_its_password(client_two: ClientIdentity, key_password: str | None, field: str,
                                             says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        SecurityConfig(name='m', sec_type='mtls', client_cert=client_two.cert_pem, secret=client_two.key_pem,
                       key_password=key_password)
    assert raised.value.field == field
    assert says in str(raised.value)
    for line in client_two.key_body:
        assert line not in str(raised.value)


def test_a_password_for_a_key_that_has_none_is_refused(client_one: ClientIdentity) -> None:
    with pytest.raises(ConfigError) as raised:
        SecurityConfig(name='m', sec_type='mtls', client_cert=client_one.cert_pem, secret=client_one.key_pem,
                       key_password='needless')
    assert raised.value.field == 'key_password'


def test_store_refuses_a_mismatched_edit_and_keeps_the_definition(runtime: Runtime, mtls_server: TLSServer,
                                                                  ca_pem: str, client_one: ClientIdentity,
                                                                  client_two: ClientIdentity) -> None:
    item = add_connection(runtime, 'Bank', mtls_server.url, ca_bundle=ca_pem,
                          security=client_one.definition('bank-cert'))
    # A new certificate alone is checked against the stored key, which is client one's.
    with pytest.raises(ConfigError, match='does not belong to client_cert'):
        runtime.store.edit_security('bank-cert', {'client_cert': client_two.cert_pem})
    assert runtime.store.get_security('bank-cert').version == 1
    assert runtime.outgoing.plain_http['Bank'].conn is item.conn
    assert item.conn.get('cid-1').json()['client'] == 'client-one'


def _weak_identity() -> tuple[str, str]:
    """A self-signed certificate with a 1024-bit key: valid PEM, but OpenSSL refuses to use it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'weak client')])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_material_openssl_refuses_fails_clearly_and_leaves_no_files(runtime: Runtime, mtls_server: TLSServer,
                                                                    ca_pem: str, tmp_path: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A temporary folder of this test's own, so that other tests running at the same time (-n) cannot
    # add or remove files in the one it watches.
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    cert_pem, key_pem = _weak_identity()
    security = SecurityConfig(name='weak', sec_type='mtls', client_cert=cert_pem, secret=key_pem)
    add_connection(runtime, 'Weak', mtls_server.url, security=security, ca_bundle=ca_pem)
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), 'zato-outconn-*')))
    conn = runtime.outgoing.plain_http['Weak'].conn
    for _ in range(3):
        with pytest.raises(SecretsError, match="'weak'.*cannot be loaded"):
            conn.get('cid-1')
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), 'zato-outconn-*'))) == before
    assert mtls_server.recorder.requests == []
