"""``zato-outconn tokens ...``: API tokens for scripts; each token is printed once, when it is made."""

from __future__ import annotations

import click

from zato_outconn.cli.context import Context, pass_context
from zato_outconn.cli.output import emit, format_option, render_table
from zato_outconn.cli.users_command import RoleChoice, moment
from zato_outconn.store import TokenRecord
from zato_outconn.store.tokens import MAX_EXPIRES_DAYS


@click.group()
def tokens() -> None:
    """API tokens: what scripts send as Authorization: Bearer <token>."""


def _expires(record: TokenRecord) -> str | None:
    shown = moment(record.expires_at)
    return f'{shown} (expired)' if shown is not None and record.expired() else shown


def _table(records: list[TokenRecord]) -> str:
    return render_table(['NAME', 'ROLE', 'CREATED', 'EXPIRES', 'LAST USED'], [
        [r.name, r.role, moment(r.created_at), _expires(r), moment(r.last_used_at)] for r in records])


@tokens.command('create')
@click.argument('name')
@click.option('--role', required=True, type=RoleChoice(), help='What the token may do.')
@click.option('--expires-days', 'expires_days', type=int, default=None,
              help=f'Days until the token expires, 1 to {MAX_EXPIRES_DAYS}; without it, it never does.')
@pass_context
def tokens_create(state: Context, name: str, role: str, expires_days: int | None) -> None:
    """Create a token NAME and print it; it is shown this once only."""
    record, token = state.store.create_token(name, role, expires_days)
    # Only the token on stdout, so that a script can capture it; the rest goes to stderr.
    click.echo(token)
    expiry = f', expires {moment(record.expires_at)}' if record.expires_at else ', never expires'
    click.echo(f'Created API token {record.name!r} ({record.role}{expiry}); '
               'store it now: it will not be shown again', err=True)


@tokens.command('list')
@format_option
@pass_context
def tokens_list(state: Context, output_format: str) -> None:
    """List tokens: name, role and when each was created, expires and was last used (never the token)."""
    records = state.store.list_tokens()
    emit(output_format, [record.as_dict() for record in records], lambda: _table(records))


@tokens.command('revoke')
@click.argument('name')
@pass_context
def tokens_revoke(state: Context, name: str) -> None:
    """Revoke a token: it stops working at once and cannot be brought back."""
    state.store.revoke_token(name)
    click.echo(f'Revoked API token {name!r}')
