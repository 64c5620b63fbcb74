"""What every benchmark in bench/ shares: a fast local HTTP server, interleaved timing and the report.

A benchmark script builds a few ``Client`` objects that each make one call to the same URL of a
``LocalServer``, hands them to ``measure`` and prints the results with ``report``. The server runs in
a process of its own, so that it does not compete with the clients for the GIL (nor counts towards
their CPU time), and answers every request at once with a canned reply, the same one for every
request of a method, so that what is measured is the client side.

Clients are timed in interleaved rounds, in an order that rotates from one round to the next, so
that whatever drifts on the machine during a run (frequency scaling, other processes) affects all
of them alike. Each call is timed on its own and the median is what is compared: it is not moved
by the odd slow call (a garbage collection, a scheduler hiccup), which the mean is also shown for.
On request, the CPU time the client process spends in each round is taken too, per call.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import signal
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from time import perf_counter_ns, process_time_ns
from types import TracebackType

from cryptography.fernet import Fernet

from zato_outconn import Runtime
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from zato_outconn.store.secret_box import KEYS_ENV

SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 5.0
DEFAULT_CALLS = 5000
DEFAULT_ROUND_SIZE = 200
DEFAULT_WARMUP = 200

_HEADERS_END = b'\r\n\r\n'

# A reply body may name the server's own address (http://127.0.0.1:<port>) with this mark, which the
# server replaces once it knows its port: a WSDL's soap:address, say.
SERVER_URL_MARK = b'@SERVER_URL@'


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

    def for_server(self, url: str) -> Reply:
        """This reply with ``SERVER_URL_MARK`` replaced by the server's URL."""
        return Reply(self.body.replace(SERVER_URL_MARK, url.encode('ascii')), self.content_type)


