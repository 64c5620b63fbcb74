"""``zato-outconn serve``'s server: gunicorn with gevent workers, running the admin app.

The command starts a new interpreter whose first act is gevent's monkey patching (``BOOT``), before
anything else is imported: psycopg picks how it waits for the network when it is imported, and
sockets made by modules imported earlier would block a worker's other requests. That interpreter
prepares the database (``prepare``), then runs gunicorn, without preloading the app: each worker
builds its own, with its own store, after gevent has patched it.

On the embedded SQLite default it upgrades the database, makes a session key, and creates the
first admin (``admin``, a random password in a 0600 file beside the database) if there is no user.
Anywhere else it refuses to start without ``ZATO_OUTCONN_ADMIN_SECRET_KEY`` or on a database that
needs ``db upgrade``.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from zato_outconn.admin.settings import SECRET_KEY_ENV
from zato_outconn.exceptions import ConfigError, OutconnError, StoreError
from zato_outconn.store import Store
from zato_outconn.store.base import check_sqlite_file
from zato_outconn.store.engine import create_db_engine, normalise_url, sqlite_path
from zato_outconn.store.schema import upgrade

BOOT = ('from gevent import monkey; monkey.patch_all(); import sys; '
        'from zato_outconn.admin.serving import main; main(sys.argv[1])')
ADMIN_NAME = 'admin'
PASSWORD_FILE_SUFFIX = '.admin-password'
SESSION_KEY_FILE_SUFFIX = '.session-key'
# Neither query strings (a token could be in one) nor Authorization, nor the basic-auth user: the
# client, the request's method, path and protocol, the status, the size and the time taken.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# prometheus-client's multi-process mode: where each worker writes its metrics (zato_outconn.metrics).
METRICS_DIR_ENV = 'PROMETHEUS_MULTIPROC_DIR'


@dataclass(frozen=True)
class ServeOptions:
    db_url: str
    embedded: bool
    host: str = '127.0.0.1'
    port: int = 11223
    workers: int = 1
    certfile: str | None = None
    keyfile: str | None = None
    ca_certs: str | None = None
    require_client_cert: bool = False
    # The folder of the workers' metrics made for this run (metrics_directory), removed when it stops.
    metrics_dir: str | None = None

    @property
    def url(self) -> str:
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{"https" if self.certfile else "http"}://{host}:{self.port}'

    def command(self) -> list[str]:
        """The interpreter that serves with these options, patched by gevent first."""
        return [sys.executable, '-c', BOOT, json.dumps(asdict(self))]


@dataclass(frozen=True)
class Prepared:
    """What the workers' apps are made with, and what to tell the person who started the server."""

    app_config: dict[str, Any]
    lines: list[str]


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, replacing any there was; never readable by others, not even briefly."""
    draft = path.with_name(f'.{path.name}.{secrets.token_hex(4)}')
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, 'w', encoding='utf-8') as target:
            target.write(text)
        os.replace(draft, path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


def _session_key(database: Path) -> str:
    configured = os.environ.get(SECRET_KEY_ENV)
    if configured:
        return configured
    path = Path(str(database) + SESSION_KEY_FILE_SUFFIX)
    if path.exists():
        return path.read_text(encoding='utf-8').strip()
    key = secrets.token_urlsafe(32)
    write_private(path, key + '\n')
    return key


def prepare(options: ServeOptions) -> Prepared:
    """Check (and on the embedded default, set up) the database and keys; raise OutconnError if it cannot serve."""
    lines = [f'Serving the web admin and JSON API at {options.url} (API under {options.url}/api/v1)']
    if options.embedded:
        url = normalise_url(options.db_url)
        check_sqlite_file(url, must_exist=False)
        database = Path(sqlite_path(url) or 'zato-outconn.db').resolve()
        engine = create_db_engine(options.db_url)
        try:
            upgrade(engine)
        except OSError as error:
            raise StoreError(f'The database file {database} cannot be created: {error}') from error
        finally:
            engine.dispose()
        key = _session_key(database)
        lines.append(f'on the embedded SQLite default: {database}')
    else:
        key = os.environ.get(SECRET_KEY_ENV, '')
        if not key:
            raise ConfigError(SECRET_KEY_ENV, 'is not set; outside the embedded SQLite default the admin needs it to '
                                              'sign sessions: set it to a long random text, the same on every server, '
                                              "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
        database = None
    _check_listen(options)
    _check_tls(options)
    store = Store(options.db_url)
    try:
        # The keys of the secrets are loaded now, so that a missing one stops the start, not a first request.
        _ = store.secret_box
        if database is not None:
            password_file = Path(str(database) + PASSWORD_FILE_SUFFIX)
            if not store.list_users():
                password = secrets.token_urlsafe(18)
                store.create_user(ADMIN_NAME, 'admin', password)
                write_private(password_file, password + '\n')
            if password_file.exists():
                if store.check_password(ADMIN_NAME, password_file.read_text(encoding='utf-8').strip()) is not None:
                    lines.append(f'First login: {ADMIN_NAME}, with the password in {password_file} (readable by '
                                 'you only); change it with: zato-outconn users set-password admin --password-stdin')
                else:
                    # The password was changed (or the user deleted): the file would only mislead.
                    password_file.unlink()
                    lines.append(f'Removed {password_file}: the first password of {ADMIN_NAME} it held no longer '
                                 'signs in')
        app_config = {'DB': options.db_url, 'SECRET_KEY': key, 'SESSION_COOKIE_SECURE': bool(options.certfile),
                      'REMEMBER_COOKIE_SECURE': bool(options.certfile)}
        from zato_outconn.admin import create_app

        # Made once here as each worker will make it: a ZATO_OUTCONN_* setting that cannot work stops
        # the start with one line, instead of every worker failing to boot with a traceback.
        create_app({**app_config, 'STORE': store})
    finally:
        store.close()
    return Prepared(app_config, lines)


def _check_listen(options: ServeOptions) -> None:
    """The address can be listened on; else one line, where gunicorn would retry five times and give up
    in its own words (and an empty --host would have it listen on every interface)."""
    if not options.host.strip():
        raise ConfigError('--host', 'is empty; give the address to listen on: 127.0.0.1 for this machine only, '
                                    '0.0.0.0 for every interface')
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(options.host, options.port, type=socket.SOCK_STREAM,
                                                                flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, protocol) as probe:
            # As gunicorn binds: an earlier run's sockets still closing do not stop it.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.EADDRINUSE:
            raise ConfigError('--port', f'{options.port} is taken on {options.host} ({reason}); stop what '
                                        'listens there, or choose another port') from None
        raise ConfigError('--host', f'{options.host} cannot be listened on ({reason}); give an address of this '
                                    'machine') from None


def _check_tls(options: ServeOptions) -> None:
    """The certificate and key load, as the workers will load them; else one line saying which file."""
    if not options.certfile or not options.keyfile:
        return

    def no_password() -> bytes:
        # gunicorn has no setting for a key's password: OpenSSL would ask for it on the terminal.
        raise ConfigError('--keyfile', f'{options.keyfile} is encrypted; serve with a key that is not')

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.certfile, options.keyfile, password=no_password)
    except ssl.SSLError as error:
        raise ConfigError('--certfile', f'{options.certfile} with --keyfile {options.keyfile} is not a PEM '
                                        f'certificate and its private key ({error.reason or error})') from None
    if options.ca_certs:
        try:
            context.load_verify_locations(options.ca_certs)
        except ssl.SSLError as error:
            raise ConfigError('--ca-certs', f'{options.ca_certs} holds no PEM CA certificates '
                                            f'({error.reason or error})') from None


def gunicorn_settings(options: ServeOptions) -> dict[str, Any]:
    host = f'[{options.host}]' if ':' in options.host else options.host
    settings: dict[str, Any] = {
        'bind': [f'{host}:{options.port}'], 'workers': options.workers, 'worker_class': 'gevent',
        'preload_app': False, 'accesslog': '-', 'access_log_format': ACCESS_LOG_FORMAT, 'errorlog': '-',
        'graceful_timeout': 5, 'proc_name': 'zato-outconn', 'control_socket_disable': True,
        'child_exit': worker_exited,
    }
    if options.certfile:
        settings.update(certfile=options.certfile, keyfile=options.keyfile, ca_certs=options.ca_certs,
                        cert_reqs=ssl.CERT_REQUIRED if options.require_client_cert else
                        ssl.CERT_OPTIONAL if options.ca_certs else ssl.CERT_NONE)
    return settings


def worker_exited(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: the circuit states a worker showed go with it; its counts stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def metrics_directory() -> str | None:
    """A folder of this run's own where the workers write their metrics, set as PROMETHEUS_MULTIPROC_DIR,
    unless that is set already (then None). Made by the command before the server's interpreter starts:
    prometheus-client picks its mode when it is imported, and the admin's modules may import it."""
    if os.environ.get(METRICS_DIR_ENV):
        return None
    directory = tempfile.mkdtemp(prefix='zato-outconn-metrics-')
    os.environ[METRICS_DIR_ENV] = directory
    return directory


class AdminServer(BaseApplication):
    """gunicorn, configured here rather than by its command line or a file."""

    def __init__(self, settings: dict[str, Any], app_config: dict[str, Any]) -> None:
        self._settings = settings
        self._app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._settings.items():
            # Settings an older gunicorn does not have (its control socket) are left out.
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from zato_outconn.admin import create_app

        return create_app(self._app_config)


def main(raw_options: str) -> None:
    options = ServeOptions(**json.loads(raw_options))
    try:
        try:
            prepared = prepare(options)
        except OutconnError as error:
            print(f'error: {error}', file=sys.stderr)
            sys.exit(1)
        for line in prepared.lines:
            print(line, flush=True)
        AdminServer(gunicorn_settings(options), prepared.app_config).run()
    finally:
        if options.metrics_dir:
            shutil.rmtree(options.metrics_dir, ignore_errors=True)
