"""Security definitions in the store: create, edit, set a secret, roll back, rotate keys, read, delete."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zato_outconn.config import ENCRYPTED_SETTINGS, MASK, SECRET_SETTINGS, SecurityConfig, SecurityView
from zato_outconn.config.security import PUBLIC_SETTINGS, describe_certificate
from zato_outconn.exceptions import ConfigError, InUse, NotFound, SecretsError
from zato_outconn.store.history import History, diff, edit_action
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition, utc_now
from zato_outconn.store.records import SecurityRecord, utc
from zato_outconn.sync.changes import Change

logger = logging.getLogger('zato_outconn.store')


class SecurityDefinitions(History):
    """The security definitions of one database; secrets are encrypted before they are written."""

    def create_security(self, config: SecurityConfig) -> SecurityRecord:
        with self._transaction() as session:
            row = self._create_security_in(session, config)
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
            updated = self._edit_security_in(session, row, changes)
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', updated.name, old_name=name))
        return record

    def rollback_security(self, name: str, version: int) -> SecurityRecord:
        """A new version whose settings are those of ``version``; secrets stay as they are now."""
        with self._transaction() as session:
            row = self._security_row(session, name)
            entry = self._entry_of(session, 'security', row.id, version)
            if entry is None:
                raise ConfigError('version', f'{name!r} has no version {version}; its versions are 1 to '
                                             f'{row.version}: see its history')
            updated = self._edit_security_in(session, row, json.loads(entry.settings), action='rollback')
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', updated.name, old_name=name))
        return record

    def set_secret(self, name: str, secret: str, *, setting: str = 'secret') -> SecurityRecord:
        """Change only one secret of a definition: by default its password, key, token or private key."""
        if setting not in SECRET_SETTINGS:
            raise ConfigError('setting', f'must be one of {", ".join(SECRET_SETTINGS)}; got {setting!r}')
        if not secret_given(secret):
            raise ConfigError(setting, 'must not be empty or the mask that stands in for a stored secret')
        with self._transaction() as session:
            row = self._security_row(session, name)
            config = self._security_config(row, {**self._decrypted(row, tolerant=True), setting: secret})
            self._encrypt_into(row, config, [setting])
            row.updated_at = utc_now()
            session.flush()
            self._record_security(session, row, 'edit', diff({}, {}, [setting]), public_settings(config))
            record = self._security_record(session, row)
        self._notify(Change('security', 'edit', name, old_name=name))
        return record

    # ------------------------------------------------------------------ writes in a session

    def _create_security_in(self, session: Session, config: SecurityConfig) -> SecurityDefinition:
        now = utc_now()
        duplicate = f'a security definition named {config.name!r} already exists'
        if session.scalar(select(SecurityDefinition.id).where(SecurityDefinition.name == config.name)):
            raise ConfigError('name', duplicate)
        row = SecurityDefinition(**self._new_security_columns(config), created_at=now, updated_at=now)
        session.add(row)
        self._flush_unique(session, 'name', duplicate)
        self._record_security(session, row, 'create', *created_security(config))
        return row

    def _new_security_columns(self, config: SecurityConfig) -> dict[str, Any]:
        """The columns of a new definition's row but its times: plain settings, and secrets encrypted."""
        return {**public_settings(config), **self._encrypted(config, ENCRYPTED_SETTINGS)}

    def _edit_security_in(self, session: Session, row: SecurityDefinition, changes: Mapping[str, Any],
                          action: str | None = None) -> SecurityConfig:
        name = row.name
        if 'sec_type' in changes and changes['sec_type'] != row.sec_type:
            raise ConfigError('sec_type', SEC_TYPE_FIXED)
        # Validated with the stored secrets in place, so that a new certificate is checked against
        # the stored key; a secret that no longer decrypts can still be replaced.
        # An empty secret in the changes, as a form left blank sends, keeps the stored one, and so
        # does the mask a form or an export shows in its place.
        replaced = [setting for setting in ENCRYPTED_SETTINGS if secret_given(changes.get(setting))]
        changes = {key: value for key, value in changes.items()
                   if key not in ENCRYPTED_SETTINGS or key in replaced}
        stored = self._decrypted(row, tolerant=True)
        if 'secret' in replaced and 'key_password' not in replaced and stored.get('key_password'):
            # A key password belongs to the key it opens: a new key given without one has none.
            # Kept, it would make an unencrypted new key fail validation, with no way to clear it.
            changes = {**changes, 'key_password': None}
            replaced.append('key_password')
        before = public_settings(row)
        # Validated once, as it will be stored: the old key without its password would not pass.
        updated = self._security_config(row, {**stored, **changes})
        duplicate = f'a security definition named {updated.name!r} already exists'
        if updated.name != name and session.scalar(
                select(SecurityDefinition.id).where(SecurityDefinition.name == updated.name)):
            raise ConfigError('name', duplicate)
        for column in PUBLIC_SETTINGS:
            setattr(row, column, getattr(updated, column))
        self._encrypt_into(row, updated, replaced)
        row.updated_at = utc_now()
        self._flush_unique(session, 'name', duplicate)
        settings = public_settings(updated)
        changed = diff(before, settings, replaced)
        self._record_security(session, row, action or edit_action(changed), changed, settings)
        return updated

    def _record_security(self, session: Session, row: SecurityDefinition, action: str, changes: dict[str, Any],
                         settings: dict[str, Any], version: int | None = None) -> None:
        self._record_change(session, kind='security', object_id=row.id, name=row.name, transport=None,
                            version=version or row.version, action=action, changes=changes, settings=settings)

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
            return self._security_record(session, self._security_row(session, name))

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
            settings = public_settings(row)
            self._record_security(session, row, 'delete', {}, settings, version=row.version + 1)
            session.delete(row)
        self._notify(Change('security', 'delete', name))

    # ------------------------------------------------------------------ secrets

    def _decrypted(self, row: SecurityDefinition | SimpleNamespace, *, tolerant: bool = False,
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

    def _encrypted(self, config: SecurityConfig, settings: Iterable[str]) -> dict[str, str | None]:
        """These settings of a config encrypted, as they are stored; None for what is not set, and for the
        mask that stands in for a secret (an export's, a form's): it is no secret anyone gave."""
        box = self.secret_box
        return {setting: box.encrypt(value) if secret_given(value := getattr(config, setting)) else None
                for setting in settings}

    def _encrypt_into(self, row: SecurityDefinition, config: SecurityConfig, settings: Iterable[str]) -> None:
        for setting, token in self._encrypted(config, settings).items():
            setattr(row, setting, token)

    def _decrypted_security(self, row: SecurityDefinition | SimpleNamespace) -> tuple[SecurityConfig | None,
                                                                                       str | None]:
        """The definition (its row, or the same columns as attributes) with its secrets, or None and why not."""
        try:
            return self._security_config(row, self._decrypted(row)), None
        except (SecretsError, ConfigError) as error:
            # One definition that cannot be decrypted must not stop any other connection.
            logger.error('%s', error)
            return None, str(error)

    # ------------------------------------------------------------------ rows and records

    @staticmethod
    def _security_row(session: Session, name: str) -> SecurityDefinition:
        row = session.scalar(select(SecurityDefinition).where(SecurityDefinition.name == name))
        if row is None:
            raise NotFound('security definition', name)
        return row

    @staticmethod
    def _users_of(session: Session, security_id: int) -> list[str]:
        return list(session.scalars(select(OutgoingConnection.name).where(
            OutgoingConnection.security_id == security_id).order_by(OutgoingConnection.name)))

    @staticmethod
    def _security_config(row: SecurityDefinition | SimpleNamespace, secrets: Mapping[str, Any]) -> SecurityConfig:
        """The definition's config from its row, with these settings over it (the encrypted ones in
        plain text, say)."""
        return SecurityConfig.from_input({**public_settings(row), **secrets})

    def _security_view(self, row: SecurityDefinition) -> SecurityView:
        # The certificate is no secret and is shown as its summary, but only if it decrypts.
        summary = None
        if row.client_cert is not None:
            pem = self._decrypted(row, tolerant=True, settings=['client_cert'])['client_cert']
            summary = describe_certificate(pem) if pem else 'set, but it cannot be decrypted'
        return SecurityView.of(public_settings(row),
                               set_secrets={name for name in SECRET_SETTINGS if getattr(row, name)},
                               certificate_summary=summary)

    def _security_record(self, session: Session, row: SecurityDefinition) -> SecurityRecord:
        return SecurityRecord(row.id, row.version, utc(row.created_at), utc(row.updated_at),
                              self._security_view(row), tuple(self._users_of(session, row.id)))


# What an edit that changes a definition's type is told, by the store and by an import's plan alike.
SEC_TYPE_FIXED = 'cannot be changed; create a new definition of the other type'


def created_security(config: SecurityConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a new definition's history row says: its changes (each secret set as changed) and settings."""
    settings = public_settings(config)
    return diff({}, settings, [name for name in ENCRYPTED_SETTINGS if secret_given(getattr(config, name))]), settings


def secret_given(value: str | None) -> bool:
    """Whether a secret setting holds a value to keep: not empty, and not the mask."""
    return bool(value) and value != MASK


def public_settings(definition: SecurityConfig | SecurityDefinition | SimpleNamespace) -> dict[str, Any]:
    """The settings of a definition, its config or its row, that are kept in plain text: all but the
    encrypted ones."""
    return {name: getattr(definition, name) for name in PUBLIC_SETTINGS}
