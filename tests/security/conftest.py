"""Fixtures of the security tests: real servers that check each scheme, and the certificates they use.

``make_conn``, ``http_server``, ``runtime`` and ``sqlite_url`` come from ``tests/conftest.py``. The
constants the fixtures are built from are here too; the test modules import them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.auth_servers import DigestServer, NTLMServer, OAuth2Server, ProtectedAPIServer, TokenIssuer
from tests.support.tls_servers import ClientIdentity, TLSServer, client_identity

MakeConn = Callable[..., Any]


@pytest.fixture(scope='module')
def ca() -> trustme.CA:
    """Issues both the servers' certificates and the clients' ones."""
    return trustme.CA()


# ---------------------------------------------------------------------- digest, NTLM and bearer (test_security)

# The password the digest and NTLM servers know alice by.
PASSWORD = 'Zażółć s3cret'


@pytest.fixture
def digest_server() -> Iterator[DigestServer]:
    with DigestServer({'alice': PASSWORD}) as server:
        yield server


@pytest.fixture
def ntlm_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NTLMServer]:
    users = tmp_path / 'ntlm-users'
    users.write_text(f'CORP:alice:{PASSWORD}\n', encoding='utf-8')
    monkeypatch.setenv('NTLM_USER_FILE', str(users))
    with NTLMServer() as server:
        yield server


@pytest.fixture
def bearer_api() -> Iterator[ProtectedAPIServer]:
    issuer = TokenIssuer({})
    issuer.grant('eyJhbGciOiJIUzI1NiJ9.e30.static-s1gnature', client_id='static')
    with ProtectedAPIServer(issuer) as server:
        yield server


# ---------------------------------------------------------------------- OAuth2 (test_oauth2)

CLIENT_ID = 'zato-client'
CLIENT_SECRET = 'cl1ent-s3cret-9f2c'
DEFINITION = 'partner-oauth'


@pytest.fixture
def oauth2_server() -> Iterator[OAuth2Server]:
    with OAuth2Server({CLIENT_ID: CLIENT_SECRET}) as server:
        yield server


@pytest.fixture
def api_server(oauth2_server: OAuth2Server) -> Iterator[ProtectedAPIServer]:
    with ProtectedAPIServer(oauth2_server.issuer) as server:
        yield server


def oauth2(token_url: str, name: str = DEFINITION, **settings: Any) -> dict[str, Any]:
    return {'name': name, 'sec_type': 'oauth2', 'token_url': token_url, 'client_id': CLIENT_ID,
            'secret': CLIENT_SECRET, **settings}


@pytest.fixture
def partner(make_conn: MakeConn, oauth2_server: OAuth2Server, api_server: ProtectedAPIServer) -> Any:
    """A connection to the protected API with an oauth2 definition of the token server."""
    return make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url,
                     url_path='/orders')


# ---------------------------------------------------------------------- mTLS (test_mtls)

# The password of client_two's key.
KEY_PASSWORD = 'Key-pa55-9d41be'


@pytest.fixture(scope='module')
def client_one(ca: trustme.CA) -> ClientIdentity:
    return client_identity(ca, 'client-one')


@pytest.fixture(scope='module')
def client_two(ca: trustme.CA) -> ClientIdentity:
    return client_identity(ca, 'client-two', key_password=KEY_PASSWORD)


@pytest.fixture
def ca_pem(ca: trustme.CA) -> str:
    return ca.cert_pem.bytes().decode()


@pytest.fixture
def start_server(ca: trustme.CA) -> Iterator[Callable[..., TLSServer]]:
    """Start HTTPS servers with certificates from ``ca``; each stops when the test ends."""
    started: list[TLSServer] = []

    def start(*, require_client_cert: bool = True) -> TLSServer:
        server = TLSServer(ca, client_ca=ca if require_client_cert else None)
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def mtls_server(start_server: Callable[..., TLSServer]) -> TLSServer:
    """Requires a client certificate issued by the test CA."""
    return start_server()
