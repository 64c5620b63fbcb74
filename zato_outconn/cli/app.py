"""The root of the ``zato-outconn`` command line: global options, the nouns, and ``main``.

Output is a table for people or ``--format json`` for scripts; any failure exits non-zero with
one line on stderr. Secrets are read from stdin or a hidden prompt, never taken as command-line
arguments, and never printed.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from zato_outconn.cli.context import Context, fail
from zato_outconn.cli.db_command import db
from zato_outconn.cli.nodes_command import nodes
from zato_outconn.cli.outconn_command import outconn
from zato_outconn.cli.security_command import secrets, security
from zato_outconn.cli.service_command import invoke
from zato_outconn.cli.tokens_command import tokens
from zato_outconn.cli.transfer_command import export, import_
from zato_outconn.cli.users_command import users
from zato_outconn.exceptions import OutconnError
from zato_outconn.store.engine import DB_ENV, DEFAULT_DB_URL
from zato_outconn.version import __version__

LOG_LEVEL_ENV = 'ZATO_OUTCONN_LOG_LEVEL'
# Raised (click 8.2+) when a group is called with nothing after it; it shows the help, not an error.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, 'NoArgsIsHelpError', ())


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.option('--db', 'db_url', envvar=DB_ENV, default=DEFAULT_DB_URL, show_default=True,
              help=f'Database URL (sqlite:///file.db or postgresql://...); default from {DB_ENV}.')
@click.version_option(__version__, prog_name='zato-outconn')
@click.pass_context
def cli(ctx: click.Context, db_url: str) -> None:
    """Named outgoing HTTP connections: create, inspect, ping and call them."""
    state = Context(db_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


for _command in (db, security, secrets, outconn, export, import_, nodes, invoke,
                 users, tokens):
    cli.add_command(_command)


def main() -> None:
    level = os.environ.get(LOG_LEVEL_ENV)
    logging.basicConfig(level=(level or 'WARNING').upper(), format='%(levelname)s: %(message)s',
                        stream=sys.stderr)
    if not level:
        # A command prints the outcome of its calls itself; the per-call log would say it twice.
        logging.getLogger('zato_outconn.call').setLevel(logging.ERROR)
        # Alembic reports each migration step at INFO; people need only the outcome.
        logging.getLogger('alembic').setLevel(logging.WARNING)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        fail('aborted')
    except click.UsageError as error:
        if isinstance(error, _NO_ARGS_IS_HELP):
            error.show()  # the bare command (or group) prints its help
            sys.exit(error.exit_code)
        # One line, as for every other failure, instead of click's usage block.
        hint = f' (see: {error.ctx.command_path} --help)' if error.ctx is not None else ''
        click.echo(f'error: {error.format_message()}{hint}', err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as error:
        sys.exit(error.exit_code)
    except OutconnError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f'database error: {_first_line(error)}')
    except OSError as error:
        fail(str(error))
    except Exception as error:
        logging.getLogger(__name__).debug('Unexpected failure', exc_info=True)
        fail(f'unexpected {type(error).__name__}: {_first_line(error)} '
             f'(run with {LOG_LEVEL_ENV}=DEBUG for the traceback)')


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
