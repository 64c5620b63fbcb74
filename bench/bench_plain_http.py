"""How long one plain HTTP GET takes through zato-outconn, next to bare requests and bare urllib3.

Run from the project folder:

    python bench/bench_plain_http.py                  # 5000 calls per client, a table
    python bench/bench_plain_http.py --calls 20000 --json

It starts a local keep-alive HTTP server in a child process (see ``harness.LocalServer``) and times
the same request made three ways, in interleaved rounds:

- ``zato-outconn``: ``conn.get(cid, {'cust_id': 1, 'type_id': 2})`` on a plain_http connection
  created the way a user would (SQLite database, basic_auth security definition, the url_path
  ``/customers/{cust_id}`` and all X-Zato headers on): the placeholder is filled, the rest becomes
  the query string, and the request carries the auth and X-Zato headers;
- ``requests``: ``requests.Session().get(url)`` on the resulting URL, one session for all calls;
- ``urllib3``: ``urllib3.HTTPConnectionPool.request('GET', ...)`` on the same URL.

It prints the median time per call of each, the ratios of zato-outconn to the other two, and
whether the target (zato-outconn / requests at most 1.0, aiming at 0.8) is met. Timings are not
asserted: the exit status is 0 unless something fails.
"""

from __future__ import annotations

import logging
import platform
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

from zato_outconn import OutconnConfig, Runtime, SecurityConfig
from zato_outconn.conn.http import HTTPConnection
from zato_outconn.runtime.context import new_cid

from harness import Client, LocalServer, Reply, Target, Timing, build_parser, fresh_runtime, measure, report

TITLE = 'plain HTTP GET: zato-outconn vs requests vs urllib3'
CONNECTION = 'Bench CRM Customer Profile'
SECURITY = 'Bench CRM Basic Auth'
URL_PATH = '/customers/{cust_id}'
PARAMS = {'cust_id': 1, 'type_id': 2}
# The URL the template and the params above make, which the peers call directly.
PATH_AND_QUERY = '/customers/1?type_id=2'
REPLY = Reply(b'{"cust_id":1,"type_id":2,"name":"Jane Doe","active":true}')
TARGET = Target(subject='zato-outconn', peer='requests', limit=1.0, aim=0.8)


@dataclass(frozen=True)
class Contenders:
    """The three ways of making the call, ready to call the server."""

    zato: HTTPConnection
    session: requests.Session
    pool: urllib3.HTTPConnectionPool
    url: str

    def clients(self) -> list[Client]:
        cid, zato, session, pool, url = new_cid(), self.zato, self.session, self.pool, self.url
        return [
            Client('zato-outconn', lambda: zato.get(cid, PARAMS)),
            Client('requests', lambda: session.get(url)),
            Client('urllib3', lambda: pool.request('GET', PATH_AND_QUERY)),
        ]


def main() -> None:
    options = build_parser(TITLE).parse_args()
    logging.basicConfig(level=logging.WARNING)
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        contenders = stack.enter_context(open_contenders(server, folder))
        check(contenders)
        timings = measure(contenders.clients(), calls=options.calls, round_size=options.round_size,
                          warmup=options.warmup)
    details = _details(contenders.url, timings, options.round_size)
    report(TITLE, timings, TARGET, as_json=options.json, details=details)


@contextmanager
def open_contenders(server: LocalServer, folder: Path) -> Iterator[Contenders]:
    """The three clients, pointed at ``server``; all of them are closed on the way out."""
    with ExitStack() as stack:
        runtime = stack.enter_context(create_runtime(folder, server.url))
        session = stack.enter_context(requests.Session())
        pool = stack.enter_context(urllib3.HTTPConnectionPool('127.0.0.1', server.port))
        conn = runtime.outgoing.plain_http[CONNECTION].conn
        yield Contenders(conn, session, pool, server.url + PATH_AND_QUERY)


def create_runtime(folder: Path, host: str) -> Runtime:
    """A runtime on a new SQLite database holding the benchmark's connection and its security."""

    def create(runtime: Runtime) -> None:
        runtime.store.create_security(SecurityConfig(name=SECURITY, sec_type='basic_auth', username='bench',
                                                     secret='bench-password'))
        runtime.store.create_outconn(OutconnConfig(name=CONNECTION, host=host, url_path=URL_PATH,
                                                   security=SECURITY))

    return fresh_runtime(folder, create)


def check(contenders: Contenders) -> None:
    """Fail before timing anything unless all three clients get the same answer from the same URL."""
    cid = new_cid()
    zato_response = contenders.zato.get(cid, PARAMS)
    peer_response = contenders.session.get(contenders.url)
    pool_response = contenders.pool.request('GET', PATH_AND_QUERY)
    if {zato_response.status_code, peer_response.status_code, pool_response.status} != {200}:
        raise RuntimeError('The benchmark server did not answer 200 to every client')
    if not zato_response.content == peer_response.content == pool_response.data == REPLY.body:
        raise RuntimeError('The clients did not all read the whole reply')
    if zato_response.url != contenders.url or peer_response.url != contenders.url:
        raise RuntimeError(f'zato-outconn called {zato_response.url}, requests {peer_response.url}; '
                           f'both should call {contenders.url}')
    sent = zato_response.request.headers
    expected = ('Authorization', 'X-Zato-CID', 'X-Zato-Component', 'X-Zato-Msg-TS')
    missing = [name for name in expected if name not in sent]
    if missing or sent['X-Zato-CID'] != cid:
        raise RuntimeError(f'zato-outconn did not send the headers the benchmark is about: {missing}')


def _details(url: str, timings: list[Timing], round_size: int) -> dict[str, object]:
    return {'url': url, 'calls_per_client': timings[0].calls, 'round_size': round_size,
            'python': platform.python_version(), 'requests': requests.__version__,
            'urllib3': urllib3.__version__}


if __name__ == '__main__':
    main()
