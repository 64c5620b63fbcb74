"""zato-outconn: named outgoing HTTP connections, kept in a database, called by name."""

from __future__ import annotations

__version__ = '0.1.0.dev0'

# Imported after __version__, which the connection module puts in its User-Agent.
from zato_outconn.config import OutconnConfig, SecurityConfig  # noqa: E402
from zato_outconn.exceptions import (  # noqa: E402
    CallError,
    ConfigError,
    Conflict,
    ConnectError,
    ConnectTimeout,
    Inactive,
    InUse,
    MissingParameter,
    NotFound,
    NotSOAPResponse,
    OutconnError,
    PoolTimeout,
    ReadTimeout,
    RequestError,
    SchemaError,
    SecretsError,
    SOAPError,
    SOAPFault,
    Timeout,
    TLSError,
    TokenError,
    TransportError,
    WSDLError,
)
from zato_outconn.ping import PingResult  # noqa: E402
from zato_outconn.registry import Outgoing, OutgoingItem  # noqa: E402
from zato_outconn.service import Runtime, Service  # noqa: E402
from zato_outconn.store import Store  # noqa: E402

__all__ = [
    'CallError',
    'ConfigError',
    'Conflict',
    'ConnectError',
    'ConnectTimeout',
    'InUse',
    'Inactive',
    'MissingParameter',
    'NotFound',
    'NotSOAPResponse',
    'OutconnConfig',
    'OutconnError',
    'Outgoing',
    'OutgoingItem',
    'PingResult',
    'PoolTimeout',
    'ReadTimeout',
    'RequestError',
    'Runtime',
    'SOAPError',
    'SOAPFault',
    'SchemaError',
    'SecretsError',
    'SecurityConfig',
    'Service',
    'Store',
    'TLSError',
    'Timeout',
    'TokenError',
    'TransportError',
    'WSDLError',
    '__version__',
]
