"""Calls at once: 8 threads sharing one connection, and 200 greenlets calling a slow server.

Usage::

    python3 bench/bench_concurrency.py            # --calls N, --rounds N, --greenlets N, --json

threads: 8 threads share one ``conn`` (pool_size 8) and make ``--calls`` GETs in all, as fast as
they can, against the fast local server; beside it, in turns, 8 threads share one urllib3
``HTTPConnectionPool`` (maxsize 8) sending the same headers. The figure is calls per second, the
median of ``--rounds`` rounds each; the goal is conn / urllib3 >= 0.8.

greenlets: in a process of its own, where gevent's monkey-patching comes first (as in a gevent
server), 200 greenlets each make 5 calls in a row to a server that answers every request after
50 ms, through one connection with a socket for each (pool_size 200). Ideally all of them end
after 5 x 50 ms = 0.25 s; the figure is wall / ideal, goal at most 2, beside the same through a
bare urllib3 pool under gevent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_plain_http import CONNECTION, PARAMS, PATH_AND_QUERY, REPLY, SECURITY, URL_PATH
from peers import PASSWORD, USERNAME, CallHeaders, open_peers

from zato_outconn import OutconnConfig, Runtime, SecurityConfig
from zato_outconn.runtime.context import new_cid

from harness import LocalServer, fresh_runtime

THREADS = 8
GREENLETS = 200
CALLS_EACH = 5
DELAY = 0.05
GOAL_THREADS = 0.8
GOAL_GREENLETS = 2.0


def calls_per_second(call: Callable[[], object], threads: int, total: int) -> float:
    """Calls per second of ``threads`` threads making ``total`` calls of ``call`` in all."""
    each = total // threads
    start_line = threading.Barrier(threads + 1)

    def work() -> None:
        start_line.wait()
        for _ in range(each):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start_line.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return each * threads / (time.perf_counter() - start)


def create(hosts: dict[str, tuple[str, int]]) -> Callable[[Runtime], None]:
    """What fresh_runtime runs: a basic_auth definition and a connection to each (host, pool_size)."""

    def create_in(runtime: Runtime) -> None:
        runtime.store.create_security(SecurityConfig(name=SECURITY, sec_type='basic_auth', username=USERNAME,
                                                     secret=PASSWORD))
        for name, (host, pool_size) in hosts.items():
            runtime.store.create_outconn(OutconnConfig(name=name, host=host, url_path=URL_PATH, security=SECURITY,
                                                       pool_size=pool_size))

    return create_in


def threads_row(calls: int, rounds: int) -> dict[str, Any]:
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        runtime = stack.enter_context(fresh_runtime(folder, create({CONNECTION: (server.url, THREADS)})))
        conn = runtime.outgoing.plain_http[CONNECTION].conn
        cid = new_cid()
        peers = stack.enter_context(open_peers(server.url, PATH_AND_QUERY, CallHeaders(cid, conn._component.current()),
                                               maxsize=THREADS))
        contenders = {'zato-outconn': lambda: conn.get(cid, PARAMS), 'urllib3': peers.calls()['urllib3']}
        figures: dict[str, list[float]] = {name: [] for name in contenders}
        for call in contenders.values():
            calls_per_second(call, THREADS, THREADS * 50)  # warm: every socket open
        for number in range(rounds):
            for name in list(contenders)[number % 2:] + list(contenders)[:number % 2]:
                figures[name].append(calls_per_second(contenders[name], THREADS, calls))
    medians = {name: statistics.median(values) for name, values in figures.items()}
    ratio = medians['zato-outconn'] / medians['urllib3']
    return {'threads': THREADS, 'calls_per_round': calls, 'rounds': rounds,
            'calls_per_s': {name: round(value) for name, value in medians.items()},
            'ratio': round(ratio, 2), 'goal': GOAL_THREADS, 'met': ratio >= GOAL_THREADS}


# The greenlet process: patched first, then the runtime on the database the parent made.
_GREENLETS = '''
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent, urllib3
sys.path.insert(0, sys.argv[1])
from peers import AUTHORIZATION, CallHeaders
from zato_outconn import Runtime
db_url, name, port, greenlets, each = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
path = sys.argv[7]
results = {}
with Runtime(db_url, sync=False) as runtime:
    conn = runtime.outgoing.plain_http[name].conn
    pool = urllib3.HTTPConnectionPool('127.0.0.1', port, maxsize=greenlets, block=True)
    headers = CallHeaders('bench-cid', conn._component.current())
    fixed = {**headers.fixed(), 'Authorization': AUTHORIZATION}
    contenders = {'zato-outconn': lambda: conn.get('bench-cid', {'cust_id': 1, 'type_id': 2}).content,
                  'urllib3': lambda: pool.request('GET', path, headers={**fixed, **headers.per_call()}).data}
    for label, call in contenders.items():
        walls = []
        for number in range(4):  # the first opens the sockets, and is not counted
            def work():
                for _ in range(each):
                    call()
            start = time.perf_counter()
            gevent.joinall([gevent.spawn(work) for _ in range(greenlets)], raise_error=True)
            if number:
                walls.append(time.perf_counter() - start)
        results[label] = sorted(walls)[len(walls) // 2]
    pool.close()
print(json.dumps(results))
'''


def greenlets_row(greenlets: int) -> dict[str, Any]:
    ideal = CALLS_EACH * DELAY
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY, delay=DELAY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        runtime = stack.enter_context(fresh_runtime(folder, create({CONNECTION: (server.url, greenlets)})))
        db_url = runtime.store.db_url
        completed = subprocess.run(
            [sys.executable, '-c', _GREENLETS, str(Path(__file__).parent), db_url, CONNECTION, str(server.port),
             str(greenlets), str(CALLS_EACH), PATH_AND_QUERY],
            capture_output=True, text=True, timeout=300, env=dict(os.environ), check=False)
        if completed.returncode:
            raise RuntimeError(f'the greenlet process failed:\n{completed.stderr}')
        walls = json.loads(completed.stdout.splitlines()[-1])
    ratios = {name: wall / ideal for name, wall in walls.items()}
    return {'greenlets': greenlets, 'calls_each': CALLS_EACH, 'server_delay_s': DELAY, 'ideal_s': ideal,
            'wall_s': {name: round(wall, 3) for name, wall in walls.items()},
            'wall_vs_ideal': {name: round(value, 2) for name, value in ratios.items()},
            'goal': GOAL_GREENLETS, 'met': ratios['zato-outconn'] <= GOAL_GREENLETS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=8000, help='Calls per round of the threads row (default 8000).')
    parser.add_argument('--rounds', type=int, default=5, help='Rounds of the threads row (default 5).')
    parser.add_argument('--greenlets', type=int, default=GREENLETS, help=f'Greenlets (default {GREENLETS}).')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    results = {'threads': threads_row(options.calls, options.rounds), 'greenlets': greenlets_row(options.greenlets)}
    if options.json:
        print(json.dumps(results, indent=2))
        return
    row = results['threads']
    print(f'{THREADS} threads, one connection: calls/s {row["calls_per_s"]}; zato-outconn / urllib3 '
          f'{row["ratio"]} (goal >= {GOAL_THREADS}: {"met" if row["met"] else "MISSED"})')
    row = results['greenlets']
    print(f'{row["greenlets"]} greenlets x {CALLS_EACH} calls, server {DELAY * 1000:g} ms: wall {row["wall_s"]} s; '
          f'/ ideal {row["ideal_s"]:g} s: {row["wall_vs_ideal"]} (goal <= {GOAL_GREENLETS:g}: '
          f'{"met" if row["met"] else "MISSED"})')


if __name__ == '__main__':
    main()
