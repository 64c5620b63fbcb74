"""Real authenticating servers on 127.0.0.1 for the security tests.

- ``OAuth2Server``: an OAuth2 token endpoint (client credentials grant) at ``/token``; every other
  path is an API protected by the tokens it issued, so that a token endpoint sharing a host with
  the API can be tested too.
- ``ProtectedAPIServer``: an API on a port of its own that accepts only valid tokens of a ``TokenIssuer``.
- ``DigestServer``: HTTP Digest (RFC 7616, MD5, qop=auth) with a real challenge and a checked response.
- ``NTLMServer``: the NTLM three-message handshake, with pyspnego as the acceptor; NTLM authenticates
  a connection, so the state of the handshake is kept per socket.

Each is a context manager that serves in a thread (over TLS when given an ``ssl.SSLContext``);
``url`` is its base address and ``authorizations`` the Authorization headers it received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import spnego
from spnego.exceptions import SpnegoError

from tests.support.servers import BackgroundServer, QuietThreadingServer


class _Server(QuietThreadingServer):
    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: Any) -> None:
        self.owner = owner
        # Set on shutdown, so that handlers told to be slow stop waiting.
        self.stopping = threading.Event()
        super().__init__(('127.0.0.1', 0), handler)


class _Running(BackgroundServer):
    """One of the servers below, serving its ``handler`` class."""

    handler: type[BaseHTTPRequestHandler]

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        # Every Authorization header that arrived, so that tests can look for them where they must not be.
        self.authorizations: list[str] = []
        super().__init__(_Server(self.handler, self), tls)

    def stopping(self) -> None:
        self._server.stopping.set()  # type: ignore[attr-defined]

    def wait(self, seconds: float) -> None:
        """Sleep in a handler, but wake up when the server stops."""
        self._server.stopping.wait(seconds)  # type: ignore[attr-defined]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        authorization = self.headers.get('Authorization')
        if authorization:
            self.server.owner.authorizations.append(authorization)
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def reply(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b'' if payload is None else json.dumps(payload).encode('utf-8')
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload is not None:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)


# ---------------------------------------------------------------------- OAuth2


@dataclass(frozen=True)
class TokenRequest:
    """One request that reached the token endpoint; the client secret itself is not kept."""

    client_auth: str  # 'basic', 'body', 'both' or 'none'
    client_id: str | None
    authenticated: bool
    form: dict[str, list[str]]  # every form field but client_secret
    content_type: str


@dataclass(frozen=True)
class APICall:
    """One request that reached a protected API."""

    method: str
    path: str
    token: str | None
    status: int
    body: bytes


@dataclass
class TokenIssuer:
    """What the token endpoint knows: clients, tokens given out, and how it is told to misbehave."""

    clients: dict[str, str]
    expires_in: float | None = 3600
    # How long the token endpoint waits before it answers.
    delay: float = 0.0
    # (status, JSON body) to answer every token request with instead of a token, or None.
    failure: tuple[int, Any] | None = None
    requests: list[TokenRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # token -> (client_id, scope, expiry on the monotonic clock or None)
    _valid: dict[str, tuple[str, str, float | None]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def grant(self, token: str, client_id: str = 'static', scope: str = '') -> None:
        """Make a token valid, as if it had been issued long ago without an expiry."""
        with self.lock:
            self._valid[token] = (client_id, scope, None)

    def revoke_all(self) -> None:
        """The API refuses every token given out so far; new ones are valid."""
        with self.lock:
            self._valid.clear()

    def owner_of(self, token: str) -> tuple[str, str] | None:
        """(client_id, scope) of a valid token, else None."""
        with self.lock:
            entry = self._valid.get(token)
        if entry is None or (entry[2] is not None and time.monotonic() >= entry[2]):
            return None
        return entry[0], entry[1]

    def record(self, request: TokenRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def issue(self, client_id: str, scope: str) -> dict[str, Any]:
        token = f'tok-{secrets.token_urlsafe(24)}'
        with self.lock:
            expires_in = self.expires_in
            expiry = time.monotonic() + expires_in if expires_in is not None else None
            self._valid[token] = (client_id, scope, expiry)
            self.issued.append(token)
        answer: dict[str, Any] = {'access_token': token, 'token_type': 'Bearer'}
        if expires_in is not None:
            answer['expires_in'] = expires_in
        if scope:
            answer['scope'] = scope
        return answer


class _OAuth2Handler(_Handler):
    def _handle(self) -> None:
        body = self.read_body()
        owner = self.server.owner
        if urlsplit(self.path).path == '/token' and isinstance(owner, OAuth2Server):
            self._token(owner, body)
        else:
            self._protected(owner, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _token(self, owner: OAuth2Server, body: bytes) -> None:
        issuer = owner.issuer
        content_type = self.headers.get('Content-Type', '')
        form = parse_qs(body.decode('utf-8'), keep_blank_values=True) \
            if content_type.startswith('application/x-www-form-urlencoded') else {}
        basic = self._basic_credentials()
        in_body = 'client_id' in form or 'client_secret' in form
        if basic and in_body:
            client_auth = 'both'
            client_id, secret = basic
        elif basic:
            client_auth = 'basic'
            client_id, secret = basic
        elif in_body:
            client_auth = 'body'
            client_id, secret = form.get('client_id', [''])[0], form.get('client_secret', [''])[0]
        else:
            client_auth, client_id, secret = 'none', None, None
        known = issuer.clients.get(client_id or '')
        authenticated = client_auth in ('basic', 'body') and known is not None \
            and secrets.compare_digest(known.encode('utf-8'), (secret or '').encode('utf-8'))
        public_form = {key: value for key, value in form.items() if key != 'client_secret'}
        issuer.record(TokenRequest(client_auth, client_id, authenticated, public_form, content_type))

        if issuer.delay:
            owner.wait(issuer.delay)
        if issuer.failure is not None:
            self.reply(issuer.failure[0], issuer.failure[1])
        elif self.command != 'POST':
            self.reply(405, {'error': 'invalid_request'}, {'Allow': 'POST'})
        elif form.get('grant_type') != ['client_credentials']:
            self.reply(400, {'error': 'unsupported_grant_type'})
        elif not authenticated:
            self.reply(401, {'error': 'invalid_client'}, {'WWW-Authenticate': 'Basic realm="token"'})
        else:
            answer = issuer.issue(client_id or '', form.get('scope', [''])[0])
            self.reply(200, answer, {'Cache-Control': 'no-store'})

    def _basic_credentials(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get('Authorization', '').partition(' ')
        if scheme.lower() != 'basic':
            return None
        try:
            client_id, _, secret = base64.b64decode(value, validate=True).decode('utf-8').partition(':')
        except (binascii.Error, UnicodeDecodeError):
            return ('', '')
        return client_id, secret

    def _protected(self, owner: OAuth2Server | ProtectedAPIServer, body: bytes) -> None:
        scheme, _, token = self.headers.get('Authorization', '').partition(' ')
        token_or_none = token if scheme == 'Bearer' and token else None
        found = owner.issuer.owner_of(token_or_none) if token_or_none and not owner.refuse_all else None
        status = 200 if found else 401
        owner.record(APICall(self.command, self.path, token_or_none, status, body))
        if found is None:
            self.reply(401, {'error': 'invalid_token'}, {'WWW-Authenticate': 'Bearer error="invalid_token"'})
            return
        if urlsplit(self.path).path == '/redirect':
            # /redirect?to=<url> sends the client elsewhere, as an API moved to another host would.
            self.reply(302, None, {'Location': parse_qs(urlsplit(self.path).query)['to'][0]})
            return
        client_id, scope = found
        self.reply(200, {'method': self.command, 'path': self.path, 'client_id': client_id, 'scope': scope,
                         'body': body.decode('utf-8', 'replace')})


class _APIState(_Running):
    handler = _OAuth2Handler
    issuer: TokenIssuer

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        # When set, every token is refused, as an API whose idea of valid tokens differs would.
        self.refuse_all = False
        self.calls: list[APICall] = []
        self._calls_lock = threading.Lock()
        super().__init__(tls)

    def record(self, call: APICall) -> None:
        with self._calls_lock:
            self.calls.append(call)

    @property
    def statuses(self) -> list[int]:
        with self._calls_lock:
            return [call.status for call in self.calls]


class OAuth2Server(_APIState):
    """The token endpoint at ``token_url``; every other path is an API protected by its tokens."""

    def __init__(self, clients: dict[str, str], expires_in: float | None = 3600,
                 tls: ssl.SSLContext | None = None) -> None:
        self.issuer = TokenIssuer(dict(clients), expires_in)
        super().__init__(tls)

    @property
    def token_url(self) -> str:
        return f'{self.url}/token'


class ProtectedAPIServer(_APIState):
    """An API on a port of its own that accepts the valid tokens of ``issuer`` only."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        super().__init__()


