"""File descriptors after touching 10,000 connections once each: bounded by the process-wide cap.

Usage::

    python3 bench/bench_sockets.py            # --templates N, --fd-limit N, --json

N connections to the fast local server are imported in one document; a process of its own, whose
descriptor limit is lowered to ``--fd-limit`` (default 1024) before zato-outconn is imported,
starts a Runtime and makes one GET on each connection in turn. It counts its open descriptors (and
those that are sockets) before, right after, and once idle sockets have been closed
(``ZATO_OUTCONN_IDLE_TIMEOUT`` set to 1 s here). Without the cap it would hold one socket per
connection, and fail at the limit with "Too many open files"; the goal is a count bounded by the
cap (``ZATO_OUTCONN_MAX_SOCKETS``, by default the limit less a fifth, at least 256 left over).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_plain_http import REPLY
from bench_sync import database
from cryptography.fernet import Fernet

from zato_outconn import Store
from zato_outconn.store.secret_box import KEYS_ENV
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

from harness import LocalServer

# The process that touches every connection: its limit lowered before anything is imported.
_TOUCH = '''
import json, os, resource, sys, time
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

def descriptors():
    names = os.listdir('/proc/self/fd')
    sockets = 0
    for name in names:
        try:
            sockets += os.readlink(f'/proc/self/fd/{name}').startswith('socket:')
        except OSError:
            pass
    return len(names), sockets

from zato_outconn import Runtime
from zato_outconn.wire.budget import PROCESS
before = descriptors()
start = time.perf_counter()
failures = 0
with Runtime(sys.argv[1], sync=False) as runtime:
    names = list(runtime.outgoing.plain_http)
    for name in names:
        try:
            runtime.outgoing.plain_http[name].conn.get('bench-cid').content
        except Exception as error:
            failures += 1
            last_error = repr(error)
    touched_s = time.perf_counter() - start
    after = descriptors()
    time.sleep(float(os.environ['ZATO_OUTCONN_IDLE_TIMEOUT']) * 3 + 1)
    idle = descriptors()
print(json.dumps({'connections': len(names), 'fd_limit': limit, 'cap': PROCESS.size, 'failures': failures,
                  'touched_s': round(touched_s, 2), 'fds_before': before[0], 'fds_after': after[0],
                  'sockets_after': after[1], 'fds_after_idle': idle[0], 'sockets_after_idle': idle[1]}))
'''


def document(count: int, host: str) -> dict[str, Any]:
    outconns = [{'name': f'Conn {n}', 'host': host, 'url_path': f'/tenants/{n}'} for n in range(count)]
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [], 'outconns': outconns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--templates', type=int, default=10_000, help='Connections to touch (default 10000).')
    parser.add_argument('--fd-limit', type=int, default=1024, help='Descriptor limit of the process (default 1024).')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    os.environ.setdefault(KEYS_ENV, Fernet.generate_key().decode())
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        url = stack.enter_context(database('sqlite', ''))
        store = Store(url)
        try:
            store.import_document(document(options.templates, server.url))
        finally:
            store.close()
        env = {**os.environ, 'ZATO_OUTCONN_IDLE_TIMEOUT': '1'}
        env.pop('ZATO_OUTCONN_MAX_SOCKETS', None)
        completed = subprocess.run([sys.executable, '-c', _TOUCH, url, str(options.fd_limit)], env=env,
                                   capture_output=True, text=True, timeout=600, check=False,
                                   cwd=str(Path(__file__).parent))
    if completed.returncode:
        raise SystemExit(f'the touching process failed:\n{completed.stderr}')
    figures = json.loads(completed.stdout.splitlines()[-1])
    figures['met'] = figures['failures'] == 0 and figures['sockets_after'] <= figures['cap']
    if options.json:
        print(json.dumps(figures, indent=2))
        return
    print(f'{figures["connections"]} connections touched once each in {figures["touched_s"]} s under a descriptor '
          f'limit of {figures["fd_limit"]} (cap {figures["cap"]} sockets), {figures["failures"]} failures')
    print(f'descriptors: {figures["fds_before"]} before, {figures["fds_after"]} after '
          f'({figures["sockets_after"]} sockets), {figures["fds_after_idle"]} once idle '
          f'({figures["sockets_after_idle"]} sockets); bounded by the cap: {"met" if figures["met"] else "MISSED"}')


if __name__ == '__main__':
    main()
