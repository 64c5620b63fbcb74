"""Schema migrations through Alembic: upgrade, downgrade and the up-to-date check.

The check, which every store runs when it opens, reads the revisions without importing Alembic:
a command that only reads (a list, say) would otherwise spend a good part of its run loading it.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from zato_outconn.exceptions import SchemaError
from zato_outconn.store.engine import shown_url

if TYPE_CHECKING:
    from alembic.config import Config

# The table Alembic keeps the database's revision in (its default, which migrations/env.py keeps).
VERSION_TABLE = 'alembic_version'
# How a revision file names itself and the one it follows: revision = '0007', down_revision = '0006'.
_REVISION = re.compile(r"^(revision|down_revision)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|(None))\s*$", re.MULTILINE)


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
    from alembic.config import Config

    config = Config()
    config.set_main_option('script_location', str(migrations_folder()))
    if engine is not None:
        config.attributes['engine'] = engine
    return config


def upgrade(engine: Engine, revision: str = 'head') -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = 'base') -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def head_revision() -> str | None:
    """The newest revision: the one that no other follows, read from the revision files' own lines.

    Revisions that do not form one line (branches, merges, a file not written as Alembic writes
    them) are left to Alembic itself.
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (migrations_folder() / 'versions').glob('[!_]*.py'):
        names = {match[1]: match[2] or match[3] or None for match in _REVISION.finditer(path.read_text('utf-8'))}
        if 'revision' not in names or 'down_revision' not in names or names['revision'] is None:
            return _alembic_head()
        revisions.add(names['revision'])
        if names['down_revision'] is not None:
            followed.add(names['down_revision'])
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 and followed <= revisions else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database with no schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f'SELECT version_num FROM {VERSION_TABLE}')).scalar()


def check_current(engine: Engine) -> None:
    """Raise SchemaError, saying what to run, unless the database is at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    target = shown_url(engine.url)
    if current is None:
        raise SchemaError(f'The database {target} has no zato-outconn schema yet; '
                          f'run: zato-outconn --db {target} db upgrade')
    raise SchemaError(f'The database {target} is at schema revision {current}, this version needs {head}; '
                      f'run: zato-outconn --db {target} db upgrade')
