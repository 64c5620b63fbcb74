"""What an HTTP API asks of the store beyond the command line: rows by id, filtered and sorted pages,
and edits that hold only if the row is still at the version the caller read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zato_outconn.exceptions import Conflict, NotFound
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition
from zato_outconn.store.outconns import Outconns
from zato_outconn.store.records import OutconnRecord, SecurityRecord
from zato_outconn.sync.changes import Change

# What a page of connections can be sorted by; '-' before one sorts it descending.
SORT_KEYS = ('name', 'transport', 'host', 'is_active', 'created_at', 'updated_at', 'version')


class Queries(Outconns):
    """Lookups by id, pages of connections, and version-checked edits."""

    def outconn_by_id(self, outconn_id: int) -> OutconnRecord:
        with self._sessions() as session:
            return self._outconn_record(self._outconn_row_by_id(session, outconn_id))

    def security_by_id(self, security_id: int) -> SecurityRecord:
        with self._sessions() as session:
            return self._security_record(session, self._security_row_by_id(session, security_id))

    def outconn_name_taken(self, transport: str, name: str) -> bool:
        with self._sessions() as session:
            return self._find_outconn_row(session, transport, name) is not None

    def security_name_taken(self, name: str) -> bool:
        with self._sessions() as session:
            return session.scalar(select(SecurityDefinition.id).where(SecurityDefinition.name == name)) is not None

    def outconn_page(self, *, transport: str | None = None, q: str | None = None, is_active: bool | None = None,
                     security: str | None = None, sort: str = 'name', limit: int = 100,
                     offset: int = 0) -> tuple[list[OutconnRecord], int]:
        """One page of the connections that match, and how many match in all.

        ``q`` matches part of the name, host or path, in any case; ``security`` is a definition's name.
        """
        query: Select[Any] = select(OutgoingConnection)
        if transport is not None:
            query = query.where(OutgoingConnection.transport == transport)
        if is_active is not None:
            query = query.where(OutgoingConnection.is_active == is_active)
        if security is not None:
            query = query.join(OutgoingConnection.security).where(SecurityDefinition.name == security)
        if q:
            needle = q.lower()
            query = query.where(or_(*(func.lower(column).contains(needle, autoescape=True) for column in (
                OutgoingConnection.name, OutgoingConnection.host, OutgoingConnection.url_path))))
        key = sort.removeprefix('-')
        if key not in SORT_KEYS:
            raise ValueError(f'sort must be one of {", ".join(SORT_KEYS)}, with - before it to sort descending')
        column = getattr(OutgoingConnection, key)
        # The id last, so that pages of rows with equal keys never overlap or skip a row.
        order = (column.desc(), OutgoingConnection.id.desc()) if sort.startswith('-') else \
            (column, OutgoingConnection.id)
        with self._sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
            rows = session.scalars(query.order_by(*order).limit(limit).offset(offset)).unique()
            return [self._outconn_record(row) for row in rows], total

    def edit_outconn_by_id(self, outconn_id: int, changes: Mapping[str, Any], *,
                           expected_version: int | None = None) -> OutconnRecord:
        """Apply changes to the connection of this id; with expected_version, only if it is still at it.

        A connection at another version raises Conflict, and nothing is written.
        """
        with self._transaction() as session:
            row = self._outconn_row_by_id(session, outconn_id)
            _check_version(f'The {row.transport} connection {row.name!r}', row.version, expected_version)
            old_name = row.name
            updated = self._edit_outconn_in(session, row, changes)
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'edit', updated.name, updated.transport, old_name=old_name))
        return record

    def edit_security_by_id(self, security_id: int, changes: Mapping[str, Any], *,
                            expected_version: int | None = None) -> SecurityRecord:
        """Apply changes to the definition of this id (secrets left out are kept); with expected_version,
        only if it is still at it, else Conflict."""
        with self._transaction() as session:
            row = self._security_row_by_id(session, security_id)
            _check_version(f'The security definition {row.name!r}', row.version, expected_version)
            old_name = row.name
            updated = self._edit_security_in(session, row, changes)
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', updated.name, old_name=old_name))
        return record

    @staticmethod
    def _outconn_row_by_id(session: Session, outconn_id: int) -> OutgoingConnection:
        row = session.get(OutgoingConnection, outconn_id)
        if row is None:
            raise NotFound('outgoing connection with id', str(outconn_id))
        return row

    @staticmethod
    def _security_row_by_id(session: Session, security_id: int) -> SecurityDefinition:
        row = session.get(SecurityDefinition, security_id)
        if row is None:
            raise NotFound('security definition with id', str(security_id))
        return row


def _check_version(what: str, version: int, expected: int | None) -> None:
    if expected is not None and version != expected:
        raise Conflict(f'{what} is at version {version}, not {expected}: it was changed since it was read; '
                       'read it again and repeat the change')
