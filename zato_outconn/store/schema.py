"""Schema migrations through Alembic: upgrade, downgrade and the up-to-date check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from zato_outconn.exceptions import SchemaError


def migrations_folder() -> Path:
    """Where the Alembic revisions are: installed as zato_outconn.migrations, or in a source checkout.

    Found without importing them, so that an uninstalled clone (tests run from the source tree)
    works as well as an installed package.
    """
    spec = importlib.util.find_spec('zato_outconn.migrations')
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parents[2] / 'migrations'


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option('script_location', str(migrations_folder()))
    if engine is not None:
        config.attributes['engine'] = engine
    return config


def upgrade(engine: Engine, revision: str = 'head') -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = 'base') -> None:
    command.downgrade(alembic_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_current(engine: Engine) -> None:
    """Raise SchemaError, saying what to run, unless the database is at the head revision."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current == head:
        return
    target = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaError(f'The database {target} has no zato-outconn schema yet; '
                          f'run: zato-outconn --db {target} db upgrade')
    raise SchemaError(f'The database {target} is at schema revision {current}, this version needs {head}; '
                      f'run: zato-outconn --db {target} db upgrade')
