"""How long a change takes to reach a running process, on PostgreSQL and SQLite.

Usage::

    python3 bench/bench_sync.py                 # --edits N, --interval S, --pg URL, --json

One process runs a ``Runtime`` that follows the database; a second ``Store``, with its own engine and
no subscriber, edits a connection, as another process would. After each edit commits, the time until
the runtime's registry holds the new version is taken: p50 and p99 over the edits, printed beside the
poll interval. Goals: p99 under 100 ms on PostgreSQL (pushed by LISTEN/NOTIFY), and under one
interval plus 100 ms on SQLite (polled).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from zato_outconn import OutconnConfig, Runtime, Store
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade
from zato_outconn.store.secret_box import KEYS_ENV

PG_DEFAULT = 'postgresql+psycopg://postgres@127.0.0.1:5432/test'
NAME = 'Bench Sync'


@contextmanager
def database(kind: str, pg_admin: str) -> Iterator[str]:
    """A new database of this kind with the schema at head, removed afterwards."""
    if kind == 'sqlite':
        with tempfile.TemporaryDirectory(prefix='zato-outconn-bench-') as folder:
            url = f'sqlite:///{Path(folder) / "bench.db"}'
            _upgrade(url)
            yield url
        return
    name = f'zato_outconn_bench_{uuid.uuid4().hex[:12]}'
    admin = create_engine(pg_admin, isolation_level='AUTOCOMMIT')
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE {name}'))
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        _upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        admin.dispose()


def _upgrade(url: str) -> None:
    engine = create_db_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def latencies(url: str, edits: int, interval: float) -> list[float]:
    """Seconds from each edit's commit until the following runtime holds it."""
    editor = Store(url)
    editor.create_outconn(OutconnConfig(name=NAME, host='http://127.0.0.1:9'))
    seen: list[float] = []
    try:
        with Runtime(url, poll_interval=interval) as runtime:
            registry = runtime.outgoing.plain_http
            for number in range(edits):
                version = editor.edit_outconn('plain_http', NAME, {'read_timeout': 1 + number % 50}).version
                committed = time.perf_counter()
                deadline = committed + 10 * interval + 5
                while registry[NAME].version != version:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f'edit {number} did not arrive within {deadline - committed:.1f} s')
                    time.sleep(0.0005)
                seen.append(time.perf_counter() - committed)
    finally:
        editor.close()
    return seen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--edits', type=int, default=200, help='Edits per database (default 200).')
    parser.add_argument('--interval', type=float, default=1.0, help='Poll interval in seconds (default 1).')
    parser.add_argument('--pg', default=os.environ.get('ZATO_OUTCONN_TEST_PG', PG_DEFAULT),
                        help='Admin URL of a PostgreSQL server to create a database on.')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    os.environ.setdefault(KEYS_ENV, Fernet.generate_key().decode())

    goals = {'postgresql': 0.1, 'sqlite': options.interval + 0.1}
    results = {}
    for kind in ('postgresql', 'sqlite'):
        with database(kind, options.pg) as url:
            values = latencies(url, options.edits, options.interval)
        results[kind] = {'edits': len(values), 'interval_s': options.interval,
                         'p50_ms': round(percentile(values, 0.5) * 1000, 1),
                         'p99_ms': round(percentile(values, 0.99) * 1000, 1),
                         'max_ms': round(max(values) * 1000, 1), 'mean_ms': round(statistics.mean(values) * 1000, 1),
                         'goal_p99_ms': round(goals[kind] * 1000, 1)}
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print('change propagation: edit committed -> the following runtime holds it')
    print(f'{"database":<12}{"edits":>7}{"interval s":>12}{"p50 ms":>9}{"p99 ms":>9}{"max ms":>9}{"goal p99":>10}')
    for kind, figures in results.items():
        met = 'met' if figures['p99_ms'] <= figures['goal_p99_ms'] else 'MISSED'
        print(f'{kind:<12}{figures["edits"]:>7}{figures["interval_s"]:>12}{figures["p50_ms"]:>9}'
              f'{figures["p99_ms"]:>9}{figures["max_ms"]:>9}{figures["goal_p99_ms"]:>10}  {met}')


if __name__ == '__main__':
    main()
