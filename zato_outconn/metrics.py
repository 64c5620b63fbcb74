"""Per-connection metrics for Prometheus, recorded by every call and available to any process.

``render()`` gives what a scrape answers (``zato-outconn serve`` serves it at ``/metrics``) and
``stats(name)`` a connection's calls, errors and latency percentiles. The series::

    zato_outconn_requests_total{connection,transport,method,code}   one per attempt; code is the
                                                                    status, or "error" when no answer came
    zato_outconn_request_duration_seconds{connection,transport}     histogram, one per attempt
    zato_outconn_errors_total{connection,error}                     failed calls, by the error's class
    zato_outconn_retries_total{connection}                          attempts after the first
    zato_outconn_circuit_open{connection}                           1 while the circuit is open

Labels hold connection names, never URLs or cids, so there are as many series as connections.
``forget(name)`` drops a deleted connection's. With ``PROMETHEUS_MULTIPROC_DIR`` set (as ``serve``
sets it for its gunicorn workers) each process writes its own files there and ``render`` adds up
every process's; prometheus-client cannot remove a series from those files, so there a forgotten
connection is left out of what this process renders instead, until a registry of the process has
a connection of that name again (``remember``).

The recording functions are on the path of every call: each connection's labelled series are made
once and kept, so that recording one is a dictionary look-up and prometheus-client's own increment
(an attempt's two series come from one look-up).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from zato_outconn.config.outconn import HTTP_METHODS

__all__ = ['NO_ANSWER', 'count_error', 'count_retry', 'families', 'forget', 'observe_attempt', 'remember', 'render',
           'set_circuit', 'stats', 'summarise']

MULTIPROCESS_ENV = 'PROMETHEUS_MULTIPROC_DIR'
# The code of an attempt that got no answer (refused, timed out, cut off).
NO_ANSWER = 'error'
# Seconds; past a minute a call is a timeout whatever its exact figure.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
PERCENTILES = (0.5, 0.95, 0.99)
# The method label of the methods outside HTTP_METHODS.
OTHER_METHOD = 'other'
_METHODS = frozenset(HTTP_METHODS)

REQUESTS = Counter('zato_outconn_requests_total', 'Requests sent, one per attempt, by the status code of the answer '
                   '("error" when none came)', ('connection', 'transport', 'method', 'code'))
DURATION = Histogram('zato_outconn_request_duration_seconds', 'Seconds each attempt took, to its answer or error',
                     ('connection', 'transport'), buckets=BUCKETS)
ERRORS = Counter('zato_outconn_errors_total', 'Calls that failed, by the class of the error raised',
                 ('connection', 'error'))
RETRIES = Counter('zato_outconn_retries_total', 'Attempts made after the first one of a call', ('connection',))
# In a multi-process server, open when it is open in any live process.
CIRCUIT = Gauge('zato_outconn_circuit_open', '1 while the circuit of the connection is open (calls fail at once), '
                'else 0', ('connection',), multiprocess_mode='livemax')

_NAMES = {name: f'zato_outconn_{name}' for name in ('requests_total', 'request_duration_seconds_bucket',
                                                      'request_duration_seconds_sum', 'errors_total', 'retries_total',
                                                      'circuit_open')}
_MULTIPROCESS = MULTIPROCESS_ENV in os.environ or MULTIPROCESS_ENV.lower() in os.environ


# Each connection's labelled children, made on first use and kept: a key is the metric and the values
# of its labels after the connection's (a status code as an int, or None for no answer). Read without
# a lock; written (a new connection, a new label value) under _lock.
_series: dict[str, dict[tuple[Any, ...], Any]] = {}
_lock = threading.Lock()
# Connections forgotten by this process, left out of what it renders (multi-process mode only).
_forgotten: set[str] = set()
# An attempt's two recorders, its requests_total child and its request_duration_seconds child, by
# (connection, transport, method, code): as many as the children in _series, which hold them too.
_attempts: dict[tuple[str, str, str, int | None], tuple[Any, Any]] = {}


def _labels(connection: str, key: tuple[Any, ...]) -> tuple[str, ...]:
    return (connection, *(NO_ANSWER if value is None else str(value) for value in key[1:]))


def _child(connection: str, key: tuple[Any, ...]) -> Any:
    """The child of ``key``'s metric for this connection; the first time, made and kept."""
    series = _series.get(connection)
    child = series.get(key) if series is not None else None
    if child is None:
        with _lock:
            child = _kept(connection, key)
    return child


def _kept(connection: str, key: tuple[Any, ...]) -> Any:
    """What ``_child`` gives, with _lock held."""
    series = _series.get(connection)
    if series is None:
        series = _series[connection] = {}
        _forgotten.discard(connection)
    child = series.get(key)
    if child is None:
        child = series[key] = key[0].labels(*_labels(connection, key))
    return child


def _attempt_recorders(key: tuple[str, str, str, int | None]) -> tuple[Any, Any]:
    """The two children an attempt of ``key`` records to; the first time, made and kept."""
    with _lock:
        # Under the lock with the children themselves, so that a forget() cannot come in between and
        # leave recorders kept here that its series no longer hold.
        recorders = _attempts.get(key)
        if recorders is None:
            connection, transport, method, code = key
            recorders = _attempts[key] = (_kept(connection, (REQUESTS, transport, method, code)),
                                          _kept(connection, (DURATION, transport)))
    return recorders


