"""``zato-outconn outconn ...``: plain_http and soap connection templates."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from zato_outconn.cli.context import Context, fail, pass_context, read_file
from zato_outconn.cli.options import model_options
from zato_outconn.cli.output import emit, format_option, render_fields, render_table
from zato_outconn.cli.stats_command import stats
from zato_outconn.config import TRANSPORTS, OutconnConfig
from zato_outconn.exceptions import OutconnError

if TYPE_CHECKING:
    from zato_outconn.store import OutconnRecord, Store
    from zato_outconn.store.history import HistoryRecord

# Switches as --flag/--no-flag, with is_active's words of its own.
_SWITCHES = tuple((name, '--active/--inactive' if name == 'is_active' else
                   f'--{name.replace("_", "-")}/--no-{name.replace("_", "-")}')
                  for name, info in OutconnConfig.model_fields.items() if info.annotation is bool)
# Settings whose value is a document read from a file: (option's parameter, setting).
_FILE_SETTINGS = (('ca_bundle_file', 'ca_bundle'), ('wsdl_file', 'wsdl'))
# Settings given as values, shared by create and edit: all but the name and transport (arguments),
# the switches, and the CA bundle, which only comes from a file.
_SETTINGS = tuple(name for name in OutconnConfig.model_fields
                  if name not in ('name', 'transport', 'ca_bundle') and name not in dict(_SWITCHES))


@click.group()
def outconn() -> None:
    """Outgoing connections: plain_http and soap templates."""


outconn.add_command(stats)


def transport_option(function: Any) -> Any:
    return click.option('--transport', type=click.Choice(TRANSPORTS), default=None,
                        help='Needed only when a plain_http and a soap connection share the name.')(function)


def outconn_options(function: Any) -> Any:
    function = model_options(OutconnConfig, _SETTINGS, flags=_SWITCHES)(function)
    function = click.option('--timeout', 'timeout', default=None,
                            help='Sets both the connect and the read timeout.')(function)
    function = click.option('--wsdl-file', 'wsdl_file', type=click.Path(dir_okay=False), default=None,
                            help='File with the WSDL document, stored in the database (soap).')(function)
    return click.option('--ca-bundle', 'ca_bundle_file', type=click.Path(dir_okay=False), default=None,
                        help='File of PEM CA certificates to trust instead of the system ones; '
                             'stored in the database. An empty value removes it.')(function)


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
            settings[setting] = read_file(setting, path) if path else None
    return settings


def _table(rows: list[list[Any]]) -> str:
    return render_table(['NAME', 'TRANSPORT', 'ADDRESS', 'SECURITY', 'ACTIVE', 'VERSION'], rows)


def _table_row(record: OutconnRecord) -> list[Any]:
    config = record.config
    return [config.name, config.transport, config.address, config.security, config.is_active, record.version]


def _fields(record: OutconnRecord) -> dict[str, Any]:
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
    # Imported here, as in ping: only the commands that call a remote end load the connection layer.
    from zato_outconn.conn.headers import Component
    from zato_outconn.registry import build_connection

    conn = build_connection(store.load_templates(transport='soap', name=config.name)[0], Component())
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
    if output_format == 'table':
        # The table's six columns as plain rows, without the store's ORM or a config per row; None
        # when the database is not as it should be, which the store then explains.
        from zato_outconn.store.engine import resolve_db_url
        from zato_outconn.store.listing import outconn_rows

        rows = outconn_rows(resolve_db_url(state.db_url), transport)
        if rows is not None:
            emit(output_format, None, lambda: _table([list(row) for row in rows]))
            return
    records = state.store.list_outconns(transport)
    # The JSON form of a thousand records is only made when it is printed.
    data = [record.as_dict() for record in records] if output_format == 'json' else None
    emit(output_format, data, lambda: _table([_table_row(record) for record in records]))


@outconn.command('show')
@click.argument('name')
@transport_option
@format_option
@pass_context
def outconn_show(state: Context, name: str, transport: str | None, output_format: str) -> None:
    """Show every setting of one connection, and its circuit in this process if it has a breaker."""
    record = state.store.find_outconn(name, transport)
    values = record.as_dict()
    if record.config.breaker_threshold:
        values['circuit'] = circuit_of(record.config.transport, record.config.name)
    emit(output_format, values, lambda: render_fields({**_fields(record), **(
        {'circuit': _circuit_text(values['circuit'])} if 'circuit' in values else {})}))


def circuit_of(transport: str, name: str) -> dict[str, Any] | None:
    """The connection's circuit in this process (state, failures, seconds to its trial), or None
    when this process has not called it. Circuits are per process: a command run on its own has
    none, while one run inside a serving process (or any code calling this) sees that process's."""
    # Looked up only if the connection layer is loaded already: a command alone never loads it.
    policies = sys.modules.get('zato_outconn.conn.policies')
    if policies is None:
        return None
    found = policies.circuits(transport, name)
    return found[-1].as_dict() if found else None


