"""Running services: ``Service``, the ``Runtime`` that invokes them, and the cid in progress."""

from zato_outconn.runtime.runtime import Runtime
from zato_outconn.runtime.service import Service

__all__ = ['Runtime', 'Service']
