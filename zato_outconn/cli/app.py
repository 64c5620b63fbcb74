"""The root of the ``zato-outconn`` command line: global options, the nouns, and ``main``.

Output is a table for people or ``--format json`` for scripts; any failure exits non-zero with
one line on stderr. Secrets are read from stdin or a hidden prompt, never taken as command-line
arguments, and never printed.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource

from zato_outconn.cli.context import Context, fail
from zato_outconn.exceptions import ConfigError, OutconnError, printable
from zato_outconn.store.engine import DB_ENV, DEFAULT_DB_URL
from zato_outconn.version import __version__

LOG_LEVEL_ENV = 'ZATO_OUTCONN_LOG_LEVEL'
# Raised (click 8.2+) when a group is called with nothing after it; it shows the help, not an error.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, 'NoArgsIsHelpError', ())
# click's words for arguments left over after a command's own; what follows them is never shown.
_EXTRA_ARGUMENTS = re.compile(r'^Got unexpected extra arguments? \(')

# Every noun and lone verb: its module in zato_outconn.cli, the command's name there, and the first
# paragraph of its help, which the list of commands shows. A command's module is imported only when
# that command runs or shows its help, so that --help and each command load what they need alone
# (a test checks that these summaries are the commands' own).
COMMANDS: dict[str, tuple[str, str, str]] = {
    'db': ('db_command', 'db', 'The database schema.'),
    'security': ('security_command', 'security', 'Security definitions: credentials that connections use.'),
    'secrets': ('security_command', 'secrets', 'Encryption of secrets at rest.'),
    'outconn': ('outconn_command', 'outconn', 'Outgoing connections: plain_http and soap templates.'),
    'export': ('transfer_command', 'export',
               'Write every template and security definition, with every setting; secrets are left out.'),
    'import': ('transfer_command', 'import_',
               'Import FILE (JSON or YAML, as export writes it) in one transaction, or nothing at all.'),
    'nodes': ('nodes_command', 'nodes', 'Running processes that follow the database.'),
    'invoke': ('service_command', 'invoke', 'Run SERVICE (package.module:ClassName) once and print its response '
                                            'payload.'),
    'users': ('users_command', 'users', 'Admin users: who may sign in to the web admin, and with which role.'),
    'tokens': ('tokens_command', 'tokens', 'API tokens: what scripts send as Authorization: Bearer <token>.'),
    'serve': ('serve_command', 'serve', 'Serve the web admin and the JSON API (/api/v1), by default at '
                                        'http://127.0.0.1:11223.'),
}


class LazyGroup(click.Group):
    """The root group: its commands are imported when one is looked up (to run, or for its help)."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute, _ = self.lazy[cmd_name]
            command = getattr(importlib.import_module(f'zato_outconn.cli.{module}'), attribute)
            _guard(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them, from the summaries above: listing the commands imports none of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, (self.commands[name] if name in self.commands else
                        click.Command(name, help=self.lazy[name][2])).get_short_help_str(limit)) for name in names]
        with formatter.section('Commands'):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={'help_option_names': ['-h', '--help']})
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
        except _loaded('pydantic_core', 'ValidationError') as error:
            items: list[Any] = error.errors()  # type: ignore[attr-defined]  # pydantic's ValidationError
            raise ConfigError.of([('.'.join(str(part) for part in item['loc']) or 'value', item['msg'])
                                  for item in items]) from error
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


def _loaded(module: str, name: str) -> tuple[type[BaseException], ...]:
    """The exception class ``module.name`` if that module has been imported, else none.

    For except clauses (evaluated when an exception reaches them): an error of a library no command
    loaded cannot have been raised, and the library need not be imported to say so.
    """
    found = sys.modules.get(module)
    return (getattr(found, name),) if found is not None else ()


def main() -> None:
    level = os.environ.get(LOG_LEVEL_ENV)
    if level and not isinstance(logging.getLevelName(level.upper()), int):
        fail(f'{LOG_LEVEL_ENV} must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL; got {printable(level)!r}')
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
    except _loaded('sqlalchemy.exc', 'SQLAlchemyError') as error:
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
