"""What every command shares: the database it works on, and the one way a command fails."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from zato_outconn.store import Store


@dataclass
class Context:
    db_url: str
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            # Imported here: a command that needs no database (or --help) loads none of the store.
            from zato_outconn.store import Store
            from zato_outconn.store.history import os_user

            self._store = Store(self.db_url)
            # History says which operating-system user changed what from the command line.
            self._store.actor = f'cli:{os_user()}'
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_context = click.make_pass_decorator(Context)


def fail(message: str) -> NoReturn:
    """One line on stderr beginning ``error:``, and exit status 1."""
    click.echo(f'error: {message}', err=True)
    sys.exit(1)


def read_file(setting: str, path: str) -> str:
    """A document given as a file (PEM, WSDL), so that it never goes on a command line."""
    try:
        with open(path, encoding='utf-8') as source:
            return source.read()
    except (OSError, UnicodeDecodeError) as error:
        fail(f'{setting}: cannot read {path}: {error}')
