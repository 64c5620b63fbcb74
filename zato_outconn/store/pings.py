"""The ping audit: who pinged which connection when, and what the remote end answered.

A ping is a request to an address an operator typed, sent from the server: each one is kept, so
that it can be seen who sent which, and so that a user's pings can be counted for a rate limit.
Rows are not tied to their connection by a foreign key, so that a deleted connection's pings stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from zato_outconn.conn.ping import short_text
from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import Base, utc_now
from zato_outconn.store.records import utc

# The most characters of an error kept; the rest of a long traceback-like text says nothing more.
MAX_ERROR_LENGTH = 2000
# The most characters of a URL kept, its column's length: a host and path can be longer, and the
# audit must never fail the ping it records (PostgreSQL refuses a longer value).
MAX_URL_LENGTH = 4000


class PingEntry(Base):
    """One ping of a connection: by whom, when, and its result (never a secret: the URL has none)."""

    __tablename__ = 'ping'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outconn_id: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    transport: Mapped[str] = mapped_column(String(32), nullable=False)
    pinged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    pinged_by: Mapped[str] = mapped_column(String(200), nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    elapsed: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), nullable=False)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index('ix_ping_outconn_id_pinged_at', 'outconn_id', 'pinged_at'),
                      Index('ix_ping_pinged_by_pinged_at', 'pinged_by', 'pinged_at'))


@dataclass(frozen=True)
class PingRecord:
    id: int
    outconn_id: int
    name: str
    transport: str
    pinged_at: datetime
    pinged_by: str
    ok: bool
    status_code: int | None
    elapsed: float
    method: str
    url: str
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {'id': self.id, 'outconn_id': self.outconn_id, 'name': self.name, 'transport': self.transport,
                'pinged_at': self.pinged_at.isoformat(), 'pinged_by': self.pinged_by, 'ok': self.ok,
                'status_code': self.status_code, 'elapsed': self.elapsed, 'method': self.method,
                'url': self.url, 'error': self.error}


class Pings(StoreBase):
    """Writes and reads the ping audit."""

    def record_ping(self, outconn_id: int, name: str, transport: str, *, ok: bool, status_code: int | None,
                    elapsed: float, method: str, url: str, error: str | None, by: str) -> PingRecord:
        with self._transaction() as session:
            row = PingEntry(outconn_id=outconn_id, name=name, transport=transport, pinged_at=utc_now(),
                            pinged_by=by, ok=ok, status_code=status_code, elapsed=elapsed, method=method,
                            url=short_text(url, MAX_URL_LENGTH),
                            error=short_text(error, MAX_ERROR_LENGTH) if error is not None else None)
            session.add(row)
            session.flush()
            return _ping_record(row)

    def recent_pings(self, outconn_id: int, limit: int = 50) -> list[PingRecord]:
        """The connection's last pings, newest first."""
        with self._sessions() as session:
            rows = session.scalars(select(PingEntry).where(PingEntry.outconn_id == outconn_id)
                                   .order_by(PingEntry.pinged_at.desc(), PingEntry.id.desc()).limit(limit))
            return [_ping_record(row) for row in rows]

    def pings_by_since(self, by: str, since: datetime) -> tuple[int, datetime | None]:
        """How many pings ``by`` sent since then, and when the first of them was."""
        with self._sessions() as session:
            count, first = session.execute(select(func.count(), func.min(PingEntry.pinged_at)).where(
                PingEntry.pinged_by == by, PingEntry.pinged_at >= since)).one()
            return int(count), utc(first) if first is not None else None


def _ping_record(row: PingEntry) -> PingRecord:
    return PingRecord(row.id, row.outconn_id, row.name, row.transport, utc(row.pinged_at), row.pinged_by, row.ok,
                      row.status_code, row.elapsed, row.method, row.url, row.error)
