"""The command line loads only what a command needs: --help no database or HTTP library, a list no HTTP one."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from zato_outconn.cli.app import COMMANDS, cli

from tests.support.cli_runner import CLI

# Runs the command line's main() as the console script does, then says which modules it had loaded.
_RUN = '''
import json, sys
sys.argv = ['zato-outconn', *json.loads(sys.argv[1])]
from zato_outconn.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
'''
# The root's help, with every command loaded first, or with none loaded.
_HELP = '''
import sys
import click
from click.testing import CliRunner
from zato_outconn.cli.app import COMMANDS, cli
if sys.argv[1] == 'loaded':
    for name in COMMANDS:
        cli.get_command(click.Context(cli), name)
print(CliRunner().invoke(cli, ['--help'], terminal_width=100).output, end='')
'''


def loaded_by(*args: str, cwd: Path) -> set[str]:
    completed = subprocess.run([sys.executable, '-c', _RUN, json.dumps(args)], capture_output=True, text=True,
                               check=True, timeout=60, cwd=cwd)
    return set(json.loads(completed.stderr.splitlines()[-1]))


def test_help_loads_no_database_http_or_model_library(tmp_path: Path) -> None:
    modules = loaded_by('--help', cwd=tmp_path)
    assert 'zato_outconn.cli.app' in modules
    for heavy in ('requests', 'urllib3', 'sqlalchemy', 'alembic', 'pydantic', 'cryptography', 'psycopg'):
        assert heavy not in modules, heavy
    assert not {name for name in modules if name.startswith('zato_outconn.cli.') and name.endswith('_command')}


def test_a_list_loads_the_store_but_no_http_library(cli: CLI, tmp_path: Path) -> None:
    cli.ok('outconn', 'create', 'plain_http', 'CRM', '--host', 'http://crm.example.com')
    # The table reads plain rows over SQLAlchemy Core; the JSON has every setting, through the store.
    table = loaded_by('outconn', 'list', cwd=tmp_path)
    assert {'sqlalchemy', 'zato_outconn.store.listing'} <= table
    assert not {'sqlalchemy.orm', 'zato_outconn.store.outconns', 'zato_outconn.store.models'} & table
    as_json = loaded_by('outconn', 'list', '--format', 'json', cwd=tmp_path)
    assert {'zato_outconn.store.outconns', 'sqlalchemy.orm'} <= as_json
    for modules in (table, as_json):
        for heavy in ('requests', 'urllib3', 'alembic', 'cryptography', 'zato_outconn.registry',
                      'zato_outconn.conn.http', 'zato_outconn.runtime'):
            assert heavy not in modules, heavy


def test_the_list_of_commands_reads_as_if_every_command_were_loaded() -> None:
    lazy, loaded = (subprocess.run([sys.executable, '-c', _HELP, how], capture_output=True, text=True, check=True,
                                   timeout=60).stdout for how in ('lazy', 'loaded'))
    assert lazy == loaded and 'Commands:' in lazy
    for name in COMMANDS:
        assert f'\n  {name} ' in lazy, name


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    assert inspect.cleandoc(command.help or '').split('\n\n')[0] == COMMANDS[name][2]
