"""The store: the only way templates get into and out of the database.

It validates through the typed config classes, encrypts secrets, writes in one transaction
(nothing half-written on failure), bumps versions and timestamps, and tells subscribers what
changed once the transaction has committed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from zato_outconn.config import ENCRYPTED_SETTINGS, MASK, SECRET_SETTINGS, OutconnConfig, SecurityConfig
from zato_outconn.crypto import SecretBox, load_secret_box
from zato_outconn.db import create_db_engine, resolve_db_url
from zato_outconn.exceptions import ConfigError, Conflict, InUse, NotFound, SchemaError, SecretsError
from zato_outconn.models import OutgoingConnection, SecurityDefinition, utc_now
from zato_outconn.schema import check_current
from zato_outconn.security import ENVELOPE_TYPES

logger = logging.getLogger(__name__)

# Settings stored in a column of the same name; 'security' is stored as a foreign key instead.
_OUTCONN_COLUMNS = tuple(name for name in OutconnConfig.field_names() if name != 'security')
_SECURITY_COLUMNS = tuple(name for name in SecurityConfig.field_names() if name not in ENCRYPTED_SETTINGS)


@dataclass(frozen=True)
class Change:
    """What a committed write changed; subscribers reload only what it names."""

    kind: str  # 'outconn' or 'security'
    action: str  # 'create', 'edit' or 'delete'
    name: str
    transport: str | None = None
    old_name: str | None = None


@dataclass(frozen=True)
class OutconnRecord:
    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    config: OutconnConfig

    def as_dict(self) -> dict[str, Any]:
        values = {name: getattr(self.config, name) for name in OutconnConfig.field_names()}
        return {**values, 'id': self.id, 'version': self.version,
                'created_at': self.created_at.isoformat(), 'updated_at': self.updated_at.isoformat()}


@dataclass(frozen=True)
class SecurityRecord:
    """A security definition as people may see it: the secret is only ever 'set' or not."""

    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    config: SecurityConfig = field(repr=False)
    used_by: tuple[str, ...] = ()

    @property
    def has_secret(self) -> bool:
        return bool(self.config.secret)

    def as_dict(self) -> dict[str, Any]:
        values = self.config.public()
        # Each secret only as whether it is set.
        for setting in SECRET_SETTINGS:
            values[f'{setting}_set'] = values.pop(setting) is not None
        return {**values, 'used_by': list(self.used_by), 'id': self.id,
                'version': self.version, 'created_at': self.created_at.isoformat(),
                'updated_at': self.updated_at.isoformat()}


@dataclass(frozen=True)
class Template:
    """What the registry needs to build one connection: its config and decrypted security."""

    config: OutconnConfig
    security: SecurityConfig | None
    # Why the connection cannot be called (a secret that does not decrypt), or None.
    problem: str | None = None


class Store:
    """Reads and writes templates in one database."""

    def __init__(self, db_url: str | None = None, *, engine: Engine | None = None,
                 check_schema: bool = True) -> None:
        self.db_url = resolve_db_url(db_url)
        if engine is None and check_schema:
            _refuse_missing_sqlite_file(self.db_url)
        self.engine = engine if engine is not None else create_db_engine(self.db_url)
        if check_schema:
            try:
                check_current(self.engine)
            except BaseException:
                # The caller never gets this store to close, so close the engine made for it here.
                if engine is None:
                    self.engine.dispose()
                raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._secret_box: SecretBox | None = None
        self._box_lock = threading.Lock()
        self._subscribers: list[Callable[[Change], None]] = []

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ change notification

    def subscribe(self, callback: Callable[[Change], None]) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[Change], None]) -> None:
        self._subscribers.remove(callback)

    def _notify(self, change: Change) -> None:
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:
                # A subscriber's failure must not undo or hide a write that has committed.
                logger.exception('Subscriber %r failed on %s', callback, change)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                with session.begin():
                    yield session
            except StaleDataError:
                raise Conflict('The row was changed by someone else since it was read; '
                               'read it again and repeat the change') from None

    # ------------------------------------------------------------------ secrets

    @property
    def secret_box(self) -> SecretBox:
        with self._box_lock:
            if self._secret_box is None:
                self._secret_box = load_secret_box(self.db_url)
            return self._secret_box

    def _decrypted(self, row: SecurityDefinition, *, tolerant: bool = False,
                   settings: Iterable[str] = ENCRYPTED_SETTINGS) -> dict[str, str | None]:
        """These encrypted settings of a row in plain text; with tolerant, None for what does not decrypt."""
        values: dict[str, str | None] = {}
        for setting in settings:
            token = getattr(row, setting)
            try:
                values[setting] = self.secret_box.decrypt(token, what=f'security definition {row.name!r}') \
                    if token is not None else None
            except SecretsError:
                if not tolerant:
                    raise
                values[setting] = None
        return values

    def _encrypt_into(self, row: SecurityDefinition, config: SecurityConfig, settings: Iterable[str]) -> None:
        for setting in settings:
            value = getattr(config, setting)
            setattr(row, setting, self.secret_box.encrypt(value) if value else None)

    # ------------------------------------------------------------------ security definitions

    def create_security(self, config: SecurityConfig) -> SecurityRecord:
        now = utc_now()
        with self._transaction() as session:
            if session.scalar(select(SecurityDefinition.id).where(SecurityDefinition.name == config.name)):
                raise ConfigError('name', f'a security definition named {config.name!r} already exists')
            row = SecurityDefinition(**{name: getattr(config, name) for name in _SECURITY_COLUMNS},
                                     created_at=now, updated_at=now)
            self._encrypt_into(row, config, ENCRYPTED_SETTINGS)
            session.add(row)
            self._flush_unique(session, 'name', f'a security definition named {config.name!r} already exists')
            record = self._security_record(session, row)
        self._notify(Change('security', 'create', config.name))
        return record

    def edit_security(self, name: str, changes: Mapping[str, Any]) -> SecurityRecord:
        """Apply changes; secrets left out of them, or left empty, are kept as they are.

        The one exception: a new private key given without a key password drops the stored password,
        which belonged to the old key.
        """
        with self._transaction() as session:
            row = self._security_row(session, name)
            if 'sec_type' in changes and changes['sec_type'] != row.sec_type:
                raise ConfigError('sec_type', 'cannot be changed; create a new definition of the other type')
            # Validated with the stored secrets in place, so that a new certificate is checked against
            # the stored key; a secret that no longer decrypts can still be replaced.
            # An empty secret in the changes, as a form left blank sends, keeps the stored one, and so
            # does the mask a form or an export shows in its place.
            replaced = [setting for setting in ENCRYPTED_SETTINGS if changes.get(setting) not in (None, '', MASK)]
            changes = {key: value for key, value in changes.items()
                       if key not in ENCRYPTED_SETTINGS or key in replaced}
            stored = self._decrypted(row, tolerant=True)
            if 'secret' in replaced and 'key_password' not in replaced and stored.get('key_password'):
                # A key password belongs to the key it opens: a new key given without one has none.
                # Kept, it would make an unencrypted new key fail validation, with no way to clear it.
                changes = {**changes, 'key_password': None}
                replaced.append('key_password')
            # Validated once, as it will be stored: the old key without its password would not pass.
            updated = self._security_config(row, {**stored, **changes})
            if updated.name != name and session.scalar(
                    select(SecurityDefinition.id).where(SecurityDefinition.name == updated.name)):
                raise ConfigError('name', f'a security definition named {updated.name!r} already exists')
            for column in _SECURITY_COLUMNS:
                setattr(row, column, getattr(updated, column))
            self._encrypt_into(row, updated, replaced)
            row.updated_at = utc_now()
            self._flush_unique(session, 'name', f'a security definition named {updated.name!r} already exists')
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', updated.name, old_name=name))
        return record

    def set_secret(self, name: str, secret: str, *, setting: str = 'secret') -> SecurityRecord:
        """Change only one secret of a definition: by default its password, key, token or private key."""
        if setting not in SECRET_SETTINGS:
            raise ConfigError('setting', f'must be one of {", ".join(SECRET_SETTINGS)}; got {setting!r}')
        if not secret or secret == MASK:
            raise ConfigError(setting, 'must not be empty or the mask that stands in for a stored secret')
        with self._transaction() as session:
            row = self._security_row(session, name)
            config = self._security_config(row, {**self._decrypted(row, tolerant=True), setting: secret})
            self._encrypt_into(row, config, [setting])
            row.updated_at = utc_now()
            session.flush()
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', name, old_name=name))
        return record

    def rotate_secrets(self) -> int:
        """Re-encrypt every secret under the first key, in one transaction; how many were re-encrypted.

        If any secret does not decrypt with the keys given, nothing is changed.
        """
        box = self.secret_box
        count = 0
        with self._transaction() as session:
            for row in session.scalars(select(SecurityDefinition).order_by(SecurityDefinition.name)):
                for setting in ENCRYPTED_SETTINGS:
                    token = getattr(row, setting)
                    if token is not None:
                        setattr(row, setting, box.rotate(token, what=f'security definition {row.name!r}'))
                        count += 1
        logger.info('Re-encrypted %d secrets under the first key', count)
        return count

    def get_security(self, name: str) -> SecurityRecord:
        with self._sessions() as session:
            row = self._security_row(session, name)
            return self._security_record(session, row)

    def list_security(self) -> list[SecurityRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(SecurityDefinition).order_by(SecurityDefinition.name)).all()
            return [self._security_record(session, row) for row in rows]

    def delete_security(self, name: str) -> None:
        with self._transaction() as session:
            row = self._security_row(session, name)
            users = self._users_of(session, row.id)
            if users:
                raise InUse(name, users)
            session.delete(row)
        self._notify(Change('security', 'delete', name))

    # ------------------------------------------------------------------ outgoing connections

    def create_outconn(self, config: OutconnConfig) -> OutconnRecord:
        now = utc_now()
        duplicate = f'a {config.transport} connection named {config.name!r} already exists'
        with self._transaction() as session:
            if self._find_outconn_row(session, config.transport, config.name) is not None:
                raise ConfigError('name', duplicate)
            row = OutgoingConnection(**{name: getattr(config, name) for name in _OUTCONN_COLUMNS},
                                     security=self._security_for(session, config),
                                     created_at=now, updated_at=now)
            session.add(row)
            self._flush_unique(session, 'name', duplicate)
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'create', config.name, config.transport))
        return record

    def edit_outconn(self, transport: str, name: str, changes: Mapping[str, Any]) -> OutconnRecord:
        with self._transaction() as session:
            row = self._outconn_row(session, transport, name)
            if 'transport' in changes and changes['transport'] != transport:
                raise ConfigError('transport', 'cannot be changed; create a new connection of the other transport')
            updated = self._outconn_config(row).with_changes(changes)
            duplicate = f'a {transport} connection named {updated.name!r} already exists'
            if updated.name != name and self._find_outconn_row(session, transport, updated.name) is not None:
                raise ConfigError('name', duplicate)
            # Looked up before any column changes: the query would flush them as an UPDATE of its own.
            security = self._security_for(session, updated)
            for column in _OUTCONN_COLUMNS:
                setattr(row, column, getattr(updated, column))
            row.security = security
            row.updated_at = utc_now()
            self._flush_unique(session, 'name', duplicate)
            record = self._outconn_record(row)
        self._notify(Change('outconn', 'edit', updated.name, transport, old_name=name))
        return record

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
        with self._sessions() as session:
            query = select(OutgoingConnection).order_by(OutgoingConnection.transport, OutgoingConnection.name)
            if transport is not None:
                query = query.where(OutgoingConnection.transport == transport)
            return [self._outconn_record(row) for row in session.scalars(query).unique()]

    def delete_outconn(self, transport: str, name: str) -> None:
        with self._transaction() as session:
            session.delete(self._outconn_row(session, transport, name))
        self._notify(Change('outconn', 'delete', name, transport))

    # ------------------------------------------------------------------ what the registry loads

    def load_templates(self, *, transport: str | None = None, name: str | None = None,
                       security: str | None = None) -> list[Template]:
        """Templates with decrypted security, optionally only those of one name or one definition."""
        with self._sessions() as session:
            query = select(OutgoingConnection)
            if transport is not None:
                query = query.where(OutgoingConnection.transport == transport)
            if name is not None:
                query = query.where(OutgoingConnection.name == name)
            if security is not None:
                query = query.join(OutgoingConnection.security).where(SecurityDefinition.name == security)
            rows = session.scalars(query).unique().all()
            securities: dict[int, tuple[SecurityConfig, str | None]] = {}
            templates = []
            for row in rows:
                security_config, problem = None, None
                if row.security is not None:
                    if row.security.id not in securities:
                        securities[row.security.id] = self._decrypted_security(row.security)
                    security_config, problem = securities[row.security.id]
                templates.append(Template(self._outconn_config(row), security_config, problem))
            return templates

    def _decrypted_security(self, row: SecurityDefinition) -> tuple[SecurityConfig, str | None]:
        try:
            values = self._decrypted(row)
        except SecretsError as error:
            # One definition that cannot be decrypted must not stop every other connection loading.
            logger.error('%s', error)
            return self._public_security_config(row), str(error)
        return self._security_config(row, values), None

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _flush_unique(session: Session, field_name: str, message: str) -> None:
        # The check before the write gives the clear message; this catches a concurrent writer.
        try:
            session.flush()
        except IntegrityError:
            raise ConfigError(field_name, message) from None

    @staticmethod
    def _security_row(session: Session, name: str) -> SecurityDefinition:
        row = session.scalar(select(SecurityDefinition).where(SecurityDefinition.name == name))
        if row is None:
            raise NotFound('security definition', name)
        return row

    @staticmethod
    def _security_for(session: Session, config: OutconnConfig) -> SecurityDefinition | None:
        name = config.security
        if name is None:
            return None
        row = session.scalar(select(SecurityDefinition).where(SecurityDefinition.name == name))
        if row is None:
            raise ConfigError('security', f'there is no security definition named {name!r}; create it first '
                                          'with: zato-outconn security create')
        if row.sec_type in ENVELOPE_TYPES and config.transport != 'soap':
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
    def _users_of(session: Session, security_id: int) -> list[str]:
        return list(session.scalars(select(OutgoingConnection.name).where(
            OutgoingConnection.security_id == security_id).order_by(OutgoingConnection.name)))

    @staticmethod
    def _security_config(row: SecurityDefinition, overrides: Mapping[str, Any]) -> SecurityConfig:
        """The definition's config from its row, with these settings over it (such as the encrypted
        ones in plain text, masked or None)."""
        return SecurityConfig.from_input(
            {**{column: getattr(row, column) for column in _SECURITY_COLUMNS}, **overrides})

    def _public_security_config(self, row: SecurityDefinition) -> SecurityConfig:
        # Secrets stand in as a mask, saying only that one is set; the certificate is no secret and
        # is shown as its summary, but only if it decrypts.
        values: dict[str, str | None] = {setting: MASK if getattr(row, setting) else None
                                         for setting in ENCRYPTED_SETTINGS}
        if row.client_cert is not None:
            values['client_cert'] = self._decrypted(row, tolerant=True, settings=['client_cert'])['client_cert'] \
                or MASK
        return self._security_config(row, values)

    def _security_record(self, session: Session, row: SecurityDefinition) -> SecurityRecord:
        return SecurityRecord(row.id, row.version, _utc(row.created_at), _utc(row.updated_at),
                              self._public_security_config(row), tuple(self._users_of(session, row.id)))

    @staticmethod
    def _outconn_config(row: OutgoingConnection) -> OutconnConfig:
        values = {name: getattr(row, name) for name in _OUTCONN_COLUMNS}
        return OutconnConfig(**values, security=row.security.name if row.security is not None else None)

    def _outconn_record(self, row: OutgoingConnection) -> OutconnRecord:
        return OutconnRecord(row.id, row.version, _utc(row.created_at), _utc(row.updated_at),
                             self._outconn_config(row))


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were written in UTC.
    # PostgreSQL hands them back in the session's time zone, which need not be UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _refuse_missing_sqlite_file(db_url: str) -> None:
    """Opening a missing SQLite file would create an empty one; say what to run instead."""
    url = make_url(db_url)
    if url.get_backend_name() == 'sqlite' and url.database not in (None, '', ':memory:') \
            and not os.path.exists(url.database):
        raise SchemaError(f'The database file {url.database} does not exist; '
                          f'create it with: zato-outconn --db {db_url} db upgrade')
