"""``zato-outconn db upgrade``: the database schema."""

from __future__ import annotations

import click

from zato_outconn.cli.context import Context, pass_context
from zato_outconn.store.base import check_sqlite_file, database_errors
from zato_outconn.store.engine import create_db_engine, normalise_url, shown_url
from zato_outconn.store.schema import current_revision, upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command('upgrade')
@pass_context
def db_upgrade(state: Context) -> None:
    """Create the schema, or bring it up to this version."""
    # The file may be created, its folder not: a missing folder or a path through a file is named.
    check_sqlite_file(normalise_url(state.db_url), must_exist=False)
    engine = create_db_engine(state.db_url)
    try:
        with database_errors(engine.url):
            before = current_revision(engine)
            upgrade(engine)
            after = current_revision(engine)
    finally:
        engine.dispose()
    # The URL as given (postgresql://, not the driver it maps to), without its password.
    shown = shown_url(state.db_url)
    if before is None:
        click.echo(f'Database {shown}: created the schema at revision {after}')
    elif before != after:
        click.echo(f'Database {shown}: upgraded the schema from revision {before} to {after}')
    else:
        click.echo(f'Database {shown} is up to date (revision {after})')
