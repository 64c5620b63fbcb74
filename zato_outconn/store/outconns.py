"""Outgoing connections in the store: create, edit, roll back, find, list, delete, and load for the registry."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zato_outconn.config import ENCRYPTED_SETTINGS, SECURITY_TYPES, OutconnConfig, SecurityConfig
from zato_outconn.config.security import PUBLIC_SETTINGS
from zato_outconn.exceptions import ConfigError, NotFound
from zato_outconn.store.history import HistoryRecord, diff, edit_action
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition, utc_now
from zato_outconn.store.records import LazySecurity, OutconnRecord, Template, utc
from zato_outconn.store.security_defs import SecurityDefinitions
from zato_outconn.sync.changes import Change

# Settings stored in a column of the same name; 'security' is stored as a foreign key instead.
OUTCONN_COLUMNS = tuple(name for name in OutconnConfig.model_fields if name != 'security')


class Outconns(SecurityDefinitions):
    """The outgoing connections of one database, each pointing at a security definition or none."""

    def create_outconn(self, config: OutconnConfig) -> OutconnRecord:
        with self._transaction() as session:
            row = self._create_outconn_in(session, config)
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'create', config.name, config.transport))
        return record

    def edit_outconn(self, transport: str, name: str, changes: Mapping[str, Any]) -> OutconnRecord:
        with self._transaction() as session:
            row = self._outconn_row(session, transport, name)
            updated = self._edit_outconn_in(session, row, changes)
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'edit', updated.name, transport, old_name=name))
        return record

    def rollback_outconn(self, transport: str, name: str, version: int) -> OutconnRecord:
        """A new version whose settings are those of ``version``.

        Refused, naming the cause, when that version used a security definition that is gone.
        """
        with self._transaction() as session:
            row = self._outconn_row(session, transport, name)
            entry = self._entry_of(session, 'outconn', row.id, version)
            if entry is None or entry.action == 'delete':
                raise ConfigError('version', f'{name!r} has no version {version}; its versions are 1 to '
                                             f'{row.version}: see zato-outconn outconn history {name!r}')
            settings = json.loads(entry.settings)
            security = settings.get('security')
            if security is not None and session.scalar(
                    select(SecurityDefinition.id).where(SecurityDefinition.name == security)) is None:
                raise ConfigError('version', f'version {version} of {name!r} uses the security definition '
                                             f'{security!r}, which no longer exists; create it again first, or '
                                             'roll back to another version')
            updated = self._edit_outconn_in(session, row, settings, action='rollback')
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'edit', updated.name, transport, old_name=name))
        return record

    def outconn_history(self, name: str, transport: str | None = None, *, deleted: bool = False) -> list[HistoryRecord]:
        """Every version of a connection, oldest first; with deleted, of the one of that name deleted last."""
        if deleted:
            return self.history('outconn', self.deleted_object_id('outconn', name, transport))
        return self.history('outconn', self.find_outconn(name, transport).id)

    # ------------------------------------------------------------------ writes in a session

    def _create_outconn_in(self, session: Session, config: OutconnConfig) -> OutgoingConnection:
        now = utc_now()
        duplicate = f'a {config.transport} connection named {config.name!r} already exists'
        if self._find_outconn_row(session, config.transport, config.name) is not None:
            raise ConfigError('name', duplicate)
        row = OutgoingConnection(**outconn_columns(config), security=self._security_for(session, config),
                                 created_at=now, updated_at=now)
        session.add(row)
        self._flush_unique(session, 'name', duplicate)
        settings = dict(config)
        self._record_outconn(session, row, 'create', diff({}, settings), settings)
        return row

    def _edit_outconn_in(self, session: Session, row: OutgoingConnection, changes: Mapping[str, Any],
                         action: str | None = None) -> OutconnConfig:
        transport, name = row.transport, row.name
        if 'transport' in changes and changes['transport'] != transport:
            raise ConfigError('transport', 'cannot be changed; create a new connection of the other transport')
        before = self._outconn_config(row)
        updated = before.with_changes(changes)
        duplicate = f'a {transport} connection named {updated.name!r} already exists'
        if updated.name != name and self._find_outconn_row(session, transport, updated.name) is not None:
            raise ConfigError('name', duplicate)
        # Looked up before any column changes: the query would flush them as an UPDATE of its own.
        security = self._security_for(session, updated)
        for column in OUTCONN_COLUMNS:
            setattr(row, column, getattr(updated, column))
        row.security = security
        row.updated_at = utc_now()
        self._flush_unique(session, 'name', duplicate)
        settings = dict(updated)
        changed = diff(dict(before), settings)
        self._record_outconn(session, row, action or edit_action(changed), changed, settings)
        return updated

    def _record_outconn(self, session: Session, row: OutgoingConnection, action: str, changes: dict[str, Any],
                        settings: dict[str, Any], version: int | None = None) -> None:
        self._record_change(session, kind='outconn', object_id=row.id, name=row.name, transport=row.transport,
                            version=version or row.version, action=action, changes=changes, settings=settings)

    def get_outconn(self, transport: str, name: str) -> OutconnRecord:
        with self._sessions() as session:
            return self._outconn_record(self._outconn_row(session, transport, name))

    def find_outconn(self, name: str, transport: str | None = None) -> OutconnRecord:
        """The connection of this name; the transport is needed only when both have one so named."""
        if transport is not None:
            return self.get_outconn(transport, name)
        with self._sessions() as session:
            rows = session.scalars(select(OutgoingConnection).where(OutgoingConnection.name == name)).all()
            if not rows:
                raise NotFound('outgoing connection', name)
            if len(rows) > 1:
                raise ConfigError('transport', f'both a plain_http and a soap connection are named {name!r}; '
                                               'say which with --transport')
            return self._outconn_record(rows[0])

    def list_outconns(self, transport: str | None = None) -> list[OutconnRecord]:
        query = _stored_outconns().order_by(_OUTCONNS.c.transport, _OUTCONNS.c.name)
        if transport is not None:
            query = query.where(_OUTCONNS.c.transport == transport)
        with self._sessions() as session:
            return [OutconnRecord(row[_ID_AT], row[_ID_AT + 1], utc(row[_EXTRA_AT]), utc(row[_EXTRA_AT + 1]),
                                  _stored_config(row)) for row in session.execute(query)]

    def delete_outconn(self, transport: str, name: str) -> None:
        with self._transaction() as session:
            row = self._outconn_row(session, transport, name)
            self._record_outconn(session, row, 'delete', {}, dict(self._outconn_config(row)), version=row.version + 1)
            session.delete(row)
        self._notify(Change('outconn', 'delete', name, transport))

    def load_templates(self, *, transport: str | None = None, name: str | None = None, security: str | None = None,
                       ids: Collection[int] | None = None,
                       security_ids: Collection[int] | None = None) -> list[Template]:
        """Templates whose security is decrypted on first use, optionally only those of one name or one
        definition, or those of these ids or using these definitions.

        One query reads the connections and their definitions together; each definition's secrets
        are decrypted when a connection that uses it first asks for them (see LazySecurity), and a
        definition that cannot be decrypted marks only the connections that use it.
        """
        for key, wanted in (('ids', ids), ('security_ids', security_ids)):
            if wanted is not None and len(wanted) > _IDS_PER_QUERY:
                # A follower catching up on a large import asks for that many ids: a bounded number
                # to a query, as databases limit the parameters of one statement.
                ordered = sorted(wanted)
                given: dict[str, Any] = {'transport': transport, 'name': name, 'security': security, 'ids': ids,
                                         'security_ids': security_ids}
                return [template for start in range(0, len(ordered), _IDS_PER_QUERY) for template in
                        self.load_templates(**{**given, key: ordered[start:start + _IDS_PER_QUERY]})]
        query = _stored_outconns(with_security=True)
        if ids is not None:
            query = query.where(_OUTCONNS.c.id.in_(list(ids)))
        if security_ids is not None:
            query = query.where(_OUTCONNS.c.security_id.in_(list(security_ids)))
        if transport is not None:
            query = query.where(_OUTCONNS.c.transport == transport)
        if name is not None:
            query = query.where(_OUTCONNS.c.name == name)
        if security is not None:
            query = query.where(_DEFINITIONS.c.name == security)
        with self._sessions() as session:
            rows = session.execute(query).all()
        securities: dict[int, LazySecurity] = {}
        templates = []
        for row in rows:
            lazy = None
            security_id = row[_SECURITY_ID_AT]
            if security_id is not None:
                lazy = securities.get(security_id)
                if lazy is None:
                    lazy = securities[security_id] = LazySecurity(partial(self._stored_security, row[_EXTRA_AT:]))
            templates.append(Template(_stored_config(row), id=row[_ID_AT], version=row[_ID_AT + 1], lazy=lazy))
        return templates

    def _stored_security(self, columns: Sequence[Any]) -> tuple[SecurityConfig | None, str | None]:
        """A definition's security from its columns (in _DEFINITION_NAMES order), as a template first asks."""
        return self._decrypted_security(SimpleNamespace(**dict(zip(_DEFINITION_NAMES, columns, strict=True))))

    # ------------------------------------------------------------------ rows and records

    @staticmethod
    def _security_for(session: Session, config: OutconnConfig) -> SecurityDefinition | None:
        name = config.security
        if name is None:
            return None
        row = session.scalar(select(SecurityDefinition).where(SecurityDefinition.name == name))
        if row is None:
            raise ConfigError('security', f'there is no security definition named {name!r}; create it first '
                                          'with: zato-outconn security create')
        if SECURITY_TYPES[row.sec_type].in_envelope and config.transport != 'soap':
            raise ConfigError('security', f'{name!r} is a {row.sec_type} definition, which goes into SOAP '
                                          'envelopes; use it with soap connections only')
        return row

    @staticmethod
    def _find_outconn_row(session: Session, transport: str, name: str) -> OutgoingConnection | None:
        return session.scalar(select(OutgoingConnection).where(
            OutgoingConnection.transport == transport, OutgoingConnection.name == name))

    def _outconn_row(self, session: Session, transport: str, name: str) -> OutgoingConnection:
        row = self._find_outconn_row(session, transport, name)
        if row is None:
            raise NotFound(f'{transport} connection', name)
        return row

    @staticmethod
    def _outconn_config(row: OutgoingConnection) -> OutconnConfig:
        values = {name: getattr(row, name) for name in OUTCONN_COLUMNS}
        values['security'] = row.security.name if row.security is not None else None
        return OutconnConfig.from_stored(values)

    def _outconn_record(self, row: OutgoingConnection) -> OutconnRecord:
        return OutconnRecord(row.id, row.version, utc(row.created_at), utc(row.updated_at), self._outconn_config(row))


