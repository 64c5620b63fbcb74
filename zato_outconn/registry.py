"""The registry: connection name -> item, per transport, as service code sees it.

Lookups read a plain dict with no lock. Writers build a new dict and swap the reference, so a
reader sees either the old mapping or the new one, never a half-updated one; a replaced connection
is retired and closes its session once the calls in flight on it have finished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

from zato_outconn import metrics
from zato_outconn.config import TRANSPORTS, OutconnConfig
from zato_outconn.conn import policies
from zato_outconn.conn.headers import Component
from zato_outconn.conn.http import HTTPConnection
from zato_outconn.conn.interceptors import Interceptors
from zato_outconn.exceptions import NotFound
from zato_outconn.store import Store, Template
from zato_outconn.sync.changes import Change
from zato_outconn.wire.budget import SHARED, SocketBudgets

logger = logging.getLogger(__name__)


class OutgoingItem:
    """One named connection: its template (read-only) and the ``conn`` to call it through.

    Built from a template, the connection is made on first use of ``conn``: a registry of ten
    thousand templates starts without building (or decrypting the security of) any of them.
    """

    __slots__ = ('config', 'id', 'version', '_budgets', '_conn', '_template', '_component', '_retired',
                 '_interceptors')

    def __init__(self, config: OutconnConfig, conn: HTTPConnection | None = None, id: int = 0, version: int = 0,
                 *, template: Template | None = None, component: Component | None = None,
                 budgets: SocketBudgets = SHARED, interceptors: Interceptors | None = None) -> None:
        if conn is None and template is None:
            raise TypeError('OutgoingItem needs a conn, or a template to build it from')
        self.config = config
        # The stored row's id and version: what tells a change made elsewhere from one applied already.
        self.id = id
        self.version = version
        self._conn = conn
        self._template = template
        self._component = component or Component()
        self._budgets = budgets
        self._interceptors = interceptors
        self._retired = False

    @classmethod
    def of(cls, template: Template, component: Component, budgets: SocketBudgets = SHARED,
           interceptors: Interceptors | None = None) -> OutgoingItem:
        return cls(template.config, id=template.id, version=template.version, template=template, component=component,
                   budgets=budgets, interceptors=interceptors)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def conn(self) -> HTTPConnection:
        conn = self._conn
        if conn is None:
            with _BUILD_LOCK:
                conn = self._conn
                if conn is None:
                    assert self._template is not None
                    conn = build_connection(self._template, self._component, self._budgets, self._interceptors)
                    if self._retired:
                        # Replaced before its first use by a caller still holding it: it serves that
                        # caller's calls and closes after each, as a retired connection does.
                        conn.close()
                    self._conn, self._template = conn, None
        return conn

    def close(self) -> None:
        """Retire the connection, if it was ever built: its session closes once its calls have finished."""
        with _BUILD_LOCK:
            self._retired = True
            conn = self._conn
        if conn is not None:
            conn.close()

    def __repr__(self) -> str:
        return f'<OutgoingItem {self.config.transport} {self.name!r} version {self.version}>'


# Held only while a connection is built, the first time its item is used.
_BUILD_LOCK = threading.Lock()


class TransportRegistry:
    """The connections of one transport, looked up by name."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self._items: dict[str, OutgoingItem] = {}

    def get(self, name: str) -> OutgoingItem | None:
        """The item, or None if there is no connection of that name."""
        return self._items.get(name)

    def __getitem__(self, name: str) -> OutgoingItem:
        try:
            return self._items[name]
        except KeyError:
            raise NotFound(f'{self.transport} connection', name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def _swap(self, items: dict[str, OutgoingItem]) -> dict[str, OutgoingItem]:
        old, self._items = self._items, items
        return old


class Outgoing:
    """``self.outgoing`` in service code: ``.plain_http`` and ``.soap`` registries built from a store."""

    def __init__(self, store: Store, component: Component | None = None) -> None:
        self._store = store
        self._component = component or Component()
        # pool_size caps, across edits, are this registry's own.
        self._budgets = SocketBudgets()
        # Shared by every connection built here: one added later applies to those built before.
        self.interceptors = Interceptors()
        self._write_lock = threading.Lock()
        self.plain_http = TransportRegistry('plain_http')
        self.soap = TransportRegistry('soap')
        self.reload()

    def registry(self, transport: str) -> TransportRegistry:
        if transport not in TRANSPORTS:
            raise ValueError(f'Unknown transport {transport!r}; use one of {", ".join(TRANSPORTS)}')
        return self.plain_http if transport == 'plain_http' else self.soap

    def reload(self) -> None:
        """Rebuild everything from the store."""
        templates = self._store.load_templates()
        with self._write_lock:
            for transport in TRANSPORTS:
                registry = self.registry(transport)
                items = {t.config.name: self._build(t) for t in templates if t.config.transport == transport}
                self._retire(registry._swap(items).values(), gone=True)
        logger.info('Loaded %d outgoing connections', len(templates))

    def apply(self, change: Change) -> None:
        """Bring the registry up to date with one committed change, reloading only what it touched."""
        with self._write_lock:
            if change.kind == 'outconn':
                assert change.transport is not None
                registry = self.registry(change.transport)
                items = dict(registry._items)
                stale = [items.pop(name) for name in {change.name, change.old_name} if name in items]
                if change.action != 'delete':
                    for template in self._store.load_templates(transport=change.transport, name=change.name):
                        items[template.config.name] = self._build(template)
                registry._swap(items)
                self._retire(stale, gone=True)
            elif change.kind == 'security' and change.action == 'edit':
                # Deleting a definition in use is refused, and a new one has no users yet: only edits matter.
                templates = self._store.load_templates(security=change.name)
                for transport in TRANSPORTS:
                    registry = self.registry(transport)
                    fresh = {t.config.name: self._build(t) for t in templates if t.config.transport == transport}
                    if not fresh:
                        continue
                    items = dict(registry._items)
                    stale = [items[name] for name in fresh if name in items]
                    items.update(fresh)
                    registry._swap(items)
                    self._retire(stale)

    def refresh(self, outconn_ids: set[int], security_ids: set[int]) -> None:
        """Bring the registry up to date with changes made by any process: the connections of these ids
        and those using these definitions are rebuilt (new items first, then swapped in), the ones gone
        are removed, and those already at their stored version are left as they are."""
        fresh = {template.id: template for template in self._store.load_templates(ids=outconn_ids)} \
            if outconn_ids else {}
        secured = {template.id: template for template in self._store.load_templates(security_ids=security_ids)} \
            if security_ids else {}
        fresh.update(secured)
        with self._write_lock:
            for transport in TRANSPORTS:
                registry = self.registry(transport)
                items = dict(registry._items)
                stale = []
                for name, item in list(items.items()):
                    if item.id not in outconn_ids and item.id not in secured:
                        continue
                    template = fresh.get(item.id)
                    if template is not None and item.id not in secured and template.version == item.version \
                            and template.config.name == name:
                        del fresh[item.id]  # applied already, by this process's own change
                        continue
                    stale.append(items.pop(name))
                for template in fresh.values():
                    if template.config.transport == transport:
                        replaced = items.get(template.config.name)
                        if replaced is not None:
                            stale.append(replaced)
                        items[template.config.name] = self._build(template)
                registry._swap(items)
                self._retire(stale, gone=True)

    def close(self) -> None:
        with self._write_lock:
            for transport in TRANSPORTS:
                self._retire(self.registry(transport)._swap({}).values())

    def _build(self, template: Template) -> OutgoingItem:
        # A name forgotten when it was deleted or renamed away is shown again once it is back.
        metrics.remember(template.config.name)
        return OutgoingItem.of(template, self._component, self._budgets, self.interceptors)

    def _retire(self, items: Iterable[OutgoingItem], gone: bool = False) -> None:
        """Close the connections of items swapped out; with ``gone``, those whose name is now in neither
        registry (deleted, renamed) have their metrics dropped too."""
        for item in items:
            item.close()
            if gone:
                # Its successor keeps its circuit and bucket only if it has the same settings for them; one
                # made again under a name deleted starts with a closed circuit and a full bucket.
                successor = self.registry(item.config.transport).get(item.name)
                if successor is None:
                    policies.forget(self._budgets, item.config.transport, item.name)
                else:
                    policies.settle(self._budgets, successor.config)
            if gone and item.name not in self.plain_http and item.name not in self.soap:
                metrics.forget(item.name)


def build_connection(template: Template, component: Component, budgets: SocketBudgets = SHARED,
                     interceptors: Interceptors | None = None) -> HTTPConnection:
    """The ``.conn`` of a template: a SOAP connection for soap, else plain HTTP."""
    kind: type[HTTPConnection] = HTTPConnection
    if template.config.transport == 'soap':
        # Imported here: lxml is loaded by processes that have SOAP connections only.
        from zato_outconn.soap.connection import SOAPConnection

        kind = SOAPConnection
    return kind(template.config, template.security, component, problem=template.problem, budgets=budgets,
                interceptors=interceptors)
