"""What the store hands out: records of stored rows, and the templates the registry builds from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from zato_outconn.config import OutconnConfig, SecurityConfig, SecurityView


@dataclass(frozen=True)
class OutconnRecord:
    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    config: OutconnConfig

    def as_dict(self) -> dict[str, Any]:
        return {**dict(self.config), 'id': self.id, 'version': self.version,
                'created_at': self.created_at.isoformat(), 'updated_at': self.updated_at.isoformat()}


@dataclass(frozen=True)
class SecurityRecord:
    """A security definition as people may see it: each secret is only ever set or not."""

    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    config: SecurityView
    used_by: tuple[str, ...] = ()

    @property
    def has_secret(self) -> bool:
        return self.config.secret_set

    def as_dict(self) -> dict[str, Any]:
        return {**self.config.as_dict(), 'used_by': list(self.used_by), 'id': self.id,
                'version': self.version, 'created_at': self.created_at.isoformat(),
                'updated_at': self.updated_at.isoformat()}


@dataclass(frozen=True)
class Template:
    """What the registry needs to build one connection: its config and decrypted security."""

    config: OutconnConfig
    security: SecurityConfig | None = field(repr=False)
    # Why the connection cannot be called (a secret that does not decrypt), or None.
    problem: str | None = None
    # The row's id and version, by which processes that follow the database tell what changed.
    id: int = 0
    version: int = 0


def utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were written in UTC.
    # PostgreSQL hands them back in the session's time zone, which need not be UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
