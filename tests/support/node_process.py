"""A separate process running a Runtime that follows a database, driven line by line from stdin.

Run as ``python -m tests.support.node_process DB_URL INTERVAL``. Each line in is a JSON command,
each line out its JSON answer:

- ``{"get": NAME}``: what the registry has for that plain_http name (host, is_active) and the
  change the process has applied;
- ``{"call": NAME}``: one GET through the connection, with the status or the error;
- ``{"burst": NAME, "count": N}``: N calls at once from N threads, and how many succeeded;
- ``{"ticks": SECONDS}``: the longest a thread sleeping 10 ms at a time waited for its turn, which
  under gevent tells whether anything (the follower) blocked the hub.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zato_outconn import CallError, Runtime


def longest_gap(seconds: float) -> float:
    gaps: list[float] = []

    def tick() -> None:
        end = time.monotonic() + seconds
        last = time.monotonic()
        while last < end:
            time.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    ticker.join()
    return max(gaps)


def answer(runtime: Runtime, command: dict[str, Any]) -> dict[str, Any]:
    assert runtime.follower is not None
    applied = runtime.follower.applied
    if 'ticks' in command:
        return {'applied': applied, 'longest_gap': longest_gap(float(command['ticks']))}
    name = command.get('get') or command.get('call') or command.get('burst')
    item = runtime.outgoing.plain_http.get(str(name))
    if 'get' in command:
        return {'applied': applied, 'host': item.config.host if item else None,
                'active': item.config.is_active if item else None}
    if item is None:
        return {'applied': applied, 'error': 'missing'}
    if 'call' in command:
        try:
            response = item.conn.get('cid-node')
        except CallError as error:
            return {'applied': applied, 'error': type(error).__name__}
        return {'applied': applied, 'status': response.status_code, 'json': response.json()}

    def one(_: int) -> bool:
        # Looked up for each call, as service code does: the edit may swap the item meanwhile.
        return runtime.outgoing.plain_http[str(name)].conn.get('cid-burst').status_code == 200

    with ThreadPoolExecutor(max_workers=int(command['count'])) as pool:
        results = list(pool.map(one, range(int(command['count']))))
    return {'applied': applied, 'ok': sum(results), 'count': len(results)}


def main() -> None:
    db_url, interval = sys.argv[1], float(sys.argv[2])
    with Runtime(db_url, poll_interval=interval) as runtime:
        print(json.dumps({'ready': True, 'pid': __import__('os').getpid()}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            if command.get('quit'):
                break
            try:
                print(json.dumps(answer(runtime, command)), flush=True)
            except Exception as error:  # noqa: BLE001 - handed back to the test to see
                print(json.dumps({'exception': f'{type(error).__name__}: {error}'}), flush=True)


if __name__ == '__main__':
    main()
