"""A TCP server on 127.0.0.1 that answers as a test's script says, byte by byte if need be.

For the answers no HTTP server library would send: a status line and then silence, a body
trickled a byte at a time, a reset mid-body, a negative Content-Length, a socket closed just as a
kept-alive request arrives.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Self

# A script gets the accepted socket and the number of the connection (0 for the first).
Script = Callable[[socket.socket, int], None]


def read_request(sock: socket.socket) -> bytes:
    """Read one request's head and, by its Content-Length, its body; b'' when the client hung up."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b'\r\n\r\n' + body


def answer(body: bytes = b'ok', status: str = '200 OK', headers: str = '') -> bytes:
    return (f'HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n').encode() + body


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than a clean close."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


class RawServer:
    """Runs ``script`` for each connection in a thread of its own; ``connections`` counts them."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._listener = socket.create_server(('127.0.0.1', 0), backlog=64)
        # accept() wakes this often to see whether the server is stopping.
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.connections = 0
        # Set when a script finds the client has closed its end (it reads b'').
        self.client_closed = threading.Event()

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self._listener.getsockname()[1]}'

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                number = self.connections
                self.connections += 1
            threading.Thread(target=self._run, args=(sock, number), daemon=True).start()

    def _run(self, sock: socket.socket, number: int) -> None:
        try:
            self._script(sock, number)
        except OSError:
            pass  # the client went away, as several tests make it do
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def wait_for_client_close(self, sock: socket.socket, seconds: float = 10) -> None:
        """Block until the client closes its end (or seconds pass), then record it."""
        sock.settimeout(seconds)
        try:
            while sock.recv(65536):
                pass
        except (TimeoutError, OSError):
            return
        self.client_closed.set()


def trickle(sock: socket.socket, data: bytes, every: float) -> None:
    """Send data one byte at a time."""
    for byte in data:
        sock.sendall(bytes([byte]))
        time.sleep(every)


def established_to(port: int) -> int:
    """How many sockets of this machine are connected to 127.0.0.1:port right now, by the kernel's table.

    Counted on the client's side, where a socket stops counting the moment it is closed; a server
    notices a close only when it next reads.
    """
    with open('/proc/net/tcp', buffering=1 << 20) as table:
        lines = table.read().splitlines()[1:]
    count = 0
    for line in lines:
        fields = line.split()
        remote_port = int(fields[2].rpartition(':')[2], 16)
        if remote_port == port and fields[3] == '01':  # 01: ESTABLISHED
            count += 1
    return count


class SocketSampler:
    """Samples established_to(port) in a thread until stopped; ``most`` is the highest count seen.

    The kernel writes its table a page at a time, so one reading may see a socket closed on one
    page and its successor opened on the next: a count is taken as the lower of two readings made
    one after the other. A cap that does not hold shows in both.
    """

    def __init__(self, port: int, every: float = 0.002) -> None:
        self.most = 0
        self._port = port
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.most = max(self.most, min(established_to(self._port), established_to(self._port)))
