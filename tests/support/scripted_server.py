"""An HTTP server on 127.0.0.1 whose answers a test scripts, one per request, recording when each came.

For the policy tests: a 503 twice then a 200, a Retry-After in either form, a slow answer that
outlasts a read timeout, a server that fails until told to recover.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.servers import BackgroundServer, QuietThreadingServer


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'ok'
    # Seconds to wait before answering.
    delay: float = 0.0


@dataclass
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        server = self.server
        with server.lock:
            arrival = Arrival(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
            server.arrivals.append(arrival)
            answer = server.next_answer(arrival)
        if answer.delay:
            time.sleep(answer.delay)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(answer.body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class _Server(QuietThreadingServer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.script: list[Answer] = []
        # What it answers once the script has run out, or for every request with no script.
        self.otherwise: Answer | Callable[[Arrival], Answer] = Answer()
        super().__init__(('127.0.0.1', 0), _Handler)

    def next_answer(self, arrival: Arrival) -> Answer:
        if self.script:
            return self.script.pop(0)
        return self.otherwise(arrival) if callable(self.otherwise) else self.otherwise


class ScriptedServer(BackgroundServer):
    """Answers from ``script`` in turn, then ``otherwise``; ``arrivals`` says what came and when."""

    def __init__(self) -> None:
        super().__init__(_Server())

    @property
    def _state(self) -> _Server:
        return self._server  # type: ignore[return-value]

    def answer(self, *answers: Answer, otherwise: Answer | Callable[[Arrival], Answer] | None = None) -> None:
        with self._state.lock:
            self._state.script = list(answers)
            if otherwise is not None:
                self._state.otherwise = otherwise

    @property
    def arrivals(self) -> list[Arrival]:
        with self._state.lock:
            return list(self._state.arrivals)

    @property
    def count(self) -> int:
        with self._state.lock:
            return len(self._state.arrivals)

    def gaps(self) -> list[float]:
        """Seconds between one request's arrival and the next's."""
        times = [arrival.at for arrival in self.arrivals]
        return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
