"""Failed sign-ins, per user name and per client address, so that the admin can throttle guessing.

The counts live in the database, so every gunicorn worker (and every process on the database)
sees the same ones. Only failures inside the window count; rows older than it are pruned as new
ones are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import FailedLogin, utc_now
from zato_outconn.store.records import utc

# What failures are counted against: the name typed, and the address it came from.
LOGIN_KINDS = ('user', 'address')
MAX_KEY_LENGTH = 200
# Failures within the window that refuse further sign-ins for the user or address, until they age out.
DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW = 15 * 60.0


@dataclass(frozen=True)
class Lockout:
    """Sign-ins refused for now: against what ('user' or 'address'), and for how many more seconds."""

    kind: str
    seconds: float


class Logins(StoreBase):
    """Counts failed sign-ins and says when there have been too many."""

    def record_failed_login(self, name: str, address: str, window: float, *, now: datetime | None = None) -> None:
        moment = now or utc_now()
        with self._transaction() as session:
            session.execute(delete(FailedLogin).where(FailedLogin.failed_at < moment - timedelta(seconds=window)))
            session.add_all([FailedLogin(kind=kind, key=key[:MAX_KEY_LENGTH], failed_at=moment)
                             for kind, key in zip(LOGIN_KINDS, (name, address), strict=True)])

    def login_lockout(self, name: str, address: str, limit: int, window: float, *,
                      now: datetime | None = None) -> Lockout | None:
        """The lockout in force for this name or address (``limit`` failures within ``window`` seconds), or None.

        It lasts until the oldest of those failures leaves the window.
        """
        moment = now or utc_now()
        since = moment - timedelta(seconds=window)
        with self._sessions() as session:
            for kind, key in zip(LOGIN_KINDS, (name, address), strict=True):
                times = session.scalars(
                    select(FailedLogin.failed_at)
                    .where(FailedLogin.kind == kind, FailedLogin.key == key[:MAX_KEY_LENGTH],
                           FailedLogin.failed_at >= since)
                    .order_by(FailedLogin.failed_at.desc()).limit(limit)).all()
                if len(times) >= limit:
                    oldest = utc(times[-1])
                    return Lockout(kind, max(1.0, window - (moment - oldest).total_seconds()))
        return None

    def clear_failed_logins(self, name: str) -> None:
        """Forget the user's failures (after a sign-in that succeeded); the address's stay counted."""
        with self._transaction() as session:
            session.execute(delete(FailedLogin).where(FailedLogin.kind == 'user',
                                                      FailedLogin.key == name[:MAX_KEY_LENGTH]))

    def failed_login_count(self, kind: str, key: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(FailedLogin).where(
                FailedLogin.kind == kind, FailedLogin.key == key[:MAX_KEY_LENGTH])) or 0)
