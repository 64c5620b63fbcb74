"""Nodes: the running processes that follow one database, their heartbeats and applied changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import Node, utc_now
from zato_outconn.store.records import utc

# A node that has not beaten for this many of its intervals is shown as silent (gone, or stuck).
SILENT_AFTER = 3


@dataclass(frozen=True)
class NodeRecord:
    id: int
    component: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    applied_change: int
    interval: float

    def status(self, latest_change: int, now: datetime) -> str:
        """silent (no heartbeat for three intervals), behind (not on the latest change) or current."""
        if now - self.heartbeat_at > timedelta(seconds=SILENT_AFTER * self.interval):
            return 'silent'
        return 'behind' if self.applied_change < latest_change else 'current'

    def as_dict(self, latest_change: int, now: datetime) -> dict[str, Any]:
        return {'id': self.id, 'component': self.component, 'host': self.host, 'pid': self.pid,
                'started_at': self.started_at.isoformat(), 'heartbeat_at': self.heartbeat_at.isoformat(),
                'applied_change': self.applied_change, 'latest_change': latest_change,
                'status': self.status(latest_change, now)}


class Nodes(StoreBase):
    """Registration and heartbeats of the processes that follow this database."""

    def register_node(self, component: str, host: str, pid: int, applied_change: int, interval: float) -> int:
        now = utc_now()
        with self._transaction() as session:
            row = Node(component=component, host=host, pid=pid, started_at=now, heartbeat_at=now,
                       applied_change=applied_change, interval=interval)
            session.add(row)
            session.flush()
            return row.id

    def heartbeat(self, node_id: int, applied_change: int) -> bool:
        """Say the node is alive and which change it has applied; False if its row is gone (pruned)."""
        with self._transaction() as session:
            result = session.execute(update(Node).where(Node.id == node_id).values(
                heartbeat_at=utc_now(), applied_change=applied_change).execution_options(synchronize_session=False))
            return bool(getattr(result, 'rowcount', 0))

    def remove_node(self, node_id: int) -> None:
        with self._transaction() as session:
            session.execute(delete(Node).where(Node.id == node_id).execution_options(synchronize_session=False))

    def prune_nodes(self, silent_for: float) -> int:
        """Forget the nodes silent for longer than this many seconds; how many there were."""
        cutoff = utc_now() - timedelta(seconds=silent_for)
        with self._transaction() as session:
            result = session.execute(delete(Node).where(Node.heartbeat_at < cutoff)
                                     .execution_options(synchronize_session=False))
            return int(getattr(result, 'rowcount', 0) or 0)

    def list_nodes(self) -> list[NodeRecord]:
        with self._sessions() as session:
            return [NodeRecord(row.id, row.component, row.host, row.pid, utc(row.started_at), utc(row.heartbeat_at),
                               row.applied_change, row.interval)
                    for row in session.scalars(select(Node).order_by(Node.component, Node.id))]
