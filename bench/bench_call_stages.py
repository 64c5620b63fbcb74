"""Where a ``conn.get`` spends its own time: each layer of the call timed without the network.

Usage::

    python3 bench/bench_call_stages.py            # --calls N, --repeat N, --json

The connection of ``bench_plain_http`` (basic auth, every X-Zato header, a path template) is
opened on a local server, then its pool's ``send_direct`` is replaced with one that hands back a canned
urllib3 answer at once: what is left is the product's own work, CPU only, which the noise of a
busy machine moves little (the best of ``--repeat`` interleaved rounds of ``--calls`` calls is kept). Each layer
is timed from its entry point, and its own share is its time less the next one's:

- ``conn.request`` (conn/http.py): keyword checks, the path template, the URL;
- ``dispatch`` and ``_attempt`` (conn/http.py): the pipeline, its lock, span, metrics, log line;
- ``prepare`` (conn/prepare.py): headers, timestamp, body, cookies, security;
- ``send`` (wire/send.py): the deadline, the length check, the prefetched body;
- ``DirectRoute.send`` (wire/direct.py): the pool's arguments and the requests Response;
  each of these three times its own preparation of a new request, as a call does;
- the canned answer alone, which urllib3 would make anyway.

What urllib3 does inside ``send_direct`` (and this package's pool on top of it, ``wire.pool``) is not
in these figures: ``bench_plain_http`` compares the whole call with a bare urllib3 pool.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import timeit
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_plain_http import CONNECTION, PARAMS, PATH_AND_QUERY, REPLY, create_runtime
from urllib3.response import HTTPResponse

from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.runtime.context import new_cid
from zato_outconn.wire.send import send

from harness import LocalServer


def best_us(timings: dict[str, Callable[[], object]], calls: int, repeat: int) -> dict[str, float]:
    """The best microseconds per call of each, over ``repeat`` rounds in which each takes its turn,
    so that a busy spell of the machine falls on all of them rather than on one."""
    best = dict.fromkeys(timings, float('inf'))
    for call in timings.values():
        call()
    for _ in range(repeat):
        for name, call in timings.items():
            best[name] = min(best[name], timeit.timeit(call, number=calls) / calls * 1e6)
    return best


def stages(calls: int, repeat: int) -> dict[str, float]:
    with ExitStack() as stack:
        server = stack.enter_context(LocalServer(REPLY))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        runtime = stack.enter_context(create_runtime(folder, {CONNECTION: server.url}))
        conn = runtime.outgoing.plain_http[CONNECTION].conn
        cid = new_cid()
        conn.get(cid, PARAMS)  # opens the session and its direct route
        opened = conn._opened
        assert opened is not None and opened.route is not None, 'the direct route is off (ZATO_OUTCONN_DIRECT_SEND)'
        route = opened.route
        headers = {'Content-Type': REPLY.content_type, 'Content-Length': str(len(REPLY.body))}

        def canned(*_args: Any, **_kwargs: Any) -> HTTPResponse:
            return HTTPResponse(body=io.BytesIO(REPLY.body), headers=headers, status=200, reason='OK',
                                preload_content=False, decode_content=False)

        route.pool.send_direct = canned  # type: ignore[method-assign]
        url = server.url + PATH_AND_QUERY
        call = conn._call('GET', url, cid)

        def request() -> OutgoingRequest:
            return OutgoingRequest('GET', url, cid, None, None, False, {})

        def prepare() -> Any:
            return conn._preparer.prepare(request(), call, conn._plan.auth)

        timeout = opened.settings['timeout']
        timings = {
            'conn.get': lambda: conn.get(cid, PARAMS),
            'dispatch': lambda: conn.dispatch(request()),
            'prepare + send': lambda: send(opened.session, prepare(), call, False, opened.settings, conn._limits,
                                           route),
            'prepare + DirectRoute.send': lambda: route.send(prepare(), timeout).raw.read(),
            'prepare + canned answer': lambda: (prepare(), canned().read()),
            'canned answer': lambda: canned().read(),
        }
        return best_us(timings, calls, repeat)


def shares(figures: dict[str, float]) -> dict[str, float]:
    """Each layer's own microseconds: its time less that of the layer it calls."""
    return {
        'conn.request (conn/http.py)': figures['conn.get'] - figures['dispatch'],
        'dispatch, _attempt (conn/http.py)': figures['dispatch'] - figures['prepare + send'],
        'prepare (conn/prepare.py)': figures['prepare + canned answer'] - figures['canned answer'],
        'send (wire/send.py)': figures['prepare + send'] - figures['prepare + DirectRoute.send'],
        'DirectRoute.send (wire/direct.py)': figures['prepare + DirectRoute.send'] - figures['prepare + canned answer'],
        'canned urllib3 answer': figures['canned answer'],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--calls', type=int, default=2000, help='Calls of each per round (default 2000).')
    parser.add_argument('--repeat', type=int, default=30, help='Rounds, the best of each kept (default 30).')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    figures = stages(options.calls, options.repeat)
    own = shares(figures)
    if options.json:
        print(json.dumps({'layers_us': figures, 'own_us': own}, indent=2))
        return
    print(f'the product\'s own time per conn.get, without the network (best of {options.repeat} rounds of '
          f'{options.calls} calls)')
    for name, value in own.items():
        print(f'  {name:<36} {value:6.1f} us')
    print(f'  {"all but urllib3":<36} {figures["conn.get"] - figures["canned answer"]:6.1f} us')


if __name__ == '__main__':
    main()
