"""A real HTTPS server on 127.0.0.1 for the mTLS tests, and the certificates it and its clients use.

The server can require a client certificate, and records the common name of the certificate each
request came with, the headers it carried, and why each failed handshake failed.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization

from zato_outconn import SecurityConfig

from tests.support.servers import BackgroundServer, QuietThreadingServer


@dataclass
class TLSSeen:
    """One request as the server received it: who the client certificate named, and the headers."""

    client: str | None
    path: str
    headers: dict[str, str]


@dataclass
class TLSRecorder:
    requests: list[TLSSeen] = field(default_factory=list)
    handshake_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clients(self) -> list[str | None]:
        return [seen.client for seen in self.requests]

    def failed_handshakes(self, expected: int, timeout: float = 5.0) -> list[str]:
        """Why handshakes failed, once ``expected`` of them have (or the timeout has passed).

        The server records a failure after sending its alert, so the client can hear of it first.
        """
        deadline = time.monotonic() + timeout
        while len(self.handshake_errors) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.handshake_errors)


class _ClientCertHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: _TLSServer

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        peer = self.connection.getpeercert()  # type: ignore[attr-defined]
        client = dict(part for rdn in peer['subject'] for part in rdn).get('commonName') if peer else None
        with self.server.recorder.lock:
            self.server.recorder.requests.append(TLSSeen(client, self.path, dict(self.headers.items())))
        payload = json.dumps({'client': client, 'path': self.path}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _answer


class _TLSServer(QuietThreadingServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.recorder = TLSRecorder()
        super().__init__(('127.0.0.1', 0), _ClientCertHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the request's thread, so that one failing client holds up no other.
        tls = self.context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        tls.settimeout(5)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            with self.recorder.lock:
                self.recorder.handshake_errors.append(str(error))
            _close_after_the_client(tls)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def _close_after_the_client(tls: ssl.SSLSocket) -> None:
    """Read until the client hangs up, as servers do, so that the TLS alert reaches it.

    Closing at once with the client's request unread would reset the connection, and the client
    would see a reset instead of the alert saying that a certificate was required.
    """
    raw = socket.socket(fileno=tls.detach())
    raw.settimeout(2)
    try:
        while raw.recv(65536):
            pass
    except OSError:
        pass
    finally:
        raw.close()


class TLSServer(BackgroundServer):
    """An HTTPS server in a thread; with ``client_ca`` it requires a client certificate that CA issued.

    It does its own handshakes, per connection, so that it can record why one failed.
    """

    scheme = 'https'

    def __init__(self, server_ca: trustme.CA, *, client_ca: trustme.CA | None = None,
                 identities: tuple[str, ...] = ('127.0.0.1',)) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ca.issue_cert(*identities).configure_cert(context)
        if client_ca is not None:
            client_ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        super().__init__(_TLSServer(context))

    @property
    def recorder(self) -> TLSRecorder:
        return self._server.recorder  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate and its private key, as PEM text; the key optionally encrypted."""

    common_name: str
    cert_pem: str
    key_pem: str
    key_password: str | None = None

    def definition(self, name: str) -> SecurityConfig:
        return SecurityConfig(name=name, sec_type='mtls', client_cert=self.cert_pem, secret=self.key_pem,
                              key_password=self.key_password)

    @property
    def key_body(self) -> list[str]:
        """The base64 lines of the key: any one of them in some text means the key leaked."""
        return [line for line in self.key_pem.splitlines()
                if line and not line.startswith(('-----', 'Proc-'))]


def client_identity(ca: trustme.CA, common_name: str, *, key_password: str | None = None,
                    **issue: Any) -> ClientIdentity:
    """A certificate for ``common_name`` issued by ``ca``; with key_password, its key encrypted by it."""
    leaf = ca.issue_cert(f'{common_name}@clients.example.com', common_name=common_name, **issue)
    key_pem = leaf.private_key_pem.bytes()
    if key_password is not None:
        key = serialization.load_pem_private_key(key_pem, None)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(key_password.encode()))
    cert_pem = leaf.cert_chain_pems[0].bytes().decode()
    return ClientIdentity(common_name, cert_pem, key_pem.decode(), key_password)