def observe_attempt(connection: str, transport: str, method: str, code: int | None, seconds: float) -> None:
    """One attempt: its answer's status code (None if no answer came) and how long it took."""
    if method not in _METHODS:
        # Any token may be a method: a series per one a caller made up would have no bound.
        method = OTHER_METHOD
    key = (connection, transport, method, code)
    recorders = _attempts.get(key)
    if recorders is None:
        recorders = _attempt_recorders(key)
    requests, duration = recorders
    requests.inc()
    duration.observe(seconds)


def count_error(connection: str, error: str) -> None:
    """A failed call, by the class name of the error it raised (``ConnectTimeout``, ``CircuitOpen``)."""
    _child(connection, (ERRORS, error)).inc()


def count_retry(connection: str) -> None:
    """An attempt after the first one of a call."""
    _child(connection, (RETRIES,)).inc()


def set_circuit(connection: str, is_open: bool) -> None:
    """The state of the connection's circuit breaker in this process."""
    _child(connection, (CIRCUIT,)).set(1 if is_open else 0)


def forget(connection: str) -> None:
    """Drop the series of a deleted (or renamed) connection, so that they are no longer exposed."""
    with _lock:
        series = _series.pop(connection, None)
        for attempt in [attempt for attempt in _attempts if attempt[0] == connection]:
            del _attempts[attempt]
        if _MULTIPROCESS:
            # Other processes' files still hold it, and prometheus-client cannot remove from them.
            _forgotten.add(connection)
            return
        for key in series or ():
            key[0].remove(*_labels(connection, key))


def remember(connection: str) -> None:
    """A connection (again) in a registry of this process: in multi-process mode, no longer left out
    of what it renders, though no call of it was recorded here yet (another process may have). Its
    series then hold, in each process's files, what they did before it was forgotten too: those files
    cannot be rewritten."""
    if connection in _forgotten:
        with _lock:
            _forgotten.discard(connection)


class _Remembered:
    """Every process's metrics, as written to the multi-process directory, less the connections forgotten."""

    def __init__(self) -> None:
        self._source = MultiProcessCollector(None)

    def collect(self) -> Iterable[Metric]:
        forgotten = frozenset(_forgotten)
        for family in self._source.collect():
            if forgotten and family.name.startswith('zato_outconn_'):
                family.samples = [sample for sample in family.samples
                                  if sample.labels.get('connection') not in forgotten]
            yield family


def _registry() -> CollectorRegistry:
    if not _MULTIPROCESS:
        return REGISTRY
    # A registry of its own on every scrape, as prometheus-client's multi-process mode needs.
    registry = CollectorRegistry()
    registry.register(_Remembered())
    return registry


def render() -> tuple[bytes, str]:
    """What a Prometheus scrape answers: the text exposition format, and its content type."""
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def families() -> Iterable[Metric]:
    """This process's metric families (in multi-process mode, every process's), as a scrape would parse them."""
    return _registry().collect()


def stats(connection: str, transport: str | None = None) -> dict[str, Any]:
    """Calls, errors, retries, status codes and p50/p95/p99 latency of a connection in this process
    (in multi-process mode, in every process of the server)."""
    return summarise(families(), connection, transport)


def summarise(metric_families: Iterable[Metric], connection: str, transport: str | None = None) -> dict[str, Any]:
    """A connection's figures from metric families: this process's (``families``) or those a scrape parsed
    (``prometheus_client.parser``). ``transport`` tells a plain_http connection from a soap one of the
    same name; errors, retries and the circuit are counted by name only."""
    calls = errors = retries = 0.0
    seconds = 0.0
    circuit: bool | None = None
    codes: dict[str, int] = {}
    buckets: dict[float, float] = {}
    for family in metric_families:
        for sample in family.samples:
            labels = sample.labels
            if labels.get('connection') != connection:
                continue
            if transport and labels.get('transport', transport) != transport:
                continue
            name, value = sample.name, sample.value
            if name == _NAMES['requests_total']:
                calls += value
                codes[labels['code']] = codes.get(labels['code'], 0) + int(value)
            elif name == _NAMES['request_duration_seconds_bucket']:
                bound = float(labels['le'])
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif name == _NAMES['request_duration_seconds_sum']:
                seconds += value
            elif name == _NAMES['errors_total']:
                errors += value
            elif name == _NAMES['retries_total']:
                retries += value
            elif name == _NAMES['circuit_open']:
                circuit = bool(circuit) or value > 0
    cumulative = sorted(buckets.items())
    attempts = cumulative[-1][1] if cumulative else 0.0
    return {
        'connection': connection, 'calls': int(calls), 'errors': int(errors), 'retries': int(retries),
        'codes': dict(sorted(codes.items())), 'circuit_open': circuit,
        'mean': seconds / attempts if attempts else None,
        **{f'p{round(q * 100)}': quantile(q, cumulative) for q in PERCENTILES},
    }


def quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """The q-quantile (0 < q < 1) of a histogram from its cumulative buckets ``(upper bound, count)``,
    sorted, +Inf last: linear within the bucket it falls in, as Prometheus's histogram_quantile does.
    None when nothing was observed; the highest finite bound when it falls in the +Inf bucket."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = q * cumulative[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float('inf'):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, count
    return lower
