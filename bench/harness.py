"""What every benchmark in bench/ shares: a fast local HTTP server, interleaved timing and the report.

A benchmark script builds a few ``Client`` objects that each make one call to the same URL of a
``LocalServer``, hands them to ``measure`` and prints the results with ``report``. The server runs in
a process of its own, so that it does not compete with the clients for the GIL, and answers every
request at once with the same canned reply, so that what is measured is the client side.

Clients are timed in interleaved rounds, in an order that rotates from one round to the next, so
that whatever drifts on the machine during a run (frequency scaling, other processes) affects all
of them alike. Each call is timed on its own and the median is what is compared: it is not moved
by the odd slow call (a garbage collection, a scheduler hiccup), which the mean is also shown for.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import signal
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from time import perf_counter_ns
from types import TracebackType

SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 5.0
DEFAULT_CALLS = 5000
DEFAULT_ROUND_SIZE = 200
DEFAULT_WARMUP = 200

_HEADERS_END = b'\r\n\r\n'


# ---------------------------------------------------------------------------------------- the server

@dataclass(frozen=True)
class Reply:
    """The canned answer of a ``LocalServer``: always 200, keep-alive, with a Content-Length."""

    body: bytes
    content_type: str = 'application/json'

    def encode(self, *, with_body: bool = True) -> bytes:
        head = (f'HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n'
                f'Content-Length: {len(self.body)}\r\n\r\n').encode('ascii')
        return head + self.body if with_body else head


class _ReplyProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining, request bodies by Content-Length only."""

    def __init__(self, reply: bytes, head_reply: bytes) -> None:
        self._reply = reply
        self._head_reply = head_reply
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        buffer = self._buffer
        buffer += data
        while (end := buffer.find(_HEADERS_END)) >= 0:
            head = bytes(buffer[:end]).lower()
            size = end + len(_HEADERS_END) + _content_length(head)
            if len(buffer) < size:
                return
            del buffer[:size]
            self._transport.write(self._head_reply if head.startswith(b'head ') else self._reply)
            if b'\r\nconnection: close' in head:
                self._transport.close()
                return


def _content_length(head: bytes) -> int:
    """The Content-Length in a lower-cased request head, or 0 if it has none."""
    start = head.find(b'\r\ncontent-length:')
    if start < 0:
        return 0
    start += len(b'\r\ncontent-length:')
    end = head.find(b'\r\n', start)
    return int(head[start:end if end >= 0 else len(head)])


def _serve(reply: Reply, ready: Connection) -> None:
    """The server process: listen on a free port of 127.0.0.1, say which, answer until terminated."""
    # Ctrl-C goes to the whole process group; the parent stops this process itself, quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve_forever(reply, ready))


async def _serve_forever(reply: Reply, ready: Connection) -> None:
    full, head_only = reply.encode(), reply.encode(with_body=False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _ReplyProtocol(full, head_only), '127.0.0.1', 0, backlog=128)
    ready.send(server.sockets[0].getsockname()[1])
    ready.close()
    async with server:
        await server.serve_forever()


