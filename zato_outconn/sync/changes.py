"""What a committed write changed, and the feed that tells subscribers in this process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# The PostgreSQL channel the store notifies of every change, with its number, kind, id and version.
CHANNEL = 'zato_outconn_changes'


@dataclass(frozen=True)
class Change:
    """What a committed write changed; subscribers reload only what it names."""

    kind: str  # 'outconn' or 'security'
    action: str  # 'create', 'edit' or 'delete'
    name: str
    transport: str | None = None
    old_name: str | None = None


Subscriber = Callable[[Change], None]


class ChangeFeed:
    """Hands each committed change to every subscriber, in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subscribers.remove(callback)

    def publish(self, change: Change) -> None:
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:
                # A subscriber's failure must not undo or hide a write that has committed.
                logger.exception('Subscriber %r failed on %s', callback, change)