# ---------------------------------------------------------------------- HTTP Digest


def _md5(text: str) -> str:
    # MD5 is what the challenge names: the algorithm of the scheme, not a choice of the test.
    return hashlib.md5(text.encode('utf-8')).hexdigest()


class _DigestHandler(_Handler):
    server: _Server

    def _handle(self) -> None:
        body = self.read_body()
        owner: DigestServer = self.server.owner
        header = self.headers.get('Authorization', '')
        user = owner.check(self.command, self.path, header) if header.startswith('Digest ') else None
        if user is None:
            owner.count('rejected' if header else 'challenged')
            self.reply(401, {'error': 'unauthorized'}, {'WWW-Authenticate': owner.challenge()})
            return
        owner.count('accepted')
        self.reply(200, {'user': user, 'path': self.path, 'body': body.decode('utf-8', 'replace')})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class DigestServer(_Running):
    """Answers 401 with a Digest challenge until a request carries a valid response to it."""

    handler = _DigestHandler
    realm = 'zato-outconn-tests'

    def __init__(self, users: dict[str, str]) -> None:
        self.users = dict(users)
        self.opaque = secrets.token_hex(8)
        self.counts = {'challenged': 0, 'rejected': 0, 'accepted': 0}
        # nonce -> the highest nc seen with it, so that a replayed response is refused.
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__()

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    def challenge(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = 0
        return (f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}", '
                f'opaque="{self.opaque}"')

    def check(self, method: str, uri: str, header: str) -> str | None:
        """The user a Digest Authorization header proves, or None."""
        fields = parse_keqv_list(parse_http_list(header[len('Digest '):]))
        username, nonce, nc = fields.get('username', ''), fields.get('nonce', ''), fields.get('nc', '')
        password = self.users.get(username)
        if password is None or fields.get('realm') != self.realm or fields.get('opaque') != self.opaque \
                or fields.get('uri') != uri or fields.get('qop') != 'auth' \
                or fields.get('algorithm', 'MD5').upper() != 'MD5' or not fields.get('cnonce') \
                or len(nc) != 8:
            return None
        try:
            count = int(nc, 16)
        except ValueError:
            return None
        with self._lock:
            if nonce not in self._nonces or count <= self._nonces[nonce]:
                return None
            self._nonces[nonce] = count
        ha1 = _md5(f'{username}:{self.realm}:{password}')
        ha2 = _md5(f'{method}:{uri}')
        expected = _md5(f'{ha1}:{nonce}:{nc}:{fields["cnonce"]}:auth:{ha2}')
        return username if secrets.compare_digest(expected, fields.get('response', '')) else None


