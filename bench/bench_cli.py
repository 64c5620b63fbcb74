"""How long the command line takes: ``zato-outconn --help``, and ``outconn list`` of 1000 templates.

Usage::

    python3 bench/bench_cli.py                  # --templates N, --runs N, --json

Each command runs as a whole process, as people run it (the console script installed beside this
interpreter), in interleaved rounds with its peers: the interpreter alone (``python3 -c pass``) and
the interpreter importing click, the floor of any click program, importing SQLAlchemy (its Core, the
floor of the list, which reads plain rows) and importing SQLAlchemy's ORM, the floor of any command
that opens the store (its tables are ORM models). The median wall time of each
is shown, and each one's ratio to the click floor. The list runs on an SQLite file of its own
holding N templates, each with a basic_auth definition. Goals: --help at most 0.3 s, the list of
1000 at most 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import document
from bench_sync import database
from cryptography.fernet import Fernet

from zato_outconn import Store
from zato_outconn.store.engine import DB_ENV
from zato_outconn.store.secret_box import KEYS_ENV

GOALS = {'--help': 0.3, 'outconn list': 0.5}


def console_script() -> str:
    beside = Path(sys.executable).parent / 'zato-outconn'
    found = str(beside) if beside.is_file() else shutil.which('zato-outconn')
    if not found:
        raise SystemExit('zato-outconn is not installed; run: pip install -e .')
    return found


def wall_times(commands: dict[str, list[str]], runs: int, env: dict[str, str], cwd: str) -> dict[str, list[float]]:
    """Seconds of each run of each command, the commands taking turns, in an order rotating each round."""
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(runs + 1):
        for name in names[number % len(names):] + names[:number % len(names)]:
            start = time.perf_counter()
            subprocess.run(commands[name], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True, timeout=60)
            if number:  # the first round warms the file cache and is not counted
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--templates', type=int, default=1000, help='Templates the list shows (default 1000).')
    parser.add_argument('--runs', type=int, default=11, help='Counted runs of each command (default 11).')
    parser.add_argument('--json', action='store_true', help='Print the figures as JSON.')
    options = parser.parse_args()
    key = os.environ.get(KEYS_ENV) or Fernet.generate_key().decode()
    os.environ[KEYS_ENV] = key
    script = console_script()

    with database('sqlite', '') as url, tempfile.TemporaryDirectory(prefix='zato-outconn-cli-') as folder:
        store = Store(url)
        try:
            store.import_document(document(options.templates))
        finally:
            store.close()
        env = {**os.environ, DB_ENV: url, KEYS_ENV: key}
        commands = {'python -c pass': [sys.executable, '-c', 'pass'],
                    'python -c "import click"': [sys.executable, '-c', 'import click'],
                    'python -c "import sqlalchemy"': [sys.executable, '-c', 'import sqlalchemy'],
                    'python -c "import sqlalchemy.orm"': [sys.executable, '-c', 'import sqlalchemy.orm'],
                    '--help': [script, '--help'],
                    'outconn list': [script, 'outconn', 'list']}
        times = wall_times(commands, options.runs, env, folder)

    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians['python -c "import click"']
    results = {name: {'median_s': round(median, 3), 'min_s': round(min(times[name]), 3),
                      'max_s': round(max(times[name]), 3), 'vs_click_floor': round(median / floor, 2),
                      **({'goal_s': GOALS[name]} if name in GOALS else {})}
               for name, median in medians.items()}
    if options.json:
        print(json.dumps({'templates': options.templates, 'runs': options.runs, 'commands': results}, indent=2))
        return
    print(f'whole commands, {options.runs} runs each; outconn list of {options.templates} templates (SQLite)')
    print(f'{"command":<36}{"median s":>9}{"min s":>8}{"max s":>8}{"/ click":>9}{"goal s":>8}')
    for name, figures in results.items():
        goal = figures.get('goal_s')
        verdict = '' if goal is None else '  met' if figures['median_s'] <= goal else '  MISSED'
        print(f'{name:<36}{figures["median_s"]:>9}{figures["min_s"]:>8}{figures["max_s"]:>8}'
              f'{figures["vs_click_floor"]:>9}{goal if goal is not None else "":>8}{verdict}')


if __name__ == '__main__':
    main()
