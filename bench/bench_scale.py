"""Ten thousand templates: creating them through the import path, and starting a Runtime on them.

Usage::

    python3 bench/bench_scale.py                # --templates N, --starts N, --pg URL, --json

On a new PostgreSQL database and a new SQLite file, one document of N basic_auth definitions (each
with its password) and N connections, each using its own definition, is imported through
``Store.import_document``, as ``zato-outconn import`` does. Beside it, as the floor in the same run,
the same rows go in with one bare SQLAlchemy executemany per table (no checks, no encryption, no
history). Then a ``Runtime`` (sync off, so that the figure is the load alone) is started on them
several times, beside the floor of one bare SELECT of the same rows; the median is shown, and the
memory the loaded registry holds per template (tracemalloc, in a start of its own).
Goals: import at most 10 s; start at most 0.5 s on SQLite and 0.6 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import tracemalloc
from typing import Any

from bench_sync import PG_DEFAULT, database
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from zato_outconn import OutconnConfig, Runtime, Store
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition, utc_now
from zato_outconn.store.outconns import outconn_columns
from zato_outconn.store.secret_box import KEYS_ENV
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

GOAL_IMPORT_S = 10.0
GOAL_START_S = {'sqlite': 0.5, 'postgresql': 0.6}


def document(count: int) -> dict[str, Any]:
    """N definitions and N connections, each connection with a definition and a path of its own."""
    security = [{'name': f'creds-{n}', 'sec_type': 'basic_auth', 'username': f'user{n}', 'secret': f'pw-{n}'}
                for n in range(count)]
    outconns = [{'name': f'Conn {n}', 'host': f'http://10.0.{n // 250}.{n % 250 + 1}:8080',
                 'url_path': f'/api/v1/tenants/{n}/customers/{{cust_id}}', 'security': f'creds-{n}'}
                for n in range(count)]
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': security, 'outconns': outconns}


def timed_import(url: str, count: int) -> float:
    store = Store(url)
    try:
        content = document(count)
        start = time.perf_counter()
        store.import_document(content)
        return time.perf_counter() - start
    finally:
        store.close()


def bare_insert(url: str, count: int) -> float:
    """The same rows through one executemany per table, nothing checked, encrypted or recorded: the floor."""
    store = Store(url)
    try:
        now, content = utc_now(), document(count)
        common = {'version': 1, 'created_at': now, 'updated_at': now}
        start = time.perf_counter()
        with store.engine.begin() as connection:
            connection.execute(insert(SecurityDefinition), [
                {**item, 'name': f'bare-{item["name"]}', **common} for item in content['security']])
            ids = dict(connection.execute(select(SecurityDefinition.name, SecurityDefinition.id)).all())
            # Every other column as the config model's defaults make it, as the store would write it.
            defaults = outconn_columns(OutconnConfig(name='defaults', host='http://127.0.0.1'))
            connection.execute(insert(OutgoingConnection), [
                {**defaults, 'name': f'bare-{item["name"]}', 'host': item['host'], 'url_path': item['url_path'],
                 'security_id': ids[f'bare-{item["security"]}'], **common} for item in content['outconns']])
        return time.perf_counter() - start
    finally:
        store.close()


def start_times(url: str, starts: int) -> tuple[list[float], list[float], int]:
    """Seconds of each Runtime start and of each bare SELECT of the same rows, interleaved; the count loaded."""
    runtime_s, select_s, loaded = [], [], 0
    tables = SecurityDefinition.__table__.outerjoin(
        OutgoingConnection.__table__, OutgoingConnection.security_id == SecurityDefinition.id)
    for _ in range(starts):
        start = time.perf_counter()
        runtime = Runtime(url, sync=False)
        runtime_s.append(time.perf_counter() - start)
        loaded = len(runtime.outgoing.plain_http)
        runtime.close()
        store = Store(url)
        try:
            start = time.perf_counter()
            with store.engine.connect() as connection:
                connection.execute(select(tables)).all()
            select_s.append(time.perf_counter() - start)
        finally:
            store.close()
    return runtime_s, select_s, loaded


def memory_per_template(url: str) -> tuple[float, float]:
    """Bytes the loaded registry holds per template, and per template once each has made its connection."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        runtime = Runtime(url, sync=False)
        count = len(runtime.outgoing.plain_http)
        loaded = tracemalloc.get_traced_memory()[0] - before
        for name in runtime.outgoing.plain_http:
            _ = runtime.outgoing.plain_http[name].conn.auth
        used = tracemalloc.get_traced_memory()[0] - before
        runtime.close()
    finally:
        tracemalloc.stop()
    return loaded / count, used / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--templates', type=int, default=10_000, help='Templates to create (default 10000).')
    parser.add_argument('--starts', type=int, default=5, help='Runtime starts to time per database (default 5).')
    parser.add_argument('--pg', default=os.environ.get('ZATO_OUTCONN_TEST_PG', PG_DEFAULT),
                        help='Admin URL of a PostgreSQL server to create a database on.')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    os.environ.setdefault(KEYS_ENV, Fernet.generate_key().decode())

    results: dict[str, dict[str, Any]] = {}
    for kind in ('sqlite', 'postgresql'):
        with database(kind, options.pg) as url:
            imported = timed_import(url, options.templates)
            floor = bare_insert(url, options.templates)
            with database(kind, options.pg) as start_url:
                timed_import(start_url, options.templates)
                runtime_s, select_s, loaded = start_times(start_url, options.starts)
                per_template, per_called = memory_per_template(start_url)
        start, bare = statistics.median(runtime_s), statistics.median(select_s)
        results[kind] = {'templates': loaded, 'import_s': round(imported, 3), 'bare_insert_s': round(floor, 3),
                         'import_vs_bare': round(imported / floor, 2), 'start_s': round(start, 3),
                         'start_max_s': round(max(runtime_s), 3), 'bare_select_s': round(bare, 3),
                         'start_vs_bare': round(start / bare, 2), 'kib_per_template': round(per_template / 1024, 2),
                         'kib_per_template_called': round(per_called / 1024, 2),
                         'goal_import_s': GOAL_IMPORT_S, 'goal_start_s': GOAL_START_S[kind]}
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(f'{options.templates} templates, each with a basic_auth definition of its own')
    print(f'{"database":<12}{"import s":>10}{"bare s":>8}{"ratio":>7}{"goal":>6}   '
          f'{"start s":>8}{"bare s":>8}{"ratio":>7}{"goal":>6}   {"KiB/template":>13}{"called":>8}')
    for kind, figures in results.items():
        import_verdict = 'met' if figures['import_s'] <= figures['goal_import_s'] else 'MISSED'
        start_verdict = 'met' if figures['start_s'] <= figures['goal_start_s'] else 'MISSED'
        print(f'{kind:<12}{figures["import_s"]:>10}{figures["bare_insert_s"]:>8}{figures["import_vs_bare"]:>7}'
              f'{figures["goal_import_s"]:>6} {import_verdict:<3}{figures["start_s"]:>8}{figures["bare_select_s"]:>8}'
              f'{figures["start_vs_bare"]:>7}{figures["goal_start_s"]:>6} {start_verdict:<3}'
              f'{figures["kib_per_template"]:>12}{figures["kib_per_template_called"]:>9}')


if __name__ == '__main__':
    main()