# ---------------------------------------------------------------------- NTLM


class _NTLMHandler(_Handler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        # One handler serves one socket for as long as the client keeps it alive: NTLM state lives here.
        self._context: Any = None
        self._user: str | None = None

    def _handle(self) -> None:
        body = self.read_body()
        owner: NTLMServer = self.server.owner
        scheme, _, value = self.headers.get('Authorization', '').partition(' ')
        if scheme == 'NTLM' and value:
            token = base64.b64decode(value)
            kind = int.from_bytes(token[8:12], 'little') if token.startswith(b'NTLMSSP\0') else 0
            if kind == 1:
                self._context = spnego.server(protocol='ntlm', options=spnego.NegotiateOptions.use_ntlm)
                self._user = None
                challenge = self._context.step(token)
                owner.count('negotiate')
                self.reply(401, None, {'WWW-Authenticate': f'NTLM {base64.b64encode(challenge).decode()}'})
                return
            context, self._context = self._context, None
            if kind != 3 or context is None:
                owner.count('out_of_order')
                self.reply(401, None, {'WWW-Authenticate': 'NTLM'})
                return
            try:
                context.step(token)
            except SpnegoError:
                owner.count('failed')
                self.reply(401, {'error': 'logon denied'}, {'WWW-Authenticate': 'NTLM'})
                return
            owner.count('authenticated')
            self._user = str(context.client_principal)
        elif self._user is None:
            owner.count('challenged')
            self.reply(401, None, {'WWW-Authenticate': 'NTLM'})
            return
        self.reply(200, {'user': self._user, 'path': self.path, 'body': body.decode('utf-8', 'replace')})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class NTLMServer(_Running):
    """NTLM over HTTP/1.1 keep-alive; users come from the file that ``NTLM_USER_FILE`` names."""

    handler = _NTLMHandler

    def __init__(self) -> None:
        self.counts = {'challenged': 0, 'negotiate': 0, 'authenticated': 0, 'failed': 0, 'out_of_order': 0}
        self._lock = threading.Lock()
        super().__init__()

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1
