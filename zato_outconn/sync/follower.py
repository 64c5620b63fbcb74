"""Following the database: a running process learns of every change any process commits.

PostgreSQL pushes: the store NOTIFYs each change in its transaction, and one LISTEN connection per
process (its own autocommit connection, not one of the pool's) wakes the follower. SQLite is polled.
Either way the change counter decides: a timeout checks it too, so a lost notification, or one
missed while the database was down, is caught by the next check, and what changed is read from the
history rows and reloaded, nothing else. While the database cannot be reached, the registry goes on
calling with what it has; on reconnect it catches up in full.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from zato_outconn.config.checks import seconds_setting
from zato_outconn.exceptions import OutconnError
from zato_outconn.sync.changes import CHANNEL

if TYPE_CHECKING:
    import psycopg

    from zato_outconn.registry import Outgoing
    from zato_outconn.store import Store

logger = logging.getLogger('zato_outconn.sync')

POLL_ENV = 'ZATO_OUTCONN_POLL_INTERVAL'
DEFAULT_INTERVAL = 1.0
# A node silent for this long is forgotten by the others.
PRUNE_AFTER = 600.0
_MAX_BACKOFF = 5.0


def poll_interval(value: float | str | None = None) -> float:
    """The interval given, else ZATO_OUTCONN_POLL_INTERVAL, else one second."""
    return seconds_setting(POLL_ENV, value, DEFAULT_INTERVAL)


class Follower:
    """Keeps one registry in step with its database, from a thread of its own, and heartbeats as a node."""

    def __init__(self, store: Store, outgoing: Outgoing, component: str, applied: int,
                 interval: float | None = None) -> None:
        self._store = store
        self._outgoing = outgoing
        self._component = component
        self.interval = poll_interval(interval)
        # The change the registry reflects: read before it was loaded, so that nothing committed
        # in between is missed.
        self.applied = applied
        self._stop = threading.Event()
        self._last_beat = 0.0
        self._beats = 0
        # Written to on stop, so that a follower waiting on its LISTEN socket wakes at once.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self.node_id = store.register_node(component, socket.gethostname(), os.getpid(), applied, self.interval)
        self._thread = threading.Thread(target=self._run, name='zato-outconn-sync', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following and forget this node; returns once the thread has ended."""
        self._stop.set()
        self._wake_writer.send(b'x')
        self._thread.join(timeout=10)
        self._wake_reader.close()
        self._wake_writer.close()
        try:
            self._store.remove_node(self.node_id)
        except (SQLAlchemyError, OutconnError) as error:
            logger.warning('Cannot remove node %s from the database: %s', self.node_id, _first_line(error))

    def catch_up(self) -> None:
        """Apply every change committed after the one applied last."""
        latest = self._store.last_change()
        if latest <= self.applied:
            return
        rows = self._store.changes_since(self.applied)
        outconns = {row.object_id for row in rows if row.kind == 'outconn'}
        # A definition just created has no users yet, and one in use cannot be deleted: only the other
        # changes of a definition rebuild the connections that use it (as Outgoing.apply has it).
        definitions = {row.object_id for row in rows
                       if row.kind == 'security' and row.action not in ('create', 'delete')}
        self._outgoing.refresh(outconns, definitions)
        self.applied = max((row.change for row in rows), default=latest)
        logger.info('Applied changes up to %d (%d connections, %d definitions)', self.applied, len(outconns),
                    len(definitions))

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            if self._store.engine.dialect.name == 'postgresql':
                self._listen()
            else:
                while not self._stop.wait(self.interval):
                    self._tick()
        except Exception:
            # The registry goes on serving what it has; the log says why it no longer follows.
            logger.exception('Following changes of the database stopped')

    def _tick(self) -> None:
        try:
            self.catch_up()
            self._beat()
        except (SQLAlchemyError, OutconnError) as error:
            logger.warning('Cannot follow changes of the database (%s); calling with what is loaded',
                           _first_line(error))

    def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat < self.interval:
            return
        self._last_beat = now
        if not self._store.heartbeat(self.node_id, self.applied):
            # Pruned while the database was out of reach: register again.
            self.node_id = self._store.register_node(self._component, socket.gethostname(), os.getpid(),
                                                     self.applied, self.interval)
        self._beats += 1
        if self._beats % 60 == 1:
            self._store.prune_nodes(max(PRUNE_AFTER, 10 * self.interval))

    def _listen(self) -> None:
        # Imported here, after any gevent patching, as psycopg picks its way of waiting at import.
        import psycopg

        url = self._store.engine.url.set(drivername='postgresql')
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
                    connection.execute(f'LISTEN {CHANNEL}')
                    backoff = 0.1
                    # Caught up in full after every (re)connect: notifications sent meanwhile are lost.
                    self._tick()
                    self._wait_for_notifications(connection)
            except psycopg.OperationalError as error:
                logger.warning('The LISTEN connection failed (%s); again in %.1f s', _first_line(error), backoff)
                self._tick()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _wait_for_notifications(self, connection: psycopg.Connection[Any]) -> None:
        wake = self._wake_reader.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([connection.fileno(), wake], [], [], self.interval)
            if wake in ready:
                return
            if ready:
                # Read what arrived; the counter, not the payloads, says what to reload.
                for _ in connection.notifies(timeout=0.01):
                    pass
            self._tick()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
