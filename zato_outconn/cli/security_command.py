"""``zato-outconn security ...`` and ``secrets rotate``: definitions and the keys of their secrets."""

from __future__ import annotations

from typing import Any

import click

from zato_outconn.cli.context import Context, fail, pass_context, read_file
from zato_outconn.cli.options import model_options
from zato_outconn.cli.output import emit, format_option, render_fields, render_table
from zato_outconn.cli.secret_input import read_secret
from zato_outconn.config import SEC_TYPES, SECURITY_TYPES, SecurityConfig
from zato_outconn.config.security import PUBLIC_SETTINGS
from zato_outconn.store import SecurityRecord

# Settings given as values, shared by create and edit: all but the name, the type (arguments) and the
# encrypted ones, which come from stdin or files.
_SETTINGS = tuple(name for name in PUBLIC_SETTINGS if name not in ('name', 'sec_type'))
# Settings read from files, so that PEM text never goes on a command line: (option, setting, help).
_FILES: list[tuple[str, str, str]] = [
    ('--cert-file', 'client_cert', 'File with the client certificate in PEM (mtls).'),
    ('--key-file', 'secret', 'File with the private key of the certificate in PEM (mtls).'),
]
_SECRET_FLAGS = ('--password-stdin', '--key-stdin', '--token-stdin', '--secret-stdin')


@click.group()
def security() -> None:
    """Security definitions: credentials that connections use."""


@click.group()
def secrets() -> None:
    """Encryption of secrets at rest."""


def security_options(function: Any) -> Any:
    function = click.option('--key-password-stdin', 'key_password_stdin', is_flag=True,
                            help='Read the password of an encrypted private key from stdin (mtls).')(function)
    for declaration, setting, help_text in reversed(_FILES):
        function = click.option(declaration, f'{setting}_file', default=None, help=help_text,
                                type=click.Path(dir_okay=False))(function)
    return model_options(SecurityConfig, _SETTINGS)(function)


def _settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings given on the command line, with files read and the key password from stdin."""
    key_password_stdin = options.pop('key_password_stdin')
    settings = {key: value for key, value in options.items() if value is not None and not key.endswith('_file')}
    for _, setting, _ in _FILES:
        path = options.get(f'{setting}_file')
        if path:
            settings[setting] = read_file(setting, path)
    if key_password_stdin:
        settings['key_password'] = read_secret(True, 'key password')
    return settings


def _table(records: list[SecurityRecord]) -> str:
    return render_table(['NAME', 'TYPE', 'USERNAME', 'HEADER', 'SECRET', 'USED BY', 'VERSION'], [
        [r.config.name, r.config.sec_type, r.config.username, r.config.header_name,
         'set' if r.config.secret_set else 'not set', list(r.used_by), r.version] for r in records])


@security.command('create')
@click.argument('sec_type', metavar='TYPE', type=click.Choice(SEC_TYPES))
@click.argument('name')
@security_options
@click.option(*_SECRET_FLAGS, 'secret_stdin', is_flag=True,
              help='Read the password, key, token or client secret from the first line of stdin.')
@pass_context
def security_create(state: Context, sec_type: str, name: str, secret_stdin: bool, **options: Any) -> None:
    """Create a definition of TYPE: basic_auth, apikey, bearer, digest, ntlm, oauth2, mtls or wss."""
    settings = {'name': name, 'sec_type': sec_type, **_settings(options)}
    if sec_type != 'mtls':
        # Validate everything else first, so that a typo is reported before a secret is asked for.
        SecurityConfig.from_input(settings)
        settings['secret'] = read_secret(secret_stdin, SECURITY_TYPES[sec_type].secret_name)
    elif 'secret' not in settings:
        fail('secret: is required for mtls; give the private key with --key-file')
    record = state.store.create_security(SecurityConfig.from_input(settings))
    click.echo(f'Created {sec_type} security definition {record.config.name!r}')


@security.command('edit')
@click.argument('name')
@click.option('--name', 'new_name', help='Rename the definition.')
@security_options
@pass_context
def security_edit(state: Context, name: str, new_name: str | None, **options: Any) -> None:
    """Change settings; secrets not given stay as they are (see also set-password)."""
    changes = _settings(options)
    if new_name is not None:
        changes['name'] = new_name
    if not changes:
        fail('nothing to change; give at least one option (see --help)')
    record = state.store.edit_security(name, changes)
    click.echo(f'Updated security definition {record.config.name!r} (version {record.version})')


@security.command('set-password')
@click.argument('name')
@click.option(*_SECRET_FLAGS, 'secret_stdin', is_flag=True,
              help='Read the new password, key, token or client secret from the first line of stdin.')
@pass_context
def security_set_password(state: Context, name: str, secret_stdin: bool) -> None:
    """Change only the secret: the password, API key, token or client secret."""
    current = state.store.get_security(name)
    if current.config.sec_type == 'mtls':
        fail(f'{name!r} is an mtls definition; change its key with: zato-outconn security edit {name!r} '
             '--key-file FILE (and --key-password-stdin if it is encrypted)')
    secret = read_secret(secret_stdin, current.config.kind.secret_name)
    record = state.store.set_secret(name, secret)
    click.echo(f'Changed the secret of {record.config.name!r} (version {record.version})')


@security.command('list')
@format_option
@pass_context
def security_list(state: Context, output_format: str) -> None:
    """List security definitions (secrets show only as set or not set)."""
    records = state.store.list_security()
    emit(output_format, [record.as_dict() for record in records], lambda: _table(records))


@security.command('show')
@click.argument('name')
@format_option
@pass_context
def security_show(state: Context, name: str, output_format: str) -> None:
    """Show one definition (the secret shows only as set or not set)."""
    values = state.store.get_security(name).as_dict()
    # People see the settings the type has; scripts get every key, unset ones as null.
    emit(output_format, values, lambda: render_fields({key: value for key, value in values.items()
                                                       if value is not None}))


@security.command('delete')
@click.argument('name')
@pass_context
def security_delete(state: Context, name: str) -> None:
    """Delete a definition; refused while connections use it."""
    state.store.delete_security(name)
    click.echo(f'Deleted security definition {name!r}')


@secrets.command('rotate')
@pass_context
def secrets_rotate(state: Context) -> None:
    """Re-encrypt every secret under the first key of ZATO_OUTCONN_SECRET_KEYS, in one transaction.

    Put the new key first and keep the old ones after it until this has run on the database.
    """
    count = state.store.rotate_secrets()
    click.echo(f'Re-encrypted {count} secrets under the first key')
