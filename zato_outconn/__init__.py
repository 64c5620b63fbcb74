"""zato-outconn: named outgoing HTTP connections, kept in a database, called by name.

Importing the package loads its exceptions only; each other name is imported on first use
(``from zato_outconn import Runtime`` loads the runtime and what it needs), so that a command
or a script loads no more than it uses. SOAP (lxml, zeep), NTLM (requests-ntlm) and the admin
are imported when a connection or command first needs them.
"""

import typing as _typing

from zato_outconn.exceptions import (
    BadResponse,
    CallError,
    CircuitOpen,
    ConfigError,
    Conflict,
    ConnectError,
    ConnectTimeout,
    ImportRefused,
    Inactive,
    InterceptorError,
    InUse,
    MissingParameter,
    NotFound,
    NotSOAPResponse,
    OutconnError,
    PoolTimeout,
    RateLimited,
    ReadTimeout,
    RequestError,
    ResponseInterrupted,
    ResponseTooLarge,
    RetriesExhausted,
    SchemaError,
    SecretsError,
    SOAPError,
    SOAPFault,
    StoreError,
    Timeout,
    TLSError,
    TokenError,
    TotalTimeout,
    TransportError,
    WSDLError,
)
from zato_outconn.exports import lazy_exports as _lazy_exports
from zato_outconn.version import __version__

if _typing.TYPE_CHECKING:
    from zato_outconn.config import OutconnConfig, SecurityConfig, SecurityView
    from zato_outconn.conn.ping import PingResult
    from zato_outconn.registry import Outgoing, OutgoingItem
    from zato_outconn.runtime import Runtime, Service
    from zato_outconn.store import Store

# The names imported on first use, and the module each comes from.
_LAZY = {
    'OutconnConfig': 'zato_outconn.config',
    'SecurityConfig': 'zato_outconn.config',
    'SecurityView': 'zato_outconn.config',
    'PingResult': 'zato_outconn.conn.ping',
    'Outgoing': 'zato_outconn.registry',
    'OutgoingItem': 'zato_outconn.registry',
    'Runtime': 'zato_outconn.runtime',
    'Service': 'zato_outconn.runtime',
    'Store': 'zato_outconn.store',
}


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)


__all__ = [
    'BadResponse',
    'CallError',
    'CircuitOpen',
    'ConfigError',
    'Conflict',
    'ConnectError',
    'ConnectTimeout',
    'ImportRefused',
    'InUse',
    'Inactive',
    'InterceptorError',
    'MissingParameter',
    'NotFound',
    'NotSOAPResponse',
    'OutconnConfig',
    'OutconnError',
    'Outgoing',
    'OutgoingItem',
    'PingResult',
    'PoolTimeout',
    'RateLimited',
    'ReadTimeout',
    'RequestError',
    'ResponseInterrupted',
    'ResponseTooLarge',
    'RetriesExhausted',
    'Runtime',
    'SOAPError',
    'SOAPFault',
    'SchemaError',
    'SecretsError',
    'SecurityConfig',
    'SecurityView',
    'Service',
    'Store',
    'StoreError',
    'TLSError',
    'Timeout',
    'TokenError',
    'TotalTimeout',
    'TransportError',
    'WSDLError',
    '__version__',
]
