"""The runtime: loads the connections of one database and invokes services with them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from zato_outconn.conn.headers import Component
from zato_outconn.registry import Outgoing
from zato_outconn.runtime.context import current_cid, new_cid
from zato_outconn.runtime.service import Service, load_service_class
from zato_outconn.store import Store
from zato_outconn.sync.follower import Follower

CLUSTER_ENV = 'ZATO_OUTCONN_CLUSTER'
SERVER_ENV = 'ZATO_OUTCONN_SERVER'


class Runtime:
    """Loads the connections of one database and invokes services with them.

    The registry follows every change made through this runtime's store at once, and, with sync
    on (the default), every change any other process commits to the same database, within the
    poll interval; the runtime is then a node that ``zato-outconn nodes list`` shows. Scripts that
    want none of that pass ``sync=False``.
    """

    def __init__(self, db_url: str | None = None, *, cluster: str | None = None,
                 server: str | None = None, store: Store | None = None, sync: bool = True,
                 poll_interval: float | None = None) -> None:
        # A store handed in belongs to the caller, who closes it.
        self._owns_store = store is None
        self.store = store if store is not None else Store(db_url)
        self.component = Component(cluster=cluster or os.environ.get(CLUSTER_ENV) or 'default',
                                   server=server or os.environ.get(SERVER_ENV) or 'server1')
        # Read before the registry loads, so that no change committed in between is missed.
        applied = self.store.last_change() if sync else 0
        self.outgoing = Outgoing(self.store, self.component)
        self.store.subscribe(self.outgoing.apply)
        self.follower = Follower(self.store, self.outgoing, self.component.process(), applied,
                                 poll_interval) if sync else None

    def add_interceptor(self, obj: object, connections: str | Iterable[str] | None = None) -> None:
        """Add an interceptor to the connections named (names or fnmatch globs; None = every connection),
        after those added before it. ``obj`` defines ``before_send(request, call)``, given each final
        ``requests.PreparedRequest`` (security applied) to change, ``after_receive(response, call)``, or both;
        ``call`` has ``.name``, ``.method``, ``.url``, ``.cid`` and ``.attempt``. One that raises fails the
        call with ``InterceptorError``."""
        self.outgoing.interceptors.add(obj, connections)

    def invoke(self, service_class: type[Service] | str, payload: Any = None, cid: str | None = None) -> Any:
        """Run one service and return its response payload."""
        if isinstance(service_class, str):
            service_class = load_service_class(service_class)
        service = service_class(cid=cid or new_cid(), outgoing=self.outgoing, payload=payload)
        token = current_cid.set(service.cid)
        try:
            service.handle()
        finally:
            current_cid.reset(token)
        return service.response.payload

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self.store.unsubscribe(self.outgoing.apply)
        self.outgoing.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