def _circuit_text(circuit: dict[str, Any] | None) -> str:
    if circuit is None:
        return 'not called in this process (circuits are per process: see zato_outconn_circuit_open)'
    trial = f', trial in {circuit["trial_in"]:g} s' if 'trial_in' in circuit else ''
    return f'{circuit["state"]} ({circuit["failures"]} consecutive failures{trial})'


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
    from zato_outconn.runtime import Runtime
    from zato_outconn.runtime.context import new_cid

    record = state.store.find_outconn(name, transport)
    # A command runs once: it follows nothing and is no node.
    with Runtime(store=state.store, sync=False) as runtime:
        result = runtime.outgoing.registry(record.config.transport)[name].conn.ping(cid or new_cid())
    emit(output_format, result.as_dict(), lambda: str(result))
    if not result.ok:
        # The report above says it all for people; stderr carries the one line every failure has.
        fail(f'ping of {name!r} failed: {result.error or f"the server answered {result.status_code}"}')


@outconn.command('history')
@click.argument('name')
@transport_option
@click.option('--deleted', is_flag=True, help='The history of the connection of this name deleted last.')
@format_option
@pass_context
def outconn_history(state: Context, name: str, transport: str | None, deleted: bool, output_format: str) -> None:
    """Every version of a connection: when, by whom, what changed (secrets never shown)."""
    records = state.store.outconn_history(name, transport, deleted=deleted)
    emit(output_format, [record.as_dict() for record in records], lambda: history_table(records))


@outconn.command('rollback')
@click.argument('name')
@transport_option
@click.option('--to-version', 'version', type=int, required=True, help='The version whose settings to go back to.')
@pass_context
def outconn_rollback(state: Context, name: str, transport: str | None, version: int) -> None:
    """Write a new version with the settings of an earlier one."""
    found = state.store.find_outconn(name, transport)
    record = state.store.rollback_outconn(found.config.transport, name, version)
    click.echo(f'Rolled {record.config.transport} connection {record.config.name!r} back to the settings of '
               f'version {version}, as version {record.version}')


def history_table(records: list[HistoryRecord]) -> str:
    return render_table(['VERSION', 'CHANGED AT', 'BY', 'ACTION', 'CHANGES'], [
        [record.version, record.changed_at.strftime('%Y-%m-%d %H:%M:%S'), record.changed_by, record.action,
         _changes_text(record)] for record in records])


def _changes_text(record: HistoryRecord) -> str:
    from zato_outconn.store.history import CHANGED

    if record.action in ('create', 'delete'):
        return f'{record.action}d'
    return '; '.join(f'{key} changed' if value == CHANGED else f'{key}: {_short(value[0])} -> {_short(value[1])}'
                     for key, value in sorted(record.changes.items())) or '-'


def _short(value: Any) -> str:
    text = '-' if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + '...'
