"""Failed sign-ins, per user name and per client address, so that the admin can throttle guessing.

The counts live in the database, so every gunicorn worker (and every process on the database)
sees the same ones. Only failures inside the window count; rows older than it are pruned as new
ones are written. A sign-in counts as a failure from the moment it is let through to check its
password (``start_login``), and stops counting if the password is right (``login_succeeded``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import FailedLogin, utc_now
from zato_outconn.store.records import utc

# What failures are counted against: the name typed, and the address it came from.
LOGIN_KINDS = ('user', 'address')
MAX_KEY_LENGTH = 200
# Failures within the window that refuse further sign-ins for the user or address, until they age out.
DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW = 15 * 60.0
# The first half of the name of the advisory locks sign-ins take on PostgreSQL ('zoln'), so that they
# wait for no other advisory lock taken on the database.
_LOCK_CLASS = 0x7A6F6C6E


@dataclass(frozen=True)
class Lockout:
    """Sign-ins refused for now: against what ('user' or 'address'), and for how many more seconds."""

    kind: str
    seconds: float


@dataclass(frozen=True)
class PendingLogin:
    """A sign-in counted as failed from the moment it was let through (start_login) until its
    password proves right (login_succeeded): the id of its row against the address."""

    name: str
    address_row: int


class Logins(StoreBase):
    """Counts failed sign-ins and says when there have been too many.

    A sign-in is counted before its password is checked, not after: checking takes a while (the
    hash is slow on purpose), and guesses sent all at once would otherwise each find the count
    below the limit and each be checked. ``start_login`` looks and counts in one transaction, which
    takes the user's and the address's locks first; so ``limit`` guesses at most are ever checked.
    """

    def start_login(self, name: str, address: str, limit: int, window: float, *,
                    now: datetime | None = None) -> PendingLogin | Lockout:
        """A sign-in about to check its password: the lockout in force, or, counted as a failure, the
        pending sign-in to pass to login_succeeded if the password is right."""
        moment = now or utc_now()
        with self._transaction() as session:
            self._lock_keys(session, name, address)
            _prune(session, window, moment)
            lockout = _lockout(session, name, address, limit, window, moment)
            if lockout is not None:
                return lockout
            rows = _add_failure(session, name, address, moment)
            session.flush()
            return PendingLogin(name, rows[1].id)

    def login_succeeded(self, pending: PendingLogin) -> None:
        """The password was right: the user's failures are forgotten, and this sign-in is no failure of
        its address (whose earlier ones stay counted)."""
        with self._transaction() as session:
            session.execute(delete(FailedLogin).where((FailedLogin.id == pending.address_row)
                                                      | _of_user(pending.name)))

    def record_failed_login(self, name: str, address: str, window: float, *, now: datetime | None = None) -> None:
        moment = now or utc_now()
        with self._transaction() as session:
            _prune(session, window, moment)
            _add_failure(session, name, address, moment)

    def login_lockout(self, name: str, address: str, limit: int, window: float, *,
                      now: datetime | None = None) -> Lockout | None:
        """The lockout in force for this name or address (``limit`` failures within ``window`` seconds), or None.

        It lasts until the oldest of those failures leaves the window.
        """
        with self._sessions() as session:
            return _lockout(session, name, address, limit, window, now or utc_now())

    def clear_failed_logins(self, name: str) -> None:
        """Forget the user's failures (after a sign-in that succeeded); the address's stay counted."""
        with self._transaction() as session:
            session.execute(delete(FailedLogin).where(_of_user(name)))

    @staticmethod
    def _lock_keys(session: Session, name: str, address: str) -> None:
        """Until the transaction ends, no other start_login for this user or address runs its count.

        SQLite needs nothing: its first write (the prune) takes the database's one write lock, held
        to the commit. PostgreSQL takes an advisory lock per key, in one order, so that two sign-ins
        each holding one never wait for each other.
        """
        if session.get_bind().dialect.name != 'postgresql':
            return
        for key in sorted({_lock_key(kind, key) for kind, key in zip(LOGIN_KINDS, (name, address), strict=True)}):
            session.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, key)))

    def failed_login_count(self, kind: str, key: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(FailedLogin).where(
                FailedLogin.kind == kind, FailedLogin.key == key[:MAX_KEY_LENGTH])) or 0)


def _of_user(name: str) -> ColumnElement[bool]:
    """The rows of the failures counted against a user name."""
    return (FailedLogin.kind == 'user') & (FailedLogin.key == name[:MAX_KEY_LENGTH])


def _prune(session: Session, window: float, moment: datetime) -> None:
    """Failures older than the window deleted: a write, so on SQLite it also takes the write lock."""
    session.execute(delete(FailedLogin).where(FailedLogin.failed_at < moment - timedelta(seconds=window)))


def _add_failure(session: Session, name: str, address: str, moment: datetime) -> list[FailedLogin]:
    """Rows of one failure, against the name and the address."""
    rows = [FailedLogin(kind=kind, key=key[:MAX_KEY_LENGTH], failed_at=moment)
            for kind, key in zip(LOGIN_KINDS, (name, address), strict=True)]
    session.add_all(rows)
    return rows


def _lockout(session: Session, name: str, address: str, limit: int, window: float,
             moment: datetime) -> Lockout | None:
    since = moment - timedelta(seconds=window)
    for kind, key in zip(LOGIN_KINDS, (name, address), strict=True):
        times = session.scalars(
            select(FailedLogin.failed_at)
            .where(FailedLogin.kind == kind, FailedLogin.key == key[:MAX_KEY_LENGTH], FailedLogin.failed_at >= since)
            .order_by(FailedLogin.failed_at.desc()).limit(limit)).all()
        if len(times) >= limit:
            oldest = utc(times[-1])
            return Lockout(kind, max(1.0, window - (moment - oldest).total_seconds()))
    return None


def _lock_key(kind: str, key: str) -> int:
    """A signed 32-bit number for the key, the second half of its advisory lock's name; two keys with
    the same number only wait for each other."""
    digest = hashlib.blake2b(f'{kind}\0{key[:MAX_KEY_LENGTH]}'.encode(), digest_size=4).digest()
    return int.from_bytes(digest, 'big', signed=True)
