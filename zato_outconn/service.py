"""Services and the runtime that invokes them.

A service is a class with a ``handle()`` method; the runtime gives each invocation a fresh
instance with its correlation ID, the request payload, a logger and the outgoing connections.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from zato_outconn.headers import Component, current_cid, new_cid
from zato_outconn.registry import Outgoing
from zato_outconn.store import Store

CLUSTER_ENV = 'ZATO_OUTCONN_CLUSTER'
SERVER_ENV = 'ZATO_OUTCONN_SERVER'


@dataclass
class Request:
    payload: Any = None


@dataclass
class Response:
    payload: Any = None


class Service:
    """Base class of services. Override ``handle``; read ``self.request.payload`` and set
    ``self.response.payload``; call remote ends through ``self.outgoing``."""

    def __init__(self, *, cid: str, outgoing: Outgoing, payload: Any = None) -> None:
        self.cid = cid
        self.outgoing = outgoing
        self.request = Request(payload)
        self.response = Response()
        self.logger = logging.getLogger(f'{type(self).__module__}.{type(self).__qualname__}')

    @property
    def name(self) -> str:
        return f'{type(self).__module__}.{type(self).__qualname__}'

    def handle(self) -> None:
        raise NotImplementedError(f'{self.name} must define handle()')


class Runtime:
    """Loads the connections of one database and invokes services with them.

    The registry follows every change made through this runtime's store at once.
    """

    def __init__(self, db_url: str | None = None, *, cluster: str | None = None,
                 server: str | None = None, store: Store | None = None) -> None:
        # A store handed in belongs to the caller, who closes it.
        self._owns_store = store is None
        self.store = store if store is not None else Store(db_url)
        self.component = Component(cluster=cluster or os.environ.get(CLUSTER_ENV) or 'default',
                                   server=server or os.environ.get(SERVER_ENV) or 'server1')
        self.outgoing = Outgoing(self.store, self.component)
        self.store.subscribe(self.outgoing.apply)

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
        self.store.unsubscribe(self.outgoing.apply)
        self.outgoing.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def load_service_class(path: str) -> type[Service]:
    """``package.module:ClassName`` (or ``package.module.ClassName``) -> the class."""
    module_name, separator, class_name = path.partition(':')
    if not separator:
        module_name, _, class_name = path.rpartition('.')
    if not module_name or not class_name:
        raise ValueError(f'Service {path!r} must be given as package.module:ClassName')
    module = importlib.import_module(module_name)
    try:
        found = getattr(module, class_name)
    except AttributeError:
        raise ValueError(f'Module {module_name!r} has no {class_name!r}') from None
    if not (isinstance(found, type) and issubclass(found, Service)):
        raise ValueError(f'{path!r} is not a subclass of zato_outconn.Service')
    return found