def outconn_columns(config: OutconnConfig) -> dict[str, Any]:
    """The columns of a connection's row that hold its settings: all but its security's foreign key."""
    return {name: getattr(config, name) for name in OUTCONN_COLUMNS}


# ---------------------------------------------------------------------- reading many rows at once

_OUTCONNS = OutgoingConnection.__table__
_IDS_PER_QUERY = 5000
_DEFINITIONS = SecurityDefinition.__table__
# What a template's security is made from: the definition's id, settings and secrets (not its
# version or times, whose conversion every row would pay for nothing).
_DEFINITION_NAMES = ('id', *PUBLIC_SETTINGS, *ENCRYPTED_SETTINGS)
_FIELDS = tuple(OutconnConfig.model_fields)
# Where a row of _stored_outconns has the connection's id and version, then what follows them:
# created_at and updated_at, or (with_security) the definition's columns in _DEFINITION_NAMES order.
_ID_AT = len(_FIELDS)
_EXTRA_AT = _ID_AT + 2
_SECURITY_ID_AT = _EXTRA_AT + _DEFINITION_NAMES.index('id')


def _stored_outconns(*, with_security: bool = False) -> Select[Any]:
    """Connections as plain rows, joined to their definitions: one query, and no ORM objects to build.

    Each row holds every setting in the config's field order (the definition's name as security),
    the id and the version, then the times of creation and last change, or with_security the
    definition's columns of _DEFINITION_NAMES instead (a template needs no times, costly to read).
    """
    settings = [_DEFINITIONS.c.name.label('security') if name == 'security' else _OUTCONNS.c[name] for name in _FIELDS]
    extra = [_DEFINITIONS.c[name].label(f'security_{name}') for name in _DEFINITION_NAMES] if with_security \
        else [_OUTCONNS.c.created_at, _OUTCONNS.c.updated_at]
    return (select(*settings, _OUTCONNS.c.id, _OUTCONNS.c.version, *extra)
            .select_from(_OUTCONNS.outerjoin(_DEFINITIONS, _OUTCONNS.c.security_id == _DEFINITIONS.c.id)))


def _stored_config(row: Sequence[Any]) -> OutconnConfig:
    return OutconnConfig.from_stored(dict(zip(_FIELDS, row[:_ID_AT], strict=False)))
