"""How many CPU instructions one plain HTTP GET takes in the client, zato-outconn beside its peers.

Run from the project folder (needs valgrind; Debian's package ``valgrind``)::

    python3 bench/bench_instructions.py             # --calls N (default 2000), --json

Wall and CPU time (``bench_plain_http.py``) move with whatever else the machine does; a count of
instructions does not. Each client of ``bench_plain_http`` (the product's ``conn.get`` and the peers,
which that benchmark checks send the same headers and auth) runs in a process of its own under
valgrind's callgrind, once
with no timed calls and once with ``--calls`` of them, both after the same warm-up; the difference
over the calls is what one call takes in the client, its threads included. The server runs in a
process valgrind does not follow. What a count leaves out is the kernel's work (system calls, the
sockets) and the wait for the server: much the same for every client, and most of a call's wall
time. Several minutes: valgrind runs a program some fifty times slower.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench_plain_http import CONNECTION, PARAMS, PATH_AND_QUERY, PRODUCT, REPLY, create_runtime
from peers import HTTPX_MISSING, CallHeaders, httpx, open_peers

from zato_outconn.runtime.context import new_cid

from harness import LocalServer, _at_least

TITLE = 'instructions per plain HTTP GET in the client: zato-outconn vs urllib3, httpx and requests'
PEERS = ('urllib3', 'httpx', 'requests (trust_env off)', 'requests (trust_env on)')
WARMUP = 200
_COLLECTED = re.compile(r'Collected\s*:\s*(\d+)')


def calls_in_child(client: str, calls: int) -> None:
    """In the process valgrind runs: the client's warm-up, then ``calls`` calls."""
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        runtime = stack.enter_context(create_runtime(folder, {CONNECTION: server.url}))
        cid = new_cid()
        conn = runtime.outgoing.plain_http[CONNECTION].conn
        peers = stack.enter_context(open_peers(server.url, PATH_AND_QUERY, CallHeaders(cid, conn._component.current())))
        call = {PRODUCT: lambda: conn.get(cid, PARAMS), **peers.calls()}[client]
        for _ in range(WARMUP + calls):
            call()


def instructions(valgrind: str, client: str, calls: int) -> int:
    """The instructions the client's process runs, warm-up and ``calls`` calls included."""
    # The same hash seed each time: sets and dicts then take the same steps in both runs.
    env = {**os.environ, 'PYTHONHASHSEED': '0'}
    done = subprocess.run([valgrind, '--tool=callgrind', '--callgrind-out-file=/dev/null', sys.executable,
                           __file__, '--child', client, str(calls)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parent.parent, timeout=3600, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f'{client} failed under valgrind:\n{done.stderr[-2000:]}')
    return int(found.group(1))


def per_call(valgrind: str, client: str, calls: int) -> float:
    return (instructions(valgrind, client, calls) - instructions(valgrind, client, 0)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument('--calls', type=_at_least(1), default=2000, help='timed calls per client (default 2000)')
    parser.add_argument('--json', action='store_true', help='print the results as JSON, for scripts')
    parser.add_argument('--child', nargs=2, metavar=('CLIENT', 'CALLS'), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        calls_in_child(options.child[0], int(options.child[1]))
        return
    valgrind = shutil.which('valgrind')
    if valgrind is None:
        print('valgrind is not installed (Debian: apt-get install valgrind); no instructions counted')
        return
    if httpx is None:
        print(HTTPX_MISSING)
    clients = [PRODUCT, *(peer for peer in PEERS if peer != 'httpx' or httpx is not None)]
    counts = {client: per_call(valgrind, client, options.calls) for client in clients}
    ratios = {f'{PRODUCT} / {peer}': counts[PRODUCT] / counts[peer] for peer in clients if peer != PRODUCT}
    if options.json:
        print(json.dumps({'title': TITLE, 'calls': options.calls, 'instructions_per_call': counts,
                          'ratios': ratios}, indent=2))
        return
    print(TITLE)
    print(f'  calls per client: {options.calls}, after {WARMUP} untimed\n')
    for client, count in counts.items():
        print(f'{client:28} {count / 1000:8.0f} thousand instructions per call')
    print()
    for name, value in ratios.items():
        print(f'{name}: {value:.2f}')


if __name__ == '__main__':
    main()
