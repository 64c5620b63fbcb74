"""Admin users in the store: people who sign in to the admin, each with a role and a slow password hash."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zato_outconn.config.checks import check_choice, check_name
from zato_outconn.config.roles import ROLE_NAMES
from zato_outconn.exceptions import ConfigError, NotFound
from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import AdminUser, utc_now
from zato_outconn.store.records import utc

# What werkzeug hashes passwords with; its scrypt defaults are slow on purpose (tests may lower them).
PASSWORD_METHOD = 'scrypt'
MIN_PASSWORD_LENGTH = 10
ADMIN_ROLE = 'admin'

_dummy_hashes: dict[str, str] = {}


@dataclass(frozen=True)
class UserRecord:
    """An admin user as the store hands it out: never with the password or its hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    updated_at: datetime
    # Counted up whenever the user's sessions must end; part of the session id, never shown.
    session_epoch: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {'id': self.id, 'name': self.name, 'role': self.role,
                'created_at': self.created_at.isoformat(), 'updated_at': self.updated_at.isoformat()}


def check_principal(name: object, role: object) -> tuple[str, str]:
    """The name and role of a user or token, checked; the same rules for both."""
    return check_name('name', name), check_choice('role', role, ROLE_NAMES)


def check_new_password(name: str, password: object) -> str:
    # No rule repeats the password, not even its length.
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError('password', f'must be at least {MIN_PASSWORD_LENGTH} characters long; '
                                      'choose a longer one')
    if password.casefold() == name.casefold():
        raise ConfigError('password', 'must not be the user name; choose another one')
    return password


def duplicate_user(name: str) -> str:
    return f'an admin user named {name!r} already exists; choose another name'


def _hash(password: str) -> str:
    # Imported here, so that importing the store does not load werkzeug for commands that need no hash.
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=PASSWORD_METHOD)


def _matches(password_hash: str, password: str) -> bool:
    from werkzeug.security import check_password_hash

    return check_password_hash(password_hash, password)


def _dummy_hash() -> str:
    """A hash of a random password, made the way real ones are, to check against for unknown users."""
    if PASSWORD_METHOD not in _dummy_hashes:
        _dummy_hashes[PASSWORD_METHOD] = _hash(secrets.token_urlsafe(16))
    return _dummy_hashes[PASSWORD_METHOD]


class Users(StoreBase):
    """The admin users of one database; at least one admin is always left once there is one."""

    def create_user(self, name: str, role: str, password: str) -> UserRecord:
        name, role = check_principal(name, role)
        password_hash = _hash(check_new_password(name, password))
        now = utc_now()
        with self._transaction() as session:
            if session.scalar(select(AdminUser.id).where(AdminUser.name == name)):
                raise ConfigError('name', duplicate_user(name))
            row = AdminUser(name=name, role=role, password_hash=password_hash, created_at=now, updated_at=now)
            session.add(row)
            self._flush_unique(session, 'name', duplicate_user(name))
            return _user_record(row)

    def list_users(self) -> list[UserRecord]:
        with self._sessions() as session:
            return [_user_record(row) for row in session.scalars(select(AdminUser).order_by(AdminUser.name))]

    def get_user(self, name: str) -> UserRecord:
        with self._sessions() as session:
            return _user_record(_user_row(session, name))

    def delete_user(self, name: str) -> None:
        with self._transaction() as session:
            _lock_admins(session)
            row = _user_row(session, name)
            was_admin = row.role == ADMIN_ROLE
            session.delete(row)
            session.flush()
            if was_admin:
                _refuse_no_admin_left(session, 'name', f'{name!r} is the last admin and cannot be deleted; '
                                                       'make another user an admin first')

    def set_user_password(self, name: str, password: str) -> UserRecord:
        with self._sessions() as session:
            _user_row(session, name)  # an unknown name is reported before the slow hash is made
        password_hash = _hash(check_new_password(name, password))
        with self._transaction() as session:
            row = _user_row(session, name)
            row.password_hash = password_hash
            row.updated_at = utc_now()
            row.session_epoch = AdminUser.session_epoch + 1
            session.flush()
            return _user_record(row)

    def set_user_role(self, name: str, role: str) -> UserRecord:
        role = check_choice('role', role, ROLE_NAMES)
        with self._transaction() as session:
            _lock_admins(session)
            row = _user_row(session, name)
            was_admin = row.role == ADMIN_ROLE
            if row.role != role:
                row.role = role
                row.updated_at = utc_now()
                row.session_epoch = AdminUser.session_epoch + 1
            session.flush()
            if was_admin and role != ADMIN_ROLE:
                _refuse_no_admin_left(session, 'role', f'{name!r} is the last admin and cannot get another '
                                                       'role; make another user an admin first')
            return _user_record(row)

    def end_sessions(self, name: str) -> None:
        """Ends every session the user signed in with, wherever a copy of its cookie is (at logout)."""
        with self._transaction() as session:
            # Counted up in SQL, so that two logouts at once both count.
            ended = session.execute(update(AdminUser).where(AdminUser.name == name)
                                    .values(session_epoch=AdminUser.session_epoch + 1))
            if not ended.rowcount:  # type: ignore[attr-defined]
                raise NotFound('admin user', name)

    def check_password(self, name: str, password: str) -> UserRecord | None:
        """The user if the password is theirs, else None; as slow for unknown names as for known ones."""
        dummy = _dummy_hash()
        with self._sessions() as session:
            row = session.scalar(select(AdminUser).where(AdminUser.name == name))
            record = _user_record(row) if row is not None else None
            stored = row.password_hash if row is not None else dummy
        matches = _matches(stored, password)
        return record if matches and record is not None else None


def _user_row(session: Session, name: str) -> AdminUser:
    row = session.scalar(select(AdminUser).where(AdminUser.name == name))
    if row is None:
        raise NotFound('admin user', name)
    return row


def _lock_admins(session: Session) -> None:
    # Two transactions each removing a different admin would otherwise both see the other one left.
    # PostgreSQL locks the rows; SQLite ignores FOR UPDATE but lets only one writer in at a time, and
    # the count after the write (below) is taken while this transaction holds the write lock.
    session.scalars(select(AdminUser.id).where(AdminUser.role == ADMIN_ROLE).with_for_update()).all()


def _refuse_no_admin_left(session: Session, field: str, message: str) -> None:
    left = session.scalar(select(func.count()).select_from(AdminUser).where(AdminUser.role == ADMIN_ROLE))
    if not left:
        raise ConfigError(field, message)


def _user_record(row: AdminUser) -> UserRecord:
    return UserRecord(row.id, row.name, row.role, utc(row.created_at), utc(row.updated_at), row.session_epoch)
