"""The ``zato-outconn`` command line.

Verbs are grouped by noun. Output is a table for people or ``--format json`` for scripts; any
failure exits non-zero with one line on stderr. Secrets are read from stdin or a hidden prompt,
never taken as command-line arguments, and never printed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from zato_outconn.config import DATA_FORMATS, SEC_TYPES, TRANSPORTS, OutconnConfig, SecurityConfig
from zato_outconn.conn.headers import Component
from zato_outconn.exceptions import OutconnError
from zato_outconn.registry import build_connection
from zato_outconn.runtime import Runtime
from zato_outconn.runtime.context import new_cid
from zato_outconn.runtime.service import load_service_class
from zato_outconn.store import Store
from zato_outconn.store.engine import DB_ENV, DEFAULT_DB_URL, create_db_engine
from zato_outconn.store.schema import upgrade
from zato_outconn.version import __version__

FORMATS = ('table', 'json')
LOG_LEVEL_ENV = 'ZATO_OUTCONN_LOG_LEVEL'
# Raised (click 8.2+) when a group is called with nothing after it; it shows the help, not an error.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, 'NoArgsIsHelpError', ())


# ---------------------------------------------------------------------- plumbing


@dataclass
class Context:
    db_url: str
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_context = click.make_pass_decorator(Context)


def fail(message: str) -> NoReturn:
    click.echo(f'error: {message}', err=True)
    sys.exit(1)


def format_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option('--format', 'output_format', type=click.Choice(FORMATS), default='table',
                        show_default=True, help='Table for people, json for scripts.')(function)


def transport_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option('--transport', type=click.Choice(TRANSPORTS), default=None,
                        help='Needed only when a plain_http and a soap connection share the name.')(function)


def emit(output_format: str, data: Any, table: Callable[[], str]) -> None:
    if output_format == 'json':
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(table())


def render_table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    text_rows = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in text_rows)) if text_rows else len(header)
              for i, header in enumerate(headers)]
    lines = ['  '.join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    lines += ['  '.join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
              for row in text_rows]
    return '\n'.join(lines) if text_rows else lines[0] + '\n(none)'


def render_fields(values: Mapping[str, Any]) -> str:
    width = max(len(key) for key in values)
    return '\n'.join(f'{key.ljust(width)}  {_cell(value)}' for key, value in values.items())


def _cell(value: Any) -> str:
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, list | tuple):
        return ', '.join(str(item) for item in value) or '-'
    return str(value)


def read_secret(from_stdin: bool, what: str) -> str:
    """One line from stdin, or a hidden prompt on a terminal; never an argument."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip('\r\n')
    elif sys.stdin.isatty():
        secret = click.prompt(what.capitalize(), hide_input=True, confirmation_prompt=True)
    else:
        fail(f'no {what} given; pipe it in and add --{what.replace(" ", "-")}-stdin')
    if not secret:
        fail(f'the {what} is empty; give a non-empty {what}')
    return secret


def _with_options(function: Callable[..., Any], table: list[tuple[str, str, str]], suffix: str = '',
                  **settings: Any) -> Callable[..., Any]:
    """Add a table of (option, setting, help) as click options, unset (None) unless given."""
    for declaration, setting, help_text in reversed(table):
        function = click.option(declaration, setting + suffix, default=None, help=help_text, **settings)(function)
    return function


# ---------------------------------------------------------------------- root


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
    except Exception as error:  # noqa: BLE001 - a bug, still reported in one line
        logging.getLogger(__name__).debug('Unexpected failure', exc_info=True)
        fail(f'unexpected {type(error).__name__}: {_first_line(error)} '
             f'(run with {LOG_LEVEL_ENV}=DEBUG for the traceback)')


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# ---------------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """The database schema."""


