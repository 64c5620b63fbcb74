"""A TCP server on 127.0.0.1 that answers as a test's script says, byte by byte if need be.

For the answers no HTTP server library would send: a status line and then silence, a body
trickled a byte at a time, a reset mid-body, a negative Content-Length, a socket closed just as a
kept-alive request arrives.
"""

from __future__ import annotations

import os
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


def _table_to(port: int) -> list[list[str]]:
    """The kernel's rows of TCP sockets whose remote end is 127.0.0.1:port, each row split into its fields."""
    with open('/proc/net/tcp', buffering=1 << 20) as table:
        lines = table.read().splitlines()[1:]
    rows = [line.split() for line in lines]
    return [fields for fields in rows if int(fields[2].rpartition(':')[2], 16) == port]


def established_to(port: int) -> int:
    """How many sockets of this machine are connected to 127.0.0.1:port right now, by the kernel's table.

    Counted on the client's side, where a socket stops counting the moment it is closed; a server
    notices a close only when it next reads. The kernel writes its table a page at a time and starts
    each page afresh, so a row may come twice in one reading: rows are counted by their local address.
    """
    return len({fields[1] for fields in _table_to(port) if fields[3] == '01'})  # 01: ESTABLISHED


def open_to(port: int) -> int:
    """How many of this process's open descriptors are sockets it connected to 127.0.0.1:port.

    Its descriptors are listed first, in one go, and only then looked up in the kernel's table: a
    reading of that table takes long enough for sockets to close and others to open while it is
    made (it is no snapshot), whereas the descriptors listed were all open at once. A socket closed
    between the two is not counted, so this never counts more than were open together.
    """
    inodes = set()
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink(f'/proc/self/fd/{fd}')
        except OSError:
            continue  # closed since it was listed (the listing's own descriptor, for one)
        if target.startswith('socket:['):
            inodes.add(target[len('socket:['):-1])
    return len({fields[9] for fields in _table_to(port) if fields[9] in inodes})


class SocketSampler:
    """Samples open_to(port) in a thread until stopped; ``most`` is the highest count seen."""

    def __init__(self, port: int, every: float = 0.002) -> None:
        self.most = 0
        self.samples = 0
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
        # A last look: the thread may not have had its turn while the calls ran, and what they left
        # open counts too.
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def _sample(self) -> None:
        self.samples += 1
        self.most = max(self.most, open_to(self._port))
