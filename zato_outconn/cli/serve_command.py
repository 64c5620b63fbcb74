"""``zato-outconn serve``: the web admin and JSON API under gunicorn.

The server runs in a fresh interpreter that gevent patches before anything is imported (see
``admin.serving``); this command checks its options and hands over to it, in the same process.
Flask and gunicorn are imported there, so that the rest of the command line stays quick to start.
"""

from __future__ import annotations

import os

import click
from click.core import ParameterSource

from zato_outconn.cli.context import Context, fail, pass_context

DEFAULT_HOST = '127.0.0.1'
DEFAULT_PORT = 11223
_FILE = click.Path(exists=True, dir_okay=False)


@click.command('serve')
@click.option('--host', default=DEFAULT_HOST, show_default=True, help='Address to listen on.')
@click.option('--port', type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help='Port to listen on.')
@click.option('--workers', type=click.IntRange(1, 64), default=1, show_default=True,
              help='Worker processes, each serving many requests at once (gevent).')
@click.option('--certfile', type=_FILE, default=None, help='PEM certificate (chain) to serve HTTPS with.')
@click.option('--keyfile', type=_FILE, default=None, help='PEM private key of --certfile.')
@click.option('--ca-certs', type=_FILE, default=None, help='PEM CA certificates that client certificates are checked '
                                                           'against.')
@click.option('--require-client-cert', is_flag=True, help='Refuse clients without a certificate from --ca-certs.')
@pass_context
def serve(state: Context, host: str, port: int, workers: int, certfile: str | None, keyfile: str | None,
          ca_certs: str | None, require_client_cert: bool) -> None:
    """Serve the web admin and the JSON API (/api/v1), by default at http://127.0.0.1:11223.

    On the embedded SQLite default (no --db, no ZATO_OUTCONN_DB) the database is created or upgraded
    and, if it has no user, an admin is created with a random password, written to a file beside it.
    Elsewhere ZATO_OUTCONN_ADMIN_SECRET_KEY must be set and the database upgraded.
    """
    if bool(certfile) != bool(keyfile):
        fail('--certfile and --keyfile go together: give both to serve HTTPS')
    if ca_certs and not certfile:
        fail('--ca-certs: checks client certificates over HTTPS; give --certfile and --keyfile too')
    if require_client_cert and not ca_certs:
        fail('--require-client-cert: needs --ca-certs, the CA certificates client certificates must come from')
    root = click.get_current_context().find_root()
    embedded = root.get_parameter_source('db_url') == ParameterSource.DEFAULT

    from zato_outconn.admin.serving import ServeOptions, metrics_directory

    options = ServeOptions(db_url=state.db_url, embedded=embedded, host=host, port=port, workers=workers,
                           certfile=_absolute(certfile), keyfile=_absolute(keyfile), ca_certs=_absolute(ca_certs),
                           require_client_cert=require_client_cert, metrics_dir=metrics_directory())
    command = options.command()
    state.close()
    os.execv(command[0], command)


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(path) if path else None
