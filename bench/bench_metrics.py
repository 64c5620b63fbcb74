"""What recording a call costs: the metrics, the interceptors and the tracing span, per call.

Usage::

    python3 bench/bench_metrics.py              # --calls N, --rounds N, --json

Each recording function of ``zato_outconn.metrics`` is timed beside a bare call of a function that
does nothing (the floor of any call) and beside prometheus-client's own increment of a child it was
handed (what the cache leaves to pay), in a process of its own, once with metrics in memory and once
in multi-process mode (``PROMETHEUS_MULTIPROC_DIR``, as under ``zato-outconn serve``), where each
increment writes to a memory-mapped file. Then what a call pays for interceptors when none was added
and when one was, and for a tracing span (OpenTelemetry's API with no tracer provider, as most
processes have it). Beside them, a whole ``conn.get`` to a local keep-alive server (``harness``), and
what an attempt's recording (``observe_attempt``, the span, the interceptors' check) is of it. The
median of the rounds, in µs per call. Goal: a few µs per attempt recorded, about 1% of a call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from time import perf_counter_ns

GOAL_US = 5.0


def per_call(function: Callable[[], object], calls: int, rounds: int) -> float:
    """µs per call of ``function``: the median over ``rounds`` rounds of ``calls`` calls each."""
    times = []
    for _ in range(rounds):
        start = perf_counter_ns()
        for _ in range(calls):
            function()
        times.append((perf_counter_ns() - start) / calls / 1000)
    return statistics.median(times)


def measure(calls: int, rounds: int) -> dict[str, float]:
    from zato_outconn import metrics
    from zato_outconn.conn.interceptors import CallInfo, Interceptors
    from zato_outconn.conn.tracing import client_span

    def bare() -> None:
        return None

    child = metrics.REQUESTS.labels('bench floor', 'plain_http', 'GET', '200')
    call = CallInfo('CRM', 'GET', 'http://127.0.0.1/customer', 'cid-1', 1)
    empty = Interceptors()
    signing = Interceptors()

    class Signer:
        def before_send(self, request: object, info: CallInfo) -> None:
            return None

    signing.add(Signer(), 'CRM*')

    def no_interceptor() -> None:
        if not empty.is_empty:
            empty.before_send(None, call)

    def span() -> None:
        with client_span('CRM', 'GET', 'http://127.0.0.1/customer') as opened:
            opened.inject({})
            opened.set_status(200, None)

    cases: dict[str, Callable[[], object]] = {
        'bare call': bare,
        'child.inc() (prometheus-client alone)': child.inc,
        'observe_attempt': lambda: metrics.observe_attempt('CRM', 'plain_http', 'GET', 200, 0.012),
        'count_error': lambda: metrics.count_error('CRM', 'ConnectTimeout'),
        'count_retry': lambda: metrics.count_retry('CRM'),
        'set_circuit': lambda: metrics.set_circuit('CRM', False),
        'interceptors, none added': no_interceptor,
        'interceptors, one added': lambda: signing.before_send(None, call),
        'tracing span (no provider)': span,
    }
    for function in cases.values():
        function()  # the first call makes the series; what is timed is every call after it
    figures = {name: per_call(function, calls, rounds) for name, function in cases.items()}
    figures[WHOLE_CALL] = whole_call(max(calls // 20, 100), rounds)
    return figures


WHOLE_CALL = 'whole call: conn.get to a local server'
RECORDING = ('observe_attempt', 'tracing span (no provider)', 'interceptors, none added')


def whole_call(calls: int, rounds: int) -> float:
    from zato_outconn import OutconnConfig, Runtime

    from harness import LocalServer, Reply, fresh_runtime

    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(Reply(b'{"cust_id":1}')))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))

        def create(runtime: Runtime) -> None:
            runtime.store.create_outconn(OutconnConfig(name='Bench', host=server.url))

        runtime = stack.enter_context(fresh_runtime(folder, create))
        conn = runtime.outgoing.plain_http['Bench'].conn
        return per_call(lambda: conn.get('cid-1'), calls, rounds)


def run_child(multiprocess: bool, calls: int, rounds: int) -> dict[str, float]:
    env = {key: value for key, value in os.environ.items() if key.upper() != 'PROMETHEUS_MULTIPROC_DIR'}
    with tempfile.TemporaryDirectory(prefix='zato-outconn-bench-metrics-') as directory:
        if multiprocess:
            env['PROMETHEUS_MULTIPROC_DIR'] = directory
        done = subprocess.run([sys.executable, __file__, '--child', '--calls', str(calls), '--rounds', str(rounds)],
                              env=env, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=20000, help='calls per round (a twentieth of them for the whole '
                                                                  'call)')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure(options.calls, options.rounds)))
        return
    results = {mode: run_child(mode == 'multi-process', options.calls, options.rounds)
               for mode in ('in memory', 'multi-process')}
    if options.json:
        print(json.dumps(results, indent=2))
        return
    for mode, figures in results.items():
        floor = figures['bare call']
        print(f'\n{mode}: µs per call (median of {options.rounds} rounds of {options.calls}), and x the bare call')
        for name, value in figures.items():
            mark = '' if name.startswith(('bare', 'child', 'interceptors', 'tracing', 'whole')) or value <= GOAL_US \
                else f'  over the {GOAL_US} µs goal'
            print(f'  {name:40} {value:8.3f} µs  {value / floor:8.1f}x{mark}')
        recording = sum(figures[name] for name in RECORDING)
        print(f'  recording one attempt ({" + ".join(RECORDING)}): {recording:.2f} µs, '
              f'{100 * recording / figures[WHOLE_CALL]:.1f}% of a whole call')


if __name__ == '__main__':
    main()
