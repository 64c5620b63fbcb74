"""``zato-outconn users ...``: the people who sign in to the admin, and their roles."""

from __future__ import annotations

from datetime import datetime

import click

from zato_outconn.cli.context import Context, pass_context
from zato_outconn.cli.output import emit, format_option, render_table
from zato_outconn.cli.secret_input import read_secret
from zato_outconn.config.roles import ROLE_NAMES
from zato_outconn.exceptions import ConfigError, NotFound
from zato_outconn.store import UserRecord
from zato_outconn.store.users import check_principal, duplicate_user

_PASSWORD_HELP = 'Read the password from the first line of stdin (else a hidden prompt on a terminal).'


class RoleChoice(click.Choice):
    """The roles, named on one line when a role is missing, as every error is one line."""

    def __init__(self) -> None:
        super().__init__(ROLE_NAMES)

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f'Choose from {", ".join(ROLE_NAMES)}'


@click.group()
def users() -> None:
    """Admin users: who may sign in to the web admin, and with which role."""


def moment(value: datetime | None) -> str | None:
    return value.isoformat(sep=' ', timespec='seconds') if value is not None else None


def _table(records: list[UserRecord]) -> str:
    return render_table(['NAME', 'ROLE', 'CREATED', 'UPDATED'], [
        [r.name, r.role, moment(r.created_at), moment(r.updated_at)] for r in records])


@users.command('create')
@click.argument('name')
@click.option('--role', required=True, type=RoleChoice(), help='What the user may do.')
@click.option('--password-stdin', 'password_stdin', is_flag=True, help=_PASSWORD_HELP)
@pass_context
def users_create(state: Context, name: str, role: str, password_stdin: bool) -> None:
    """Create a user NAME with a role: viewer, operator or admin."""
    # Refused before a password is asked for, so that nobody types one in vain.
    check_principal(name, role)
    try:
        state.store.get_user(name)
    except NotFound:
        pass
    else:
        raise ConfigError('name', duplicate_user(name))
    record = state.store.create_user(name, role, read_secret(password_stdin, 'password'))
    click.echo(f'Created admin user {record.name!r} ({record.role})')


@users.command('list')
@format_option
@pass_context
def users_list(state: Context, output_format: str) -> None:
    """List users and their roles."""
    records = state.store.list_users()
    emit(output_format, [record.as_dict() for record in records], lambda: _table(records))


@users.command('delete')
@click.argument('name')
@pass_context
def users_delete(state: Context, name: str) -> None:
    """Delete a user; the last admin cannot be deleted."""
    state.store.delete_user(name)
    click.echo(f'Deleted admin user {name!r}')


@users.command('set-password')
@click.argument('name')
@click.option('--password-stdin', 'password_stdin', is_flag=True, help=_PASSWORD_HELP)
@pass_context
def users_set_password(state: Context, name: str, password_stdin: bool) -> None:
    """Change a user's password."""
    state.store.get_user(name)
    record = state.store.set_user_password(name, read_secret(password_stdin, 'password'))
    click.echo(f'Changed the password of admin user {record.name!r}')


@users.command('set-role')
@click.argument('name')
@click.argument('role', metavar='ROLE', type=RoleChoice())
@pass_context
def users_set_role(state: Context, name: str, role: str) -> None:
    """Give a user another ROLE: viewer, operator or admin; the last admin keeps theirs."""
    record = state.store.set_user_role(name, role)
    click.echo(f'Admin user {record.name!r} now has the role {record.role}')
