"""``zato-outconn nodes list``: the processes that follow the database, and the change each runs."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from zato_outconn.cli.context import Context, pass_context
from zato_outconn.cli.output import emit, format_option, render_table


@click.group()
def nodes() -> None:
    """Running processes that follow the database."""


@nodes.command('list')
@format_option
@pass_context
def nodes_list(state: Context, output_format: str) -> None:
    """List nodes: behind (not on the latest change) or silent (no heartbeat for three intervals)."""
    latest = state.store.last_change()
    records = state.store.list_nodes()
    now = datetime.now(timezone.utc)
    rows = [[record.component, record.host, record.pid, record.started_at.strftime('%Y-%m-%d %H:%M:%S'),
             f'{(now - record.heartbeat_at).total_seconds():.1f} s ago', record.applied_change,
             record.status(latest, now)] for record in records]
    emit(output_format, [record.as_dict(latest, now) for record in records],
         lambda: f'latest change: {latest}\n' + render_table(
             ['COMPONENT', 'HOST', 'PID', 'STARTED', 'HEARTBEAT', 'APPLIED', 'STATUS'], rows))
