"""What the policies cost a call when none of them fires: retries, a breaker and a rate limit set, beside none.

Run from the project folder:

    python3 bench/bench_policies.py                  # 5000 calls per client, a table
    python3 bench/bench_policies.py --calls 20000 --json

A local keep-alive server (``harness.LocalServer``) answers 200 at once, so that nothing is retried,
the circuit stays closed and, with a rate limit far above what one thread can reach, no call waits.
Three connections to it, created the way a user would, are timed in interleaved rounds, each making
``conn.get(cid, {'cust_id': 1})``:

- ``no policies``: every policy off, the default (the call pays one check for them);
- ``retries``: ``max_retries=3``;
- ``all policies``: ``max_retries=3``, ``breaker_threshold=5``, ``rate_limit=1000000``.

It prints the medians and the ratios; the goal is under 5% extra (``all policies / no policies`` <
1.05). Timings are not asserted: the exit status is 0 unless something fails.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from zato_outconn import OutconnConfig, Runtime
from zato_outconn.runtime.context import new_cid

from harness import Client, LocalServer, Reply, Target, build_parser, fresh_runtime, measure, report

TITLE = 'policies configured but not firing: a plain HTTP GET with retries, breaker and rate limit vs none'
REPLY = Reply(b'{"cust_id":1,"name":"Jane Doe"}')
PARAMS = {'cust_id': 1}
CONNECTIONS: dict[str, dict[str, Any]] = {
    'no policies': {},
    'retries': {'max_retries': 3},
    # A rate far above what one thread reaches: a token is always there, and taking it is what is timed.
    'all policies': {'max_retries': 3, 'breaker_threshold': 5, 'rate_limit': 1_000_000},
}
GOAL = 1.05


def caller(conn: Any, cid: str) -> Callable[[], object]:
    def call() -> object:
        return conn.get(cid, PARAMS)

    return call


def main() -> None:
    options = build_parser(TITLE).parse_args()
    logging.basicConfig(level=logging.WARNING)
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))

        def create(runtime: Runtime) -> None:
            for name, settings in CONNECTIONS.items():
                runtime.store.create_outconn(OutconnConfig(name=name, host=server.url, url_path='/customers/{cust_id}',
                                                           **settings))

        runtime = stack.enter_context(fresh_runtime(folder, create))
        cid = new_cid()
        clients = []
        for name in CONNECTIONS:
            conn = runtime.outgoing.plain_http[name].conn
            assert conn.get(cid, PARAMS).status_code == 200
            clients.append(Client(name, caller(conn, cid)))
        timings = measure(clients, calls=options.calls, round_size=options.round_size, warmup=options.warmup)
    targets = [Target('all policies', 'no policies', GOAL, GOAL, strict=True)]
    report(TITLE, timings, targets, as_json=options.json,
           details={'goal': f'all policies / no policies < {GOAL} (under 5% extra)'})


if __name__ == '__main__':
    main()
