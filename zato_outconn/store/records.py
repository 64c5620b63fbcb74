"""What the store hands out: records of stored rows, and the templates the registry builds from."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
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


# What a template's security turns out to be on first use: the definition, or None and why not.
Resolved = tuple[SecurityConfig | None, str | None]


class LazySecurity:
    """A stored definition's security, decrypted and checked on first use, then kept.

    One serves every template that uses the definition, so that a definition is decrypted at most
    once per load however many connections share it, and not at all for connections never called.
    """

    __slots__ = ('_open', '_resolved', '_lock')

    def __init__(self, open_security: Callable[[], Resolved]) -> None:
        self._open: Callable[[], Resolved] | None = open_security
        self._resolved: Resolved | None = None
        self._lock = threading.Lock()

    def resolve(self) -> Resolved:
        resolved = self._resolved
        if resolved is None:
            with self._lock:
                if self._resolved is None:
                    assert self._open is not None
                    self._resolved = self._open()
                    # The stored row, ciphertext included, is not kept once it has served.
                    self._open = None
                resolved = self._resolved
        return resolved


class Template:
    """What the registry needs to build one connection: its config and decrypted security.

    A template the store loads decrypts its security on first use of ``security`` or ``problem``
    (see LazySecurity), so that loading thousands of templates decrypts nothing yet.
    """

    __slots__ = ('config', 'id', 'version', '_security', '_problem', '_lazy')

    def __init__(self, config: OutconnConfig, security: SecurityConfig | None = None, problem: str | None = None,
                 id: int = 0, version: int = 0, *, lazy: LazySecurity | None = None) -> None:
        self.config = config
        # The row's id and version, by which processes that follow the database tell what changed.
        self.id = id
        self.version = version
        self._security = security
        self._problem = problem
        self._lazy = lazy

    @property
    def security(self) -> SecurityConfig | None:
        return self._lazy.resolve()[0] if self._lazy is not None else self._security

    @property
    def problem(self) -> str | None:
        """Why the connection cannot be called (a secret that does not decrypt), or None."""
        return self._lazy.resolve()[1] if self._lazy is not None else self._problem

    def __repr__(self) -> str:
        # The security is left out: it holds the secret.
        return f'Template(config={self.config!r}, id={self.id}, version={self.version})'


def utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; they were written in UTC.
    # PostgreSQL hands them back in the session's time zone, which need not be UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
