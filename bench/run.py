"""Every row of issue 13's table in one run: each benchmark in turn, then one table of figures and goals.

Usage::

    python3 bench/run.py                # every benchmark at its default size (some minutes)
    python3 bench/run.py --quick        # smaller runs, for a look
    python3 bench/run.py --json         # the figures of every benchmark, for scripts

Each benchmark runs as its own process (``bench_plain_http.py``, ``bench_concurrency.py``,
``bench_scale.py``, ``bench_sockets.py``, ``bench_cli.py``, each with ``--json``), so that none
inherits another's imports, threads or sockets, and each measures its subject beside its peers in
the same run. The table shows the figure of each row, what it is measured against, and its goal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# Each benchmark and its arguments, full and --quick.
RUNS: dict[str, tuple[list[str], list[str]]] = {
    'bench_plain_http': ([], ['--calls', '2000']),
    'bench_concurrency': ([], ['--calls', '4000', '--rounds', '3']),
    'bench_scale': ([], ['--starts', '3']),
    'bench_sockets': ([], []),
    'bench_cli': ([], ['--runs', '5']),
}


def run(name: str, quick: bool) -> Any:
    full, short = RUNS[name]
    command = [sys.executable, str(HERE / f'{name}.py'), *(short if quick else full), '--json']
    print(f'running {name}...', file=sys.stderr, flush=True)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False, cwd=HERE.parent)
    if completed.returncode:
        raise SystemExit(f'{name} failed:\n{completed.stderr}')
    # A benchmark may print a line of its own first (httpx missing, say): the JSON is what follows.
    lines = completed.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith('{'))
    for line in lines[:start]:
        print(f'{name}: {line}', file=sys.stderr)
    return json.loads('\n'.join(lines[start:]))


Row = tuple[str, str, str, str]


def _call_rows(figures: dict[str, Any]) -> list[Row]:
    ratios = figures['ratios']
    goals = {target['peer']: target['limit'] for target in figures['targets']}
    rows = []
    for peer in ('requests (trust_env on)', 'requests (trust_env off)', 'httpx', 'urllib3', 'raw socket'):
        key = f'zato-outconn / {peer}'
        if key not in ratios:
            rows.append((f'``conn.get`` / {peer}', 'skipped (not installed)', '', ''))
            continue
        goal = f'<= {goals[peer]:g}' if peer in goals else ''
        cpu = figures.get('cpu_ratios', {}).get(key)
        beside = 'ratio of medians' + (f'; of CPU per call {cpu:.2f}' if cpu is not None else '')
        rows.append((f'``conn.get`` / {peer}', f'{ratios[key]:.2f}', beside, goal))
    medians = {client['name']: client['median_us'] for client in figures['clients']}
    rows.append(('``conn.get`` median', f'{medians["zato-outconn"]:.0f} us',
                 f'urllib3 {medians["urllib3"]:.0f} us, raw socket {medians["raw socket"]:.0f} us', ''))
    return rows


def _concurrency_rows(figures: dict[str, Any]) -> list[Row]:
    threads, greenlets = figures['threads'], figures['greenlets']
    calls = threads['calls_per_s']
    walls = greenlets['wall_vs_ideal']
    return [
        (f'{threads["threads"]} threads, calls/s, ``conn.get`` / urllib3', f'{threads["ratio"]:.2f}',
         f'{calls["zato-outconn"]} vs {calls["urllib3"]} calls/s', f'>= {threads["goal"]:g}'),
        (f'{greenlets["greenlets"]} greenlets x {greenlets["calls_each"]} calls, 50 ms server, wall / ideal',
         f'{walls["zato-outconn"]:.2f}', f'urllib3 under gevent {walls["urllib3"]:.2f}', f'<= {greenlets["goal"]:g}'),
    ]


def _scale_rows(figures: dict[str, Any]) -> list[Row]:
    rows = []
    for kind in ('sqlite', 'postgresql'):
        item = figures[kind]
        rows.append((f'``Runtime`` start, {item["templates"]} templates, {kind}', f'{item["start_s"]} s',
                     f'bare SELECT {item["bare_select_s"]} s', f'<= {item["goal_start_s"]} s'))
        rows.append((f'memory per template, {kind}', f'{item["kib_per_template"]} KiB',
                     f'{item["kib_per_template_called"]} KiB once each is used', ''))
        rows.append((f'import of {item["templates"]} templates, {kind}', f'{item["import_s"]} s',
                     f'bare inserts {item["bare_insert_s"]} s', f'<= {item["goal_import_s"]:g} s'))
    return rows


def _sockets_rows(figures: dict[str, Any]) -> list[Row]:
    return [(f'descriptors after touching {figures["connections"]} connections', f'{figures["sockets_after"]} sockets',
             f'cap {figures["cap"]} (fd limit {figures["fd_limit"]}), {figures["sockets_after_idle"]} once idle, '
             f'{figures["failures"]} failures', '<= cap')]


def _cli_rows(figures: dict[str, Any]) -> list[Row]:
    commands = figures['commands']
    # What each command is shown beside: the import it cannot do without.
    floors = {'--help': 'click', 'outconn list': 'sqlalchemy'}
    rows = []
    for name, floor in floors.items():
        what = f'``zato-outconn {name}``' + (f', {figures["templates"]} templates' if name == 'outconn list' else '')
        seconds = commands['python -c "import ' + floor + '"']['median_s']
        rows.append((what, f'{commands[name]["median_s"]} s', f'``import {floor}`` {seconds} s',
                     f'<= {commands[name]["goal_s"]} s'))
    return rows


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    'bench_plain_http': _call_rows, 'bench_concurrency': _concurrency_rows, 'bench_scale': _scale_rows,
    'bench_sockets': _sockets_rows, 'bench_cli': _cli_rows,
}


def table(rows: list[Row]) -> str:
    """The rows as a reStructuredText simple table, as README shows it."""
    headers = ('measure', 'now', 'beside', 'goal')
    widths = [max(len(header), *(len(row[index]) for row in rows)) for index, header in enumerate(headers)]
    rule = '  '.join('=' * width for width in widths)
    lines = [rule, '  '.join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip(),
             rule]
    lines += ['  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return '\n'.join([*lines, rule])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='Smaller runs of each benchmark.')
    parser.add_argument('--only', action='append', choices=sorted(RUNS), help='Run only this benchmark (repeatable).')
    parser.add_argument('--json', action='store_true', help='Print every benchmark\'s figures as JSON.')
    options = parser.parse_args()
    results = {name: run(name, options.quick) for name in RUNS if not options.only or name in options.only}
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(table([row for name, figures in results.items() for row in ROWS[name](figures)]))


if __name__ == '__main__':
    main()
