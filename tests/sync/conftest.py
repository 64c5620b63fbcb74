"""Fixtures of the change-feed and follow tests: a subscriber, and a PostgreSQL cluster to restart.

``store`` and ``db_url`` come from ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from zato_outconn import Store
from zato_outconn.store.secret_box import KEYS_ENV
from zato_outconn.sync.changes import Change


@pytest.fixture
def changes(store: Store) -> list[Change]:
    seen: list[Change] = []
    store.subscribe(seen.append)
    return seen


class OwnPostgres:
    """A PostgreSQL cluster of one test's own, on a free port, that the test may stop and start.

    The shared server on 5432 is never touched. As root, the cluster runs as the postgres user,
    which initdb and postgres insist on.
    """

    def __init__(self) -> None:
        binaries = sorted(Path('/usr/lib/postgresql').glob('*/bin/pg_ctl'))
        found = shutil.which('pg_ctl')
        pg_ctl = Path(found) if found else (binaries[-1] if binaries else None)
        if pg_ctl is None:
            pytest.fail('pg_ctl and initdb are needed for the tests that restart a database', pytrace=False)
        self._bin = pg_ctl.parent
        self.folder = Path(tempfile.mkdtemp(prefix='zato-outconn-pg-'))
        self._as = ['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, 'postgres')
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            self.port = probe.getsockname()[1]
        self._run('initdb', '-D', str(self.folder / 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync')
        self.url = f'postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres'

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self._bin / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run('pg_ctl', '-D', str(self.folder / 'data'), '-l', str(self.folder / 'log'), '-w', '-o',
                  f'-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off', 'start')

    def stop(self) -> None:
        self._run('pg_ctl', '-D', str(self.folder / 'data'), '-m', 'fast', '-w', 'stop')

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # stopped already
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnPostgres]:
    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    cluster = OwnPostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
