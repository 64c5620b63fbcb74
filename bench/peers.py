"""The peers a call of zato-outconn is compared with, each sending what the product sends.

Every peer makes the same GET to the same URL with the same headers as ``conn.get``: the
Authorization of the same basic_auth credentials, the product's User-Agent, X-Zato-CID,
X-Zato-Component, a fresh X-Zato-Msg-TS on every call, and the Accept, Accept-Encoding and
Connection headers requests adds. A ratio is only worth printing if that holds, so
``check_same_headers`` sends one request of each to a ``CaptureServer`` first and refuses to go on
if the header names the server received differ, or the Authorization and User-Agent values do.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from zato_outconn.conn.headers import msg_timestamp
from zato_outconn.conn.http import USER_AGENT

from harness import Client, Reply

USERNAME = 'bench'
PASSWORD = 'bench-password'
AUTHORIZATION = 'Basic ' + base64.b64encode(f'{USERNAME}:{PASSWORD}'.encode()).decode('ascii')
# What requests' default_headers adds besides the User-Agent; the peers send the same.
STANDARD_HEADERS = {'Accept-Encoding': requests.utils.default_headers()['Accept-Encoding'], 'Accept': '*/*',
                    'Connection': 'keep-alive'}

try:
    import httpx
except ImportError:  # an extra (pip install -e .[bench]); its row is skipped
    httpx = None  # type: ignore[assignment]

HTTPX_MISSING = 'httpx is not installed (pip install -e .[bench]): the httpx row is skipped'


@dataclass(frozen=True)
class CallHeaders:
    """The headers of one call, as the product sends them: fixed ones and the per-call timestamp."""

    cid: str
    component: str

    def fixed(self) -> dict[str, str]:
        """Every header but the timestamp, in the order requests sends them."""
        return {'User-Agent': USER_AGENT, **STANDARD_HEADERS, 'X-Zato-CID': self.cid,
                'X-Zato-Component': self.component}

    def per_call(self) -> dict[str, str]:
        """The headers a peer adds on each call: the timestamp, made as the product makes it."""
        return {'X-Zato-Msg-TS': msg_timestamp()}


class RawSocketClient:
    """The floor: one keep-alive socket, the request written by hand, the answer read by its length."""

    def __init__(self, url: str, path: str, headers: CallHeaders) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self._address = (parts.hostname, parts.port)
        fixed = {'Host': parts.netloc, **headers.fixed(), 'Authorization': AUTHORIZATION}
        self._head = (f'GET {path} HTTP/1.1\r\n' + ''.join(f'{name}: {value}\r\n' for name, value in fixed.items())
                      + 'X-Zato-Msg-TS: ').encode('latin-1')
        self._sock: socket.socket | None = None
        self._buffer = b''

    def get(self) -> bytes:
        if self._sock is None:
            self._sock = socket.create_connection(self._address)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = self._sock
        sock.sendall(self._head + msg_timestamp().encode('ascii') + b'\r\n\r\n')
        buffer = self._buffer
        while (end := buffer.find(b'\r\n\r\n')) < 0:
            buffer += self._receive(sock)
        head = buffer[:end].lower()
        start = head.index(b'\r\ncontent-length:') + 17
        stop = head.find(b'\r\n', start)
        size = end + 4 + int(head[start:stop if stop >= 0 else len(head)])
        while len(buffer) < size:
            buffer += self._receive(sock)
        self._buffer = buffer[size:]
        return buffer[end + 4:size]

    @staticmethod
    def _receive(sock: socket.socket) -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('the server closed the socket')
        return chunk

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass
class Peers:
    """The peers of one URL, open until ``close``; ``clients`` gives their calls, by name."""

    url: str
    path: str
    headers: CallHeaders
    trusting: requests.Session
    untrusting: requests.Session
    pool: urllib3.HTTPConnectionPool
    raw: RawSocketClient
    httpx_client: Any = None

    def calls(self) -> dict[str, Callable[[], bytes]]:
        """One call of each peer, returning the body it read."""
        url, path, headers = self.url + self.path, self.path, self.headers
        trusting, untrusting, pool = self.trusting, self.untrusting, self.pool
        fixed = {**headers.fixed(), 'Authorization': AUTHORIZATION}
        per_call = headers.per_call
        calls: dict[str, Callable[[], bytes]] = {
            'requests (trust_env on)': lambda: trusting.get(url, headers=per_call()).content,
            'requests (trust_env off)': lambda: untrusting.get(url, headers=per_call()).content,
            'urllib3': lambda: pool.request('GET', path, headers={**fixed, **per_call()}).data,
            'raw socket': self.raw.get,
        }
        if self.httpx_client is not None:
            client = self.httpx_client
            calls['httpx'] = lambda: client.get(url, headers=per_call()).content
        return calls

    def clients(self) -> list[Client]:
        return [Client(name, call) for name, call in self.calls().items()]

    def close(self) -> None:
        self.trusting.close()
        self.untrusting.close()
        self.pool.close()
        self.raw.close()
        if self.httpx_client is not None:
            self.httpx_client.close()


def _session(headers: CallHeaders, trust_env: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = trust_env
    session.headers.update(headers.fixed())
    session.auth = (USERNAME, PASSWORD)
    return session


@contextmanager
def open_peers(url: str, path: str, headers: CallHeaders, *, maxsize: int = 1) -> Iterator[Peers]:
    """Every peer, pointed at ``url``; ``maxsize`` sockets for the pools that threads share."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with ExitStack() as stack:
        client = None
        if httpx is not None:
            limits = httpx.Limits(max_connections=maxsize, max_keepalive_connections=maxsize)
            client = httpx.Client(headers=headers.fixed(), auth=(USERNAME, PASSWORD), limits=limits)
        peers = Peers(url, path, headers, _session(headers, True), _session(headers, False),
                      urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=maxsize, block=True),
                      RawSocketClient(url, path, headers), client)
        stack.callback(peers.close)
        yield peers