@db.command('upgrade')
@pass_context
def db_upgrade(state: Context) -> None:
    """Create the schema, or bring it up to this version."""
    engine = create_db_engine(state.db_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    # The URL as given (postgresql://, not the driver it maps to), without its password.
    click.echo(f'Database {make_url(state.db_url).render_as_string(hide_password=True)} is up to date')


# ---------------------------------------------------------------------- security


@cli.group()
def security() -> None:
    """Security definitions: credentials that connections use."""


def _security_table(records: list[Any]) -> str:
    return render_table(['NAME', 'TYPE', 'USERNAME', 'HEADER', 'SECRET', 'USED BY', 'VERSION'], [
        [r.config.name, r.config.sec_type, r.config.username, r.config.header_name,
         'set' if r.has_secret else 'not set', list(r.used_by), r.version] for r in records])


# What the secret of each type is called in prompts and messages (and its --...-stdin flag);
# any other type's secret is a password. An mtls definition's secret is its key, read from a file.
_SECRET_NAMES = {'apikey': 'key', 'bearer': 'token', 'oauth2': 'secret'}
_SECRET_FLAGS = ('--password-stdin', '--key-stdin', '--token-stdin', '--secret-stdin')


def _secret_name(sec_type: str) -> str:
    return _SECRET_NAMES.get(sec_type, 'password')


# Settings of security definitions, shared by create and edit: (option, setting, help).
_SECURITY_OPTIONS: list[tuple[str, str, str]] = [
    ('--username', 'username', 'User name (basic_auth, digest, ntlm as DOMAIN\\user, wss).'),
    ('--header-name', 'header_name', 'Header that carries the key (apikey; default X-API-Key).'),
    ('--password-type', 'password_type', 'How wss sends the password: text (default) or digest.'),
    ('--timestamp-ttl', 'timestamp_ttl', 'Add a wsu:Timestamp that expires after this many seconds (wss).'),
    ('--token-url', 'token_url', 'Token endpoint of the authorisation server (oauth2).'),
    ('--client-id', 'client_id', 'Client ID (oauth2).'),
    ('--scopes', 'scopes', 'Scopes to ask for, separated by spaces (oauth2).'),
    ('--audience', 'audience', 'Audience to ask for (oauth2).'),
    ('--token-extra', 'token_extra', 'More form fields for the token request, as a=1&b=2 (oauth2).'),
    ('--client-auth', 'client_auth', 'How the client authenticates: basic (default) or body (oauth2).'),
]
# Settings read from files, so that PEM text never goes on a command line: (option, setting, help).
_SECURITY_FILES: list[tuple[str, str, str]] = [
    ('--cert-file', 'client_cert', 'File with the client certificate in PEM (mtls).'),
    ('--key-file', 'secret', 'File with the private key of the certificate in PEM (mtls).'),
]


def security_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option('--key-password-stdin', 'key_password_stdin', is_flag=True,
                            help='Read the password of an encrypted private key from stdin (mtls).')(function)
    function = _with_options(function, _SECURITY_FILES, suffix='_file', type=click.Path(dir_okay=False))
    return _with_options(function, _SECURITY_OPTIONS)


def _security_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings given on the command line, with files read and the key password from stdin."""
    key_password_stdin = options.pop('key_password_stdin')
    settings = {key: value for key, value in options.items() if value is not None and not key.endswith('_file')}
    for _, setting, _ in _SECURITY_FILES:
        path = options.get(f'{setting}_file')
        if path:
            settings[setting] = _read_file(setting, path)
    if key_password_stdin:
        settings['key_password'] = read_secret(True, 'key password')
    return settings


@security.command('create')
@click.argument('sec_type', metavar='TYPE', type=click.Choice(SEC_TYPES))
@click.argument('name')
@security_options
@click.option(*_SECRET_FLAGS, 'secret_stdin', is_flag=True,
              help='Read the password, key, token or client secret from the first line of stdin.')
@pass_context
def security_create(state: Context, sec_type: str, name: str, secret_stdin: bool, **options: Any) -> None:
    """Create a definition of TYPE: basic_auth, apikey, bearer, digest, ntlm, oauth2, mtls or wss."""
    settings = {'name': name, 'sec_type': sec_type, **_security_settings(options)}
    if sec_type != 'mtls':
        # Validate everything else first, so that a typo is reported before a secret is asked for.
        SecurityConfig.from_input(settings)
        settings['secret'] = read_secret(secret_stdin, _secret_name(sec_type))
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
    changes = _security_settings(options)
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
    secret = read_secret(secret_stdin, _secret_name(current.config.sec_type))
    record = state.store.set_secret(name, secret)
    click.echo(f'Changed the secret of {record.config.name!r} (version {record.version})')


@security.command('list')
@format_option
@pass_context
def security_list(state: Context, output_format: str) -> None:
    """List security definitions (secrets show only as set or not set)."""
    records = state.store.list_security()
    emit(output_format, [record.as_dict() for record in records], lambda: _security_table(records))


@security.command('show')
@click.argument('name')
@format_option
@pass_context
def security_show(state: Context, name: str, output_format: str) -> None:
    """Show one definition (the secret shows only as set or not set)."""
    record = state.store.get_security(name)
    values = record.as_dict()
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


@cli.group()
def secrets() -> None:
    """Encryption of secrets at rest."""


@secrets.command('rotate')
@pass_context
def secrets_rotate(state: Context) -> None:
    """Re-encrypt every secret under the first key of ZATO_OUTCONN_SECRET_KEYS, in one transaction.

    Put the new key first and keep the old ones after it until this has run on the database.
    """
    count = state.store.rotate_secrets()
    click.echo(f'Re-encrypted {count} secrets under the first key')


# ---------------------------------------------------------------------- outgoing connections


@cli.group()
def outconn() -> None:
    """Outgoing connections: plain_http and soap templates."""


# Options shared by create and edit: (option declaration, setting, help). Values pass to the
# typed config as given, so that the config's own messages name the field and the rule.
_OUTCONN_OPTIONS: list[tuple[str, str, str]] = [
    ('--host', 'host', 'Base URL: scheme, host and port, no path (http://crm.example.com:8080).'),
    ('--url-path', 'url_path', 'Path with {placeholders} filled from params, e.g. /customers/{cust_id}.'),
    ('--security', 'security', 'Name of the security definition to use.'),
    ('--connect-timeout', 'connect_timeout', 'Seconds to wait for a connection (default 10).'),
    ('--read-timeout', 'read_timeout', 'Seconds to wait for an answer (default 10).'),
    ('--pool-size', 'pool_size', 'Most sockets open to the remote end at once, 1-1000 (default 20).'),
    ('--ping-method', 'ping_method', 'HTTP method ping uses (default HEAD).'),
    ('--data-format', 'data_format', f'How dict and list bodies are sent: {", ".join(DATA_FORMATS)}.'),
    ('--content-type', 'content_type', 'Content-Type of request bodies, overriding the data format\'s.'),
    ('--proxy', 'proxy', 'Proxy URL, http:// or https://.'),
    ('--max-redirects', 'max_redirects', 'Most redirects followed when following them (default 10).'),
    ('--cid-header', 'cid_header', 'Name of the correlation ID header; empty to leave it out.'),
    ('--component-header', 'component_header', 'Name of the component header; empty to leave it out.'),
    ('--msg-ts-header', 'msg_ts_header', 'Name of the timestamp header; empty to leave it out.'),
    ('--soap-version', 'soap_version', 'SOAP version, 1.1 (default) or 1.2 (soap).'),
    ('--soap-action', 'soap_action', 'SOAPAction (1.1) or action parameter (1.2) of posted bodies (soap).'),
    ('--wsdl', 'wsdl', 'URL of the WSDL for conn.client (soap); see also --wsdl-file.'),
    ('--wsdl-service', 'wsdl_service', 'Service of the WSDL to use, if it has several (soap).'),
    ('--wsdl-port', 'wsdl_port', 'Port of the WSDL service to use, if it has several (soap).'),
]
_OUTCONN_FLAGS: list[tuple[str, str, str]] = [
    ('--active/--inactive', 'is_active', 'Whether the connection may be called (default active).'),
    ('--validate-tls/--no-validate-tls', 'validate_tls', 'Verify the server certificate (default on).'),
    ('--follow-redirects/--no-follow-redirects', 'follow_redirects', 'Follow redirects (default off).'),
]


def outconn_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = _with_options(function, _OUTCONN_OPTIONS)
    function = _with_options(function, _OUTCONN_FLAGS)
    function = click.option('--timeout', 'timeout', default=None,
                            help='Sets both the connect and the read timeout.')(function)
    function = click.option('--wsdl-file', 'wsdl_file', type=click.Path(dir_okay=False), default=None,
                            help='File with the WSDL document, stored in the database (soap).')(function)
    return click.option('--ca-bundle', 'ca_bundle_file', type=click.Path(dir_okay=False), default=None,
                        help='File of PEM CA certificates to trust instead of the system ones; '
                             'stored in the database. An empty value removes it.')(function)


# Settings whose value is a document read from a file: (option's parameter, setting).
_FILE_SETTINGS = (('ca_bundle_file', 'ca_bundle'), ('wsdl_file', 'wsdl'))


def _settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings given on the command line, ready for OutconnConfig.from_input."""
    timeout = options.pop('timeout')
    files = {setting: options.pop(parameter) for parameter, setting in _FILE_SETTINGS}
    settings = {key: value for key, value in options.items() if value is not None}
    if timeout is not None:
        settings.setdefault('connect_timeout', timeout)
        settings.setdefault('read_timeout', timeout)
    for setting, path in files.items():
        if path is not None:
            if setting in settings:
                fail(f'{setting}: give it either as a value or as a file, not both')
            # An empty path removes the document.
            settings[setting] = _read_file(setting, path) if path else None
    return settings


def _read_file(setting: str, path: str) -> str:
    try:
        with open(path, encoding='utf-8') as source:
            return source.read()
    except (OSError, UnicodeDecodeError) as error:
        fail(f'{setting}: cannot read {path}: {error}')


def _outconn_table(records: list[Any]) -> str:
    return render_table(['NAME', 'TRANSPORT', 'ADDRESS', 'SECURITY', 'ACTIVE', 'VERSION'], [
        [r.config.name, r.config.transport, r.config.address, r.config.security, r.config.is_active, r.version]
        for r in records])


def _outconn_fields(record: Any) -> dict[str, Any]:
    values = record.as_dict()
    if values.get('ca_bundle'):
        values['ca_bundle'] = f'{values["ca_bundle"].count("BEGIN CERTIFICATE")} certificate(s)'
    return values


def _warn_about_wsdl(store: Store, config: OutconnConfig) -> None:
    """Load a SOAP connection's WSDL once, so that a problem shows now rather than at the first call.

    The template is saved either way: the remote end may simply be down for now.
    """
    if config.transport != 'soap' or not config.wsdl:
        return
    template = store.load_templates(transport='soap', name=config.name)[0]
    conn = build_connection(template, Component())
    try:
        _ = conn.client  # type: ignore[attr-defined]  # building it is the check
    except OutconnError as error:
        click.echo(f'warning: saved, but the WSDL cannot be used yet: {error}', err=True)
    finally:
        conn.close()


@outconn.command('create')
@click.argument('transport', type=click.Choice(TRANSPORTS))
@click.argument('name')
@outconn_options
@pass_context
def outconn_create(state: Context, transport: str, name: str, **options: Any) -> None:
    """Create a TRANSPORT (plain_http or soap) connection called NAME; --host is required."""
    settings = _settings(options)
    if 'host' not in settings:
        fail('host: is required; give --host, e.g. --host https://crm.example.com')
    record = state.store.create_outconn(OutconnConfig.from_input({'name': name, 'transport': transport,
                                                                   **settings}))
    click.echo(f'Created {transport} connection {record.config.name!r} -> {record.config.address}')
    _warn_about_wsdl(state.store, record.config)


@outconn.command('edit')
@click.argument('name')
@transport_option
@click.option('--name', 'new_name', default=None, help='Rename the connection.')
@click.option('--no-security', is_flag=True, help='Stop using any security definition.')
@outconn_options
@pass_context
def outconn_edit(state: Context, name: str, transport: str | None, new_name: str | None, no_security: bool,
                 **options: Any) -> None:
    """Change the settings given; the others stay as they are."""
    settings = _settings(options)
    if new_name is not None:
        settings['name'] = new_name
    if no_security:
        if 'security' in settings:
            fail('give either --security or --no-security, not both')
        settings['security'] = None
    if not settings:
        fail('nothing to change; give at least one option (see --help)')
    found = state.store.find_outconn(name, transport)
    record = state.store.edit_outconn(found.config.transport, name, settings)
    _warn_about_wsdl(state.store, record.config)
    click.echo(f'Updated {record.config.transport} connection {record.config.name!r} (version {record.version})')


@outconn.command('list')
@transport_option
@format_option
@pass_context
def outconn_list(state: Context, transport: str | None, output_format: str) -> None:
    """List outgoing connections."""
    records = state.store.list_outconns(transport)
    emit(output_format, [record.as_dict() for record in records], lambda: _outconn_table(records))


@outconn.command('show')
@click.argument('name')
@transport_option
@format_option
@pass_context
def outconn_show(state: Context, name: str, transport: str | None, output_format: str) -> None:
    """Show every setting of one connection."""
    record = state.store.find_outconn(name, transport)
    emit(output_format, record.as_dict(), lambda: render_fields(_outconn_fields(record)))


@outconn.command('delete')
@click.argument('name')
@transport_option
@pass_context
def outconn_delete(state: Context, name: str, transport: str | None) -> None:
    """Delete a connection."""
    record = state.store.find_outconn(name, transport)
    state.store.delete_outconn(record.config.transport, name)
    click.echo(f'Deleted {record.config.transport} connection {name!r}')


@outconn.command('ping')
@click.argument('name')
@transport_option
@click.option('--cid', default=None, help='Correlation ID to send (default: a new one).')
@format_option
@pass_context
def outconn_ping(state: Context, name: str, transport: str | None, cid: str | None, output_format: str) -> None:
    """Call the remote end once with the ping method and report; exits 1 when it is not OK."""
    record = state.store.find_outconn(name, transport)
    with Runtime(store=state.store) as runtime:
        result = runtime.outgoing.registry(record.config.transport)[name].conn.ping(cid or new_cid())
    emit(output_format, result.as_dict(), lambda: str(result))
    if not result.ok:
        # The report above says it all for people; stderr carries the one line every failure has.
        fail(f'ping of {name!r} failed: {result.error or f"the server answered {result.status_code}"}')


# ---------------------------------------------------------------------- services


@cli.command('invoke')
@click.argument('service')
@click.option('--payload', default=None, help='Request payload as JSON, e.g. \'{"cust_id": 1}\'.')
@click.option('--cid', default=None, help='Correlation ID (default: a new one).')
@pass_context
def invoke(state: Context, service: str, payload: str | None, cid: str | None) -> None:
    """Run SERVICE (package.module:ClassName) once and print its response payload."""
    try:
        request = json.loads(payload) if payload is not None else None
    except json.JSONDecodeError as error:
        fail(f'--payload is not valid JSON: {error}')
    # Services are found the way `python -m` finds modules: from the working folder first.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        service_class = load_service_class(service)
    except (ImportError, ValueError) as error:
        fail(f'cannot load service {service!r}: {error}')
    except Exception as error:  # noqa: BLE001 - the module's own code failed on import
        fail(f'cannot load service {service!r}: {type(error).__name__}: {error}')
    with Runtime(store=state.store) as runtime:
        try:
            result = runtime.invoke(service_class, payload=request, cid=cid)
        except OutconnError:
            raise
        except Exception as error:  # noqa: BLE001 - the service's own failure, reported in one line
            fail(f'service {service!r} failed: {type(error).__name__}: {error}')
    if isinstance(result, str | bytes):
        click.echo(result)
    elif result is not None:
        click.echo(json.dumps(result, indent=2, default=str))