class _ReplyProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining, request bodies by Content-Length only."""

    def __init__(self, reply: bytes, head_reply: bytes, by_method: dict[bytes, bytes], delay: float = 0.0) -> None:
        self._reply = reply
        # Seconds each answer waits, as a remote end that takes its time would (answers keep their order).
        self._delay = delay
        self._head_reply = head_reply
        # Lower-cased method and the space after it, as they start a lower-cased request head.
        self._by_method = by_method
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
            if head.startswith(b'head '):
                answer = self._head_reply
            elif self._by_method:
                answer = self._by_method.get(head[:head.find(b' ') + 1], self._reply)
            else:
                answer = self._reply
            closing = b'\r\nconnection: close' in head
            if self._delay:
                asyncio.get_running_loop().call_later(self._delay, self._answer, answer, closing)
            else:
                self._answer(answer, closing)
            if closing:
                return

    def _answer(self, answer: bytes, closing: bool) -> None:
        assert self._transport is not None
        if self._transport.is_closing():
            return
        self._transport.write(answer)
        if closing:
            self._transport.close()


def _content_length(head: bytes) -> int:
    """The Content-Length in a lower-cased request head, or 0 if it has none."""
    start = head.find(b'\r\ncontent-length:')
    if start < 0:
        return 0
    start += len(b'\r\ncontent-length:')
    end = head.find(b'\r\n', start)
    return int(head[start:end if end >= 0 else len(head)])


def _serve(reply: Reply, replies: dict[str, Reply], ready: Connection, delay: float = 0.0) -> None:
    """The server process: listen on a free port of 127.0.0.1, say which, answer until terminated."""
    # Ctrl-C goes to the whole process group; the parent stops this process itself, quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve_forever(reply, replies, ready, delay))


async def _serve_forever(reply: Reply, replies: dict[str, Reply], ready: Connection, delay: float) -> None:
    full, head_only = b'', b''
    encoded: dict[bytes, bytes] = {}

    def protocol() -> _ReplyProtocol:
        return _ReplyProtocol(full, head_only, encoded, delay)

    # Bound first and serving only once the replies are ready, as they may name the port.
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, '127.0.0.1', 0, backlog=1024, start_serving=False)
    port = server.sockets[0].getsockname()[1]
    url = f'http://127.0.0.1:{port}'
    reply = reply.for_server(url)
    by_method = {f'{method.lower()} '.encode('ascii'): item.for_server(url)
                 for method, item in replies.items()}
    full = reply.encode()
    # HEAD answers with the head of what GET would answer.
    head_only = by_method.get(b'get ', reply).encode(with_body=False)
    encoded = {method: item.encode() for method, item in by_method.items()}
    await server.start_serving()
    ready.send(port)
    ready.close()
    async with server:
        await server.serve_forever()


class LocalServer:
    """A ``Reply`` server in a child process, for the duration of a ``with`` block.

    ``reply`` answers every request, except those whose method has a reply of its own in
    ``replies`` (keyed by method, as in ``{'GET': wsdl, 'POST': answer}``); HEAD answers with the
    head of what GET would. With a ``delay``, each answer waits that many seconds.
    """

    def __init__(self, reply: Reply, replies: Mapping[str, Reply] | None = None, *, delay: float = 0.0) -> None:
        self.reply = reply
        self.replies = {method.upper(): item for method, item in (replies or {}).items()}
        if 'HEAD' in self.replies:
            raise ValueError('HEAD answers with the head of the GET reply; give that one instead')
        self.port = 0
        # spawn: the server starts clean, whatever the benchmark has imported or opened so far.
        context = multiprocessing.get_context('spawn')
        self._ready, child_end = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(reply, self.replies, child_end, delay),
                                        name='bench-server', daemon=True)
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
    """Per-call times of one client, in microseconds.

    The CPU figures are set only when ``measure`` was asked for them: the client process's CPU time
    (user and system, all threads) per call, as the median of the rounds' and over the whole run.
    """

    name: str
    calls: int
    median_us: float
    mean_us: float
    p90_us: float
    cpu_median_us: float | None = None
    cpu_mean_us: float | None = None

    @property
    def has_cpu(self) -> bool:
        return self.cpu_median_us is not None


@dataclass(frozen=True)
class _Round:
    calls: int
    cpu_ns: int


def measure(clients: Sequence[Client], *, calls: int, round_size: int = DEFAULT_ROUND_SIZE,
            warmup: int = DEFAULT_WARMUP, cpu: bool = False) -> list[Timing]:
    """Time ``calls`` calls of each client in interleaved rounds; the results follow the clients' order.

    With ``cpu``, the process's CPU time is also read around each round (not each call, which its
    resolution does not allow), and the timings carry the CPU time per call.
    """
    if calls < 1 or round_size < 1 or warmup < 0:
        raise ValueError('calls and round_size must be at least 1, warmup at least 0')
    for client in clients:
        _time_calls(client.call, warmup)

    samples: list[list[int]] = [[] for _ in clients]
    rounds: list[list[_Round]] = [[] for _ in clients]
    count = -(-calls // round_size)
    for number in range(count):
        size = min(round_size, calls - number * round_size)
        # Each round starts with the next client, so that none is always first after a collection.
        for offset in range(len(clients)):
            index = (number + offset) % len(clients)
            gc.collect()
            start = process_time_ns()
            samples[index].extend(_time_calls(clients[index].call, size))
            rounds[index].append(_Round(size, process_time_ns() - start))
    return [_summarise(client.name, durations, client_rounds if cpu else None)
            for client, durations, client_rounds in zip(clients, samples, rounds, strict=True)]


def _time_calls(call: Callable[[], object], count: int) -> list[int]:
    durations = [0] * count
    for index in range(count):
        start = perf_counter_ns()
        call()
        durations[index] = perf_counter_ns() - start
    return durations


def _summarise(name: str, durations: list[int], rounds: list[_Round] | None) -> Timing:
    micros = [duration / 1000 for duration in durations]
    deciles = statistics.quantiles(micros, n=10) if len(micros) > 1 else micros * 9
    cpu: dict[str, float] = {}
    if rounds is not None:
        cpu['cpu_median_us'] = statistics.median(item.cpu_ns / item.calls / 1000 for item in rounds)
        cpu['cpu_mean_us'] = sum(item.cpu_ns for item in rounds) / sum(item.calls for item in rounds) / 1000
    return Timing(name=name, calls=len(micros), median_us=statistics.median(micros),
                  mean_us=statistics.fmean(micros), p90_us=deciles[-1], **cpu)


# ---------------------------------------------------------------------------------------- the report

# What a ratio compares: the median wall time of a call, or the median CPU time per call of the rounds.
METRICS = {'median_us': 'median', 'cpu_median_us': 'CPU'}


@dataclass(frozen=True)
class Target:
    """``subject / peer`` of the medians must be at most ``limit``; ``aim`` is where it should be.

    ``metric`` is what is compared (a key of ``METRICS``); ``strict`` asks for less than ``limit``.
    """

    subject: str
    peer: str
    limit: float
    aim: float
    metric: str = 'median_us'
    strict: bool = False

    def ratio(self, timings: Sequence[Timing]) -> float:
        return ratio(timings, self.subject, self.peer, self.metric)

    def is_met(self, timings: Sequence[Timing]) -> bool:
        value = self.ratio(timings)
        return value < self.limit if self.strict else value <= self.limit


def ratio(timings: Sequence[Timing], subject: str, peer: str, metric: str = 'median_us') -> float:
    """How many times the median call of ``subject`` takes that of ``peer`` (wall time, or CPU)."""
    if metric not in METRICS:
        raise ValueError(f'metric must be one of {", ".join(METRICS)}; got {metric!r}')
    values = {timing.name: getattr(timing, metric) for timing in timings}
    if values[subject] is None or values[peer] is None:
        raise ValueError(f'the timings have no {metric}; measure them with cpu=True')
    return float(values[subject] / values[peer])


def ratios(timings: Sequence[Timing], subject: str, metric: str = 'median_us') -> dict[str, float]:
    """``subject / peer`` for every other client, keyed by that text."""
    return {f'{subject} / {timing.name}': ratio(timings, subject, timing.name, metric)
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


def report(title: str, timings: Sequence[Timing], target: Target | Sequence[Target], *, as_json: bool,
           details: dict[str, object] | None = None) -> None:
    """Print the timings, the subject's ratios to every peer and whether the target(s) are met.

    With CPU times in the timings, they get columns and ratios of their own. Several targets (on
    wall and CPU time, say) must share a subject; the JSON then has ``targets`` instead of ``target``.
    """
    if as_json:
        print(json.dumps(_as_document(title, timings, target, details or {}), indent=2))
    else:
        print(_as_text(title, timings, target, details or {}))


def _targets(target: Target | Sequence[Target]) -> list[Target]:
    targets = [target] if isinstance(target, Target) else list(target)
    if not targets or len({item.subject for item in targets}) != 1:
        raise ValueError('report needs at least one target, and all of them about the same subject')
    return targets


def _has_cpu(timings: Sequence[Timing]) -> bool:
    return all(timing.has_cpu for timing in timings)


def _as_document(title: str, timings: Sequence[Timing], target: Target | Sequence[Target],
                 details: dict[str, object]) -> dict[str, object]:
    targets = _targets(target)
    subject = targets[0].subject
    has_cpu = _has_cpu(timings)
    document: dict[str, object] = {
        'benchmark': title,
        **details,
        'clients': [{key: value for key, value in asdict(timing).items() if value is not None}
                    for timing in timings],
        'ratios': ratios(timings, subject),
    }
    if has_cpu:
        document['cpu_ratios'] = ratios(timings, subject, 'cpu_median_us')
    verdicts = [{**asdict(item), 'ratio': item.ratio(timings), 'met': item.is_met(timings),
                 'aim_met': item.ratio(timings) <= item.aim} for item in targets]
    if isinstance(target, Target):
        document['target'] = verdicts[0]
    else:
        document['targets'] = verdicts
    return document


def _as_text(title: str, timings: Sequence[Timing], target: Target | Sequence[Target],
             details: dict[str, object]) -> str:
    targets = _targets(target)
    subject = targets[0].subject
    has_cpu = _has_cpu(timings)
    width = max(len('client'), *(len(timing.name) for timing in timings))
    header = f'{"client":<{width}}  {"calls":>7}  {"median us":>10}  {"mean us":>10}  {"p90 us":>10}'
    if has_cpu:
        header += f'  {"CPU med us":>10}  {"CPU mean us":>11}'
    lines = [title, *(f'  {key}: {value}' for key, value in details.items()), '', header]
    for t in timings:
        line = f'{t.name:<{width}}  {t.calls:>7}  {t.median_us:>10.1f}  {t.mean_us:>10.1f}  {t.p90_us:>10.1f}'
        if has_cpu:
            line += f'  {t.cpu_median_us:>10.1f}  {t.cpu_mean_us:>11.1f}'
        lines.append(line)
    lines.append('')
    lines += [f'{label}: {value:.2f}' for label, value in ratios(timings, subject).items()]
    if has_cpu:
        lines += [f'{label} (CPU): {value:.2f}'
                  for label, value in ratios(timings, subject, 'cpu_median_us').items()]
    lines.append('')
    for item in targets:
        value = item.ratio(timings)
        verdict = 'met' if item.is_met(timings) else 'MISSED'
        aim = 'reached' if value <= item.aim else 'not reached'
        what = '' if item.metric == 'median_us' else f' ({METRICS[item.metric]})'
        sign = '<' if item.strict else '<='
        lines.append(f'target {item.subject} / {item.peer}{what} {sign} {item.limit:.2f}: {verdict} '
                     f'({value:.2f}); aim {item.aim:.2f}: {aim}')
    return '\n'.join(lines)


def fresh_runtime(folder: Path, create: Callable[[Runtime], None]) -> Runtime:
    """A runtime on a new SQLite database in ``folder``, with ``create`` run on it to add connections."""
    # A key of its own in the environment, so that no key file is written next to the database.
    os.environ[KEYS_ENV] = Fernet.generate_key().decode('ascii')
    db_url = f'sqlite:///{folder / "bench.db"}'
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    runtime = Runtime(db_url)
    try:
        create(runtime)
    except BaseException:
        runtime.close()
        raise
    return runtime
