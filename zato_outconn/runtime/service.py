"""Services: classes with a ``handle()`` method, and how they are found by name.

The runtime gives each invocation a fresh instance with its correlation ID, the request
payload, a logger and the outgoing connections.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zato_outconn.registry import Outgoing


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
        raise ValueError(f'Module {module_name!r} has no {class_name!r}; give the service as '
                         'package.module:ClassName') from None
    if not (isinstance(found, type) and issubclass(found, Service)):
        raise ValueError(f'{path!r} is not a subclass of zato_outconn.Service')
    return found
