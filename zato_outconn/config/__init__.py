"""The typed models every layer builds from: connection templates and security definitions."""

from zato_outconn.config.outconn import (
    DATA_FORMATS,
    DEFAULT_TIMEOUT,
    HTTP_METHODS,
    SOAP_VERSIONS,
    TRANSPORTS,
    OutconnConfig,
)
from zato_outconn.config.security import (
    ENCRYPTED_SETTINGS,
    MASK,
    SEC_TYPES,
    SECRET_SETTINGS,
    SECURITY_TYPES,
    SecurityConfig,
    SecurityType,
    SecurityView,
)

__all__ = [
    'DATA_FORMATS',
    'DEFAULT_TIMEOUT',
    'ENCRYPTED_SETTINGS',
    'HTTP_METHODS',
    'MASK',
    'SECRET_SETTINGS',
    'SECURITY_TYPES',
    'SEC_TYPES',
    'SOAP_VERSIONS',
    'TRANSPORTS',
    'OutconnConfig',
    'SecurityConfig',
    'SecurityType',
    'SecurityView',
]
