"""The rows of ``zato-outconn outconn list``, read with SQLAlchemy Core alone.

A list of a thousand templates spent most of its run importing what it then hardly used: the
ORM, the tables as ORM models and the config models, and building a config per row. The table
the command prints needs six columns, so this reads those six as plain rows, over a Core
engine, with nothing else of the store imported.

It is a shortcut for the usual case only: a database it cannot read as it is (a file that is
missing or no file, a schema not at the head revision, any database error) returns None, and the
caller asks the ``Store``, which says what is wrong and what to do in the store's own words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Integer, String, column, select, table
from sqlalchemy.exc import SQLAlchemyError

from zato_outconn.exceptions import OutconnError
from zato_outconn.store.engine import create_db_engine, normalise_url, sqlite_path
from zato_outconn.store.schema import check_current

# Only the columns the list prints; the names are the tables' own (a test compares them).
_OUTCONNS = table('outgoing_connection', column('id', Integer), column('name', String),
                  column('transport', String), column('host', String), column('url_path', String),
                  column('security_id', Integer), column('is_active', Boolean), column('version', Integer))
_DEFINITIONS = table('security_definition', column('id', Integer), column('name', String))

# NAME, TRANSPORT, ADDRESS, SECURITY, ACTIVE, VERSION: what each row holds, in that order.
ListedRow = tuple[str, str, str, str | None, bool, int]


def outconn_rows(db_url: str, transport: str | None = None) -> list[ListedRow] | None:
    """The list's rows, by transport then name (as ``Store.list_outconns``), or None when the
    database is not one this shortcut reads (the store then tells why)."""
    try:
        url = normalise_url(db_url)
    except (SQLAlchemyError, ValueError):
        return None
    path = sqlite_path(url)
    if url.get_backend_name() == 'sqlite' and (path is None or not os.path.isfile(path)):
        # A missing file would be created empty by SQLite; an in-memory database holds nothing.
        return None
    try:
        engine = create_db_engine(db_url)
    except (OutconnError, SQLAlchemyError, ValueError):
        return None
    try:
        check_current(engine)
        with engine.connect() as connection:
            rows: Sequence[Any] = connection.execute(_query(transport)).all()
    except (OutconnError, SQLAlchemyError):
        return None
    finally:
        engine.dispose()
    return [(name, kind, host + url_path, security, bool(active), version)
            for name, kind, host, url_path, security, active, version in rows]


def _query(transport: str | None) -> Any:
    outconns, definitions = _OUTCONNS.c, _DEFINITIONS.c
    query = (select(outconns.name, outconns.transport, outconns.host, outconns.url_path, definitions.name,
                    outconns.is_active, outconns.version)
             .select_from(_OUTCONNS.outerjoin(_DEFINITIONS, outconns.security_id == definitions.id))
             .order_by(outconns.transport, outconns.name))
    if transport is not None:
        query = query.where(outconns.transport == transport)
    return query
