"""How long one plain HTTP GET takes through zato-outconn, next to every peer, in one run.

Run from the project folder:

    python3 bench/bench_plain_http.py                  # 5000 calls per client, a table
    python3 bench/bench_plain_http.py --calls 20000 --json

It starts a local keep-alive HTTP server in a child process (see ``harness.LocalServer``) and times
the same request made six ways, in interleaved rounds:

- ``zato-outconn``: ``conn.get(cid, {'cust_id': 1, 'type_id': 2})`` on a plain_http connection
  created the way a user would (SQLite database, basic_auth security definition, the url_path
  ``/customers/{cust_id}`` and all X-Zato headers on);
- ``requests (trust_env on)``: a bare ``requests.Session().get`` of the resulting URL, and
  ``requests (trust_env off)``, the same with the environment ignored;
- ``httpx``: ``httpx.Client.get`` (skipped, with a line saying so, when httpx is not installed);
- ``urllib3``: ``urllib3.HTTPConnectionPool.request('GET', ...)``;
- ``raw socket``: the request written by hand on one keep-alive socket, the floor.

Every peer sends the headers the product sends (see ``peers``); a self-check at the start
captures what a server receives from each and refuses to go on if they differ. It prints the
median time per call of each (wall, and the client's CPU), the ratios of zato-outconn to the others,
and whether the goals of issue 13 are met. Timings are not asserted: the exit status is 0 unless something fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests
import urllib3
from peers import HTTPX_MISSING, PASSWORD, USERNAME, CallHeaders, CaptureServer, check_same_headers, httpx, open_peers

from zato_outconn import OutconnConfig, Runtime, SecurityConfig
from zato_outconn.conn.http import HTTPConnection
from zato_outconn.runtime.context import new_cid

from harness import Client, LocalServer, Reply, Target, Timing, build_parser, fresh_runtime, measure, report

TITLE = 'plain HTTP GET: zato-outconn vs requests, httpx, urllib3 and a raw socket'
PRODUCT = 'zato-outconn'
CONNECTION = 'Bench CRM Customer Profile'
CAPTURED = 'Bench CRM Customer Profile, captured'
SECURITY = 'Bench CRM Basic Auth'
URL_PATH = '/customers/{cust_id}'
PARAMS = {'cust_id': 1, 'type_id': 2}
# The URL the template and the params above make, which the peers call directly.
PATH_AND_QUERY = '/customers/1?type_id=2'
REPLY = Reply(b'{"cust_id":1,"type_id":2,"name":"Jane Doe","active":true}')
# Issue 13's goals: the product's median over each peer's.
GOALS = {'requests (trust_env on)': 0.45, 'urllib3': 1.25, 'httpx': 0.6}


def main() -> None:
    options = build_parser(TITLE).parse_args()
    logging.basicConfig(level=logging.WARNING)
    if httpx is None:
        print(HTTPX_MISSING)
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        capture = stack.enter_context(CaptureServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        runtime = stack.enter_context(create_runtime(folder, {CONNECTION: server.url, CAPTURED: capture.url}))
        cid = new_cid()
        conn = runtime.outgoing.plain_http[CONNECTION].conn
        headers = CallHeaders(cid, conn._component.current())

        # The self-check: what the capture server receives from the product and from each peer.
        captured = runtime.outgoing.plain_http[CAPTURED].conn
        with open_peers(capture.url, PATH_AND_QUERY, headers) as check_peers:
            names = check_same_headers(capture, {PRODUCT: lambda: captured.get(cid, PARAMS),
                                                 **check_peers.calls()}, PRODUCT)

        peers = stack.enter_context(open_peers(server.url, PATH_AND_QUERY, headers))
        clients = [Client(PRODUCT, lambda: conn.get(cid, PARAMS)), *peers.clients()]
        check(conn, cid, peers.calls(), server.url + PATH_AND_QUERY)
        # CPU time too: on a machine shared with other work it moves less than wall time does.
        timings = measure(clients, calls=options.calls, round_size=options.round_size, warmup=options.warmup,
                          cpu=True)
    targets = [Target(subject=PRODUCT, peer=peer, limit=goal, aim=goal)
               for peer, goal in GOALS.items() if any(timing.name == peer for timing in timings)]
    report(TITLE, timings, targets, as_json=options.json, details=_details(server.url, timings, options, names))


@contextmanager
def create_runtime(folder: Path, hosts: dict[str, str]) -> Iterator[Runtime]:
    """A runtime on a new SQLite database holding a connection to each host, all with one basic_auth."""

    def create(runtime: Runtime) -> None:
        runtime.store.create_security(SecurityConfig(name=SECURITY, sec_type='basic_auth', username=USERNAME,
                                                     secret=PASSWORD))
        for name, host in hosts.items():
            runtime.store.create_outconn(OutconnConfig(name=name, host=host, url_path=URL_PATH, security=SECURITY))

    with fresh_runtime(folder, create) as runtime:
        yield runtime


def check(conn: HTTPConnection, cid: str, peers: Mapping[str, Callable[[], bytes]], url: str) -> None:
    """Fail before timing anything unless every client gets the whole reply from the same URL."""
    response = conn.get(cid, PARAMS)
    if response.status_code != 200 or response.content != REPLY.body or response.url != url:
        raise RuntimeError(f'zato-outconn called {response.url} and got {response.status_code}; it should call {url}')
    for name, call in peers.items():
        if call() != REPLY.body:
            raise RuntimeError(f'{name} did not read the whole reply')


def _details(url: str, timings: list[Timing], options: argparse.Namespace, headers: list[str]) -> dict[str, object]:
    return {'url': url, 'calls_per_client': timings[0].calls, 'round_size': options.round_size,
            'headers_sent_by_all': ', '.join(headers), 'python': platform.python_version(),
            'requests': requests.__version__, 'urllib3': urllib3.__version__,
            'httpx': httpx.__version__ if httpx is not None else 'not installed',
            'direct_send': os.environ.get('ZATO_OUTCONN_DIRECT_SEND', '1')}


if __name__ == '__main__':
    main()