class LocalServer:
    """A ``Reply`` server in a child process, for the duration of a ``with`` block."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.port = 0
        # spawn: the server starts clean, whatever the benchmark has imported or opened so far.
        context = multiprocessing.get_context('spawn')
        self._ready, child_end = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(reply, child_end), name='bench-server',
                                        daemon=True)
        self._child_end = child_end

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def __enter__(self) -> LocalServer:
        self._process.start()
        self._child_end.close()
        try:
            if not self._ready.poll(SERVER_START_TIMEOUT):
                raise RuntimeError(f'The benchmark server did not start within {SERVER_START_TIMEOUT} s')
            try:
                self.port = self._ready.recv()
            except EOFError:
                self._process.join(SERVER_STOP_TIMEOUT)
                raise RuntimeError(f'The benchmark server exited before it started listening (exit code '
                                   f'{self._process.exitcode}); its error is printed above') from None
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, _type: type[BaseException] | None, _error: BaseException | None,
                 _traceback: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._ready.close()
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(SERVER_STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# ---------------------------------------------------------------------------------------- timing

@dataclass(frozen=True)
class Client:
    """One way of making the call being compared; ``call`` makes one request and reads the answer."""

    name: str
    call: Callable[[], object]


@dataclass(frozen=True)
class Timing:
    """Per-call times of one client, in microseconds."""

    name: str
    calls: int
    median_us: float
    mean_us: float
    p90_us: float


def measure(clients: Sequence[Client], *, calls: int, round_size: int = DEFAULT_ROUND_SIZE,
            warmup: int = DEFAULT_WARMUP) -> list[Timing]:
    """Time ``calls`` calls of each client in interleaved rounds; the results follow the clients' order."""
    if calls < 1 or round_size < 1 or warmup < 0:
        raise ValueError('calls and round_size must be at least 1, warmup at least 0')
    for client in clients:
        _time_calls(client.call, warmup)

    samples: list[list[int]] = [[] for _ in clients]
    rounds = -(-calls // round_size)
    for number in range(rounds):
        size = min(round_size, calls - number * round_size)
        # Each round starts with the next client, so that none is always first after a collection.
        for offset in range(len(clients)):
            index = (number + offset) % len(clients)
            gc.collect()
            samples[index].extend(_time_calls(clients[index].call, size))
    return [_summarise(client.name, durations) for client, durations in zip(clients, samples)]


def _time_calls(call: Callable[[], object], count: int) -> list[int]:
    durations = [0] * count
    for index in range(count):
        start = perf_counter_ns()
        call()
        durations[index] = perf_counter_ns() - start
    return durations


def _summarise(name: str, durations: list[int]) -> Timing:
    micros = [duration / 1000 for duration in durations]
    deciles = statistics.quantiles(micros, n=10) if len(micros) > 1 else micros * 9
    return Timing(name=name, calls=len(micros), median_us=statistics.median(micros),
                  mean_us=statistics.fmean(micros), p90_us=deciles[-1])


# ---------------------------------------------------------------------------------------- the report

@dataclass(frozen=True)
class Target:
    """``subject / peer`` of the medians must be at most ``limit``; ``aim`` is where it should be."""

    subject: str
    peer: str
    limit: float
    aim: float

    def ratio(self, timings: Sequence[Timing]) -> float:
        return ratio(timings, self.subject, self.peer)

    def is_met(self, timings: Sequence[Timing]) -> bool:
        return self.ratio(timings) <= self.limit


def ratio(timings: Sequence[Timing], subject: str, peer: str) -> float:
    """How many times the median call of ``subject`` takes that of ``peer``."""
    medians = {timing.name: timing.median_us for timing in timings}
    return medians[subject] / medians[peer]


def ratios(timings: Sequence[Timing], subject: str) -> dict[str, float]:
    """``subject / peer`` for every other client, keyed by that text."""
    return {f'{subject} / {timing.name}': ratio(timings, subject, timing.name)
            for timing in timings if timing.name != subject}


def build_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--calls', type=_at_least(1), default=DEFAULT_CALLS,
                        help=f'calls per client, in total (default {DEFAULT_CALLS})')
    parser.add_argument('--round-size', type=_at_least(1), default=DEFAULT_ROUND_SIZE,
                        help=f'calls per client in each interleaved round (default {DEFAULT_ROUND_SIZE})')
    parser.add_argument('--warmup', type=_at_least(0), default=DEFAULT_WARMUP,
                        help=f'untimed calls per client before the rounds (default {DEFAULT_WARMUP})')
    parser.add_argument('--json', action='store_true', help='print the results as JSON, for scripts')
    return parser


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'must be a whole number; got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be at least {minimum}; got {value}')
        return value

    return parse


def report(title: str, timings: Sequence[Timing], target: Target, *, as_json: bool,
           details: dict[str, object] | None = None) -> None:
    """Print the timings, the subject's ratios to every peer and whether the target is met."""
    if as_json:
        print(json.dumps(_as_document(title, timings, target, details or {}), indent=2))
    else:
        print(_as_text(title, timings, target, details or {}))


def _as_document(title: str, timings: Sequence[Timing], target: Target,
                 details: dict[str, object]) -> dict[str, object]:
    return {
        'benchmark': title,
        **details,
        'clients': [asdict(timing) for timing in timings],
        'ratios': ratios(timings, target.subject),
        'target': {**asdict(target), 'ratio': target.ratio(timings), 'met': target.is_met(timings),
                   'aim_met': target.ratio(timings) <= target.aim},
    }


def _as_text(title: str, timings: Sequence[Timing], target: Target, details: dict[str, object]) -> str:
    width = max(len('client'), *(len(timing.name) for timing in timings))
    lines = [title, *(f'  {key}: {value}' for key, value in details.items()), '',
             f'{"client":<{width}}  {"calls":>7}  {"median us":>10}  {"mean us":>10}  {"p90 us":>10}']
    lines += [f'{t.name:<{width}}  {t.calls:>7}  {t.median_us:>10.1f}  {t.mean_us:>10.1f}  {t.p90_us:>10.1f}'
              for t in timings]
    lines.append('')
    lines += [f'{label}: {value:.2f}' for label, value in ratios(timings, target.subject).items()]
    lines.append('')
    value = target.ratio(timings)
    verdict = 'met' if value <= target.limit else 'MISSED'
    aim = 'reached' if value <= target.aim else 'not reached'
    lines.append(f'target {target.subject} / {target.peer} <= {target.limit:.2f}: {verdict} ({value:.2f}); '
                 f'aim {target.aim:.2f}: {aim}')
    return '\n'.join(lines)
