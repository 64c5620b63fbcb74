"""The root of the ``zato-outconn`` command line: global options, the nouns, and ``main``.

Output is a table for people or ``--format json`` for scripts; any failure exits non-zero with
one line on stderr. Secrets are read from stdin or a hidden prompt, never taken as command-line
arguments, and never printed.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from zato_outconn.cli.context import Context, fail
from zato_outconn.cli.db_command import db
from zato_outconn.cli.nodes_command import nodes
from zato_outconn.cli.outconn_command import outconn
from zato_outconn.cli.security_command import secrets, security
from zato_outconn.cli.serve_command import serve
from zato_outconn.cli.service_command import invoke
from zato_outconn.cli.tokens_command import tokens
from zato_outconn.cli.transfer_command import export, import_
from zato_outconn.cli.users_command import users
from zato_outconn.exceptions import ConfigError, OutconnError
from zato_outconn.store.engine import DB_ENV, DEFAULT_DB_URL
from zato_outconn.version import __version__

LOG_LEVEL_ENV = 'ZATO_OUTCONN_LOG_LEVEL'
# Raised (click 8.2+) when a group is called with nothing after it; it shows the help, not an error.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, 'NoArgsIsHelpError', ())
# click's words for arguments left over after a command's own; what follows them is never shown.
_EXTRA_ARGUMENTS = re.compile(r'^Got unexpected extra arguments? \(')


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


def _name_bad_values(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A ValueError out of a command's code becomes a ConfigError naming the options given.

    The config models name the field of every value they refuse; this is for the ones a check
    lets through as a bare ValueError (urlsplit's "Invalid IPv6 URL", say), which would otherwise
    read as a crash.
    """

    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except OutconnError:
            raise
        except ValidationError as error:
            raise ConfigError.of([('.'.join(str(part) for part in item['loc']) or 'value', item['msg'])
                                  for item in error.errors()]) from error
        except ValueError as error:
            raise _bad_value(click.get_current_context(), error) from error

    return guarded


def _bad_value(ctx: click.Context, error: ValueError) -> ConfigError:
    given = [param for param in ctx.command.params
             if isinstance(param, click.Option) and param.name is not None
             and ctx.get_parameter_source(param.name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)]
    problem = _first_line(error)
    if len(given) == 1:
        return ConfigError(str(given[0].name), problem)
    if given:
        names = ', '.join(param.opts[0] for param in given)
        return ConfigError('value', f'one of {names} is invalid: {problem}')
    return ConfigError('value', f'invalid: {problem}')


def _guard(command: click.Command) -> None:
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
    elif command.callback is not None:
        command.callback = _name_bad_values(command.callback)


for _command in (db, security, secrets, outconn, export, import_, nodes, invoke,
                 users, tokens, serve):
    _guard(_command)
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
        click.echo(f'error: {_usage_message(error)}{hint}', err=True)
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
    except ValueError as error:
        # Outside a command's code (the guard above covers that): still a refused value, not a crash.
        fail(f'invalid value: {_first_line(error)}')
    except Exception as error:
        logging.getLogger(__name__).debug('Unexpected failure', exc_info=True)
        fail(f'unexpected {type(error).__name__}: {_first_line(error)} '
             f'(run with {LOG_LEVEL_ENV}=DEBUG for the traceback)')


def _usage_message(error: click.UsageError) -> str:
    """click's message, except that a stray argument is never repeated: it may be a password typed in."""
    message = error.format_message()
    if not _EXTRA_ARGUMENTS.match(message):
        return message
    command = error.ctx.command if error.ctx is not None else None
    # One flag per secret (its first spelling), the plain password's first.
    flags = sorted((param.opts[0] for param in (command.params if command is not None else ())
                    if isinstance(param, click.Option) and param.opts[0].endswith('-stdin')), key=len)
    hidden = 'unexpected extra argument (not shown, in case it is a secret)'
    if not flags:
        return f'{hidden}; secrets are never taken as arguments'
    return f'{hidden}; secrets are read from stdin: pipe them in with {" or ".join(flags)}'


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
