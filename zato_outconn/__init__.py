"""zato-outconn: named outgoing HTTP connections, kept in a database, called by name.
Importing the package loads the core only: SOAP (lxml, zeep), NTLM (requests-ntlm) and the
admin are imported when a connection or command first needs them.
"""


from zato_outconn.config import OutconnConfig, SecurityConfig, SecurityView
from zato_outconn.conn.ping import PingResult
from zato_outconn.exceptions import (
    BadResponse,
    CallError,
    ConfigError,
    Conflict,
    ConnectError,
    ConnectTimeout,
    ImportRefused,
    Inactive,
    InUse,
    MissingParameter,
    NotFound,
    NotSOAPResponse,
    OutconnError,
    PoolTimeout,
    ReadTimeout,
    RequestError,
    ResponseInterrupted,
    ResponseTooLarge,
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
from zato_outconn.registry import Outgoing, OutgoingItem
from zato_outconn.runtime import Runtime, Service
from zato_outconn.store import Store
from zato_outconn.version import __version__

__all__ = [
    'BadResponse',
    'CallError',
    'ConfigError',
    'Conflict',
    'ConnectError',
    'ConnectTimeout',
    'ImportRefused',
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
    'ResponseInterrupted',
    'ResponseTooLarge',
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
