"""API tokens in the store: what scripts present to the API; only each token's SHA-256 is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zato_outconn.config.checks import check_int
from zato_outconn.exceptions import ConfigError, NotFound
from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import APIToken, utc_now
from zato_outconn.store.records import utc
from zato_outconn.store.users import check_principal

TOKEN_PREFIX = 'zoc_'
MAX_EXPIRES_DAYS = 3650


@dataclass(frozen=True)
class TokenRecord:
    """An API token as the store hands it out: never with the token or its hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utc_now())

    def as_dict(self) -> dict[str, Any]:
        return {'id': self.id, 'name': self.name, 'role': self.role,
                'created_at': self.created_at.isoformat(),
                'expires_at': self.expires_at.isoformat() if self.expires_at else None,
                'last_used_at': self.last_used_at.isoformat() if self.last_used_at else None}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def duplicate_token(name: str) -> str:
    return f'an API token named {name!r} already exists; choose another name or revoke that one first'


class Tokens(StoreBase):
    """The API tokens of one database; a revoked token is deleted, so that nothing can bring it back."""

    def create_token(self, name: str, role: str, expires_days: int | None = None) -> tuple[TokenRecord, str]:
        """A new token's record and the token itself, which is not kept and cannot be read again."""
        name, role = check_principal(name, role)
        if expires_days is not None:
            check_int('expires_days', expires_days, 1, MAX_EXPIRES_DAYS)
        now = utc_now()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._transaction() as session:
            if session.scalar(select(APIToken.id).where(APIToken.name == name)):
                raise ConfigError('name', duplicate_token(name))
            row = APIToken(name=name, role=role, token_hash=token_hash(token), created_at=now,
                           expires_at=now + timedelta(days=expires_days) if expires_days else None)
            session.add(row)
            self._flush_unique(session, 'name', duplicate_token(name))
            return _token_record(row), token

    def list_tokens(self) -> list[TokenRecord]:
        with self._sessions() as session:
            return [_token_record(row) for row in session.scalars(select(APIToken).order_by(APIToken.name))]

    def get_token(self, name: str) -> TokenRecord:
        with self._sessions() as session:
            return _token_record(_token_row(session, name))

    def revoke_token(self, name: str) -> None:
        with self._transaction() as session:
            session.delete(_token_row(session, name))

    def check_token(self, token: str) -> TokenRecord | None:
        """The token's record, its use noted, if it is known and not expired; else None."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        wanted = token_hash(token)
        now = utc_now()
        with self._transaction() as session:
            row = session.scalar(select(APIToken).where(APIToken.token_hash == wanted))
            # The database matched the hash; comparing again in constant time does not leave what counts
            # as equal to the database's collation.
            if row is None or not hmac.compare_digest(row.token_hash, wanted):
                return None
            if row.expires_at is not None and utc(row.expires_at) <= now:
                return None
            row.last_used_at = now
            session.flush()
            return _token_record(row)


def _token_row(session: Session, name: str) -> APIToken:
    row = session.scalar(select(APIToken).where(APIToken.name == name))
    if row is None:
        raise NotFound('API token', name)
    return row


def _token_record(row: APIToken) -> TokenRecord:
    return TokenRecord(row.id, row.name, row.role, utc(row.created_at),
                       utc(row.expires_at) if row.expires_at is not None else None,
                       utc(row.last_used_at) if row.last_used_at is not None else None)
