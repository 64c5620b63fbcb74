"""Real HTTP servers on 127.0.0.1 for the tests: they record what arrives on the wire.

``QuietThreadingServer`` and ``BackgroundServer`` are the pieces every test server here is built
from (see also auth_servers, tls_servers and soap_server).
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Recorder:
    requests: list[Seen] = field(default_factory=list)
    open_sockets: int = 0
    max_open_sockets: int = 0
    client_ports: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def last(self) -> Seen:
        return self.requests[-1]


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: _RecordingServer

    def log_message(self, *_args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        seen = Seen(self.command, self.path, dict(self.headers.items()), body, self.client_address[1])
        recorder = self.server.recorder
        with recorder.lock:
            recorder.requests.append(seen)

        # /sleep/<seconds>/... waits before answering; /status/<code>/... answers with that status;
        # /redirect/<path> redirects to /<path> here, and /redirect-to?url=<url> to any URL.
        path, _, query = self.path.partition('?')
        parts = path.strip('/').split('/')
        status = 200
        if len(parts) >= 2 and parts[0] == 'sleep':
            time.sleep(float(parts[1]))
        if len(parts) >= 2 and parts[0] == 'status':
            status = int(parts[1])
        if (len(parts) >= 2 and parts[0] == 'redirect') or parts[0] == 'redirect-to':
            self.send_response(302)
            location = parse_qs(query)['url'][0] if parts[0] == 'redirect-to' else '/' + '/'.join(parts[1:])
            self.send_header('Location', location)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return

        payload = json.dumps({
            'method': seen.method, 'path': seen.path, 'headers': seen.headers,
            'body': body.decode('utf-8', 'replace')}).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class QuietThreadingServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 for tests."""

    daemon_threads = True
    allow_reuse_address = True
    # Many clients connect at once in the concurrency tests; the default backlog of 5 would make
    # the kernel drop their connection attempts and the clients retry a second later.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (pings that close unread, timeouts) are expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class BackgroundServer:
    """Serves a socketserver in a daemon thread between ``__enter__`` and ``__exit__``.

    With ``tls``, the listening socket is wrapped and ``url`` says https.
    """

    scheme = 'http'

    def __init__(self, server: socketserver.TCPServer, tls: ssl.SSLContext | None = None) -> None:
        self._server = server
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
            self.scheme = 'https'
        self._thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def stopping(self) -> None:
        """Called first when the server stops; handlers that wait can be woken here."""

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f'{self.scheme}://127.0.0.1:{self.port}'


class _RecordingServer(QuietThreadingServer):
    def __init__(self) -> None:
        self.recorder = Recorder()
        super().__init__(('127.0.0.1', 0), RecordingHandler)

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        recorder = self.recorder
        with recorder.lock:
            recorder.open_sockets += 1
            recorder.max_open_sockets = max(recorder.max_open_sockets, recorder.open_sockets)
            recorder.client_ports.add(client_address[1])
        try:
            super().process_request_thread(request, client_address)
        finally:
            with recorder.lock:
                recorder.open_sockets -= 1


class RecordingServer(BackgroundServer):
    """The recording server; ``recorder`` holds what it saw."""

    def __init__(self) -> None:
        super().__init__(_RecordingServer())

    @property
    def recorder(self) -> Recorder:
        return self._server.recorder  # type: ignore[attr-defined]


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]