# ---------------------------------------------------------------------------------------- the check

class _CaptureHandler(socketserver.StreamRequestHandler):
    server: CaptureServer

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            fields: list[tuple[str, str]] = []
            while (header := self.rfile.readline(65537)) not in (b'\r\n', b'\n', b''):
                name, _, value = header.decode('latin-1').partition(':')
                fields.append((name.strip(), value.strip()))
            self.server.record(fields)
            self.wfile.write(self.server.reply.encode())
            self.wfile.flush()


class CaptureServer(socketserver.ThreadingTCPServer):
    """A keep-alive server in this process that keeps the headers of each request it receives."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, reply: Reply) -> None:
        super().__init__(('127.0.0.1', 0), _CaptureHandler)
        self.reply = reply
        self.received: list[list[tuple[str, str]]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name='bench-capture', daemon=True)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.server_address[1]}'

    def record(self, fields: list[tuple[str, str]]) -> None:
        with self._lock:
            self.received.append(fields)

    def take(self) -> list[tuple[str, str]]:
        """The headers of the one request received since the last take."""
        with self._lock:
            if len(self.received) != 1:
                raise RuntimeError(f'the capture server received {len(self.received)} requests, not 1')
            return self.received.pop()

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, _type: type[BaseException] | None, _error: BaseException | None,
                 _traceback: TracebackType | None) -> None:
        self.shutdown()
        self.server_close()


def check_same_headers(server: CaptureServer, calls: dict[str, Callable[[], object]], product: str) -> list[str]:
    """Send one request of each call to ``server``; the header names each sent (the same for all).

    Raises RuntimeError, naming what differs, unless every call sent the same header names (in
    any case and order) as ``product``, and the same Authorization and User-Agent.
    """
    seen: dict[str, dict[str, str]] = {}
    for name, call in calls.items():
        call()
        seen[name] = {key.lower(): value for key, value in server.take()}
    expected = seen[product]
    problems = []
    for name, fields in seen.items():
        if fields.keys() != expected.keys():
            missing = sorted(expected.keys() - fields.keys())
            extra = sorted(fields.keys() - expected.keys())
            problems.append(f'{name}: missing {missing}, extra {extra}')
        for key in ('authorization', 'user-agent'):
            if fields.get(key) != expected.get(key):
                problems.append(f'{name}: another {key} value than {product}')
    if problems:
        raise RuntimeError('The peers do not send what the product sends, so no ratio is printed:\n  '
                           + '\n  '.join(problems))
    return sorted(expected)
