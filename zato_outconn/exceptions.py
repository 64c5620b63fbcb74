"""Exceptions raised by zato-outconn.

The whole tree::

    OutconnError                  root of everything the library raises
    ├── ConfigError               a setting is invalid (names the field and the rule)
    ├── NotFound                  no connection or security definition of that name (also a KeyError)
    ├── InUse                     a security definition cannot be deleted while connections use it
    ├── Conflict                  the row was changed by someone else since it was read
    ├── SchemaError               the database schema is missing or out of date
    ├── SecretsError              secrets cannot be encrypted or decrypted (keys missing or wrong)
    └── CallError                 a call through a connection failed; carries name, method, URL and cid
        ├── Inactive              the connection is switched off
        ├── RequestError          the caller's input cannot be sent (also a ValueError)
        │   └── MissingParameter  a {placeholder} in the URL path has no value in params
        └── TransportError        the remote end could not be reached or did not answer
            ├── Timeout
            │   ├── ConnectTimeout
            │   └── ReadTimeout
            ├── ConnectError      connection refused, DNS failure, proxy failure, dropped connection
            └── TLSError          certificate or handshake failure

Third-party exceptions are mapped where they arise (see ``transport.map_requests_error``)
and chained with ``raise ... from``.
"""

from __future__ import annotations


class OutconnError(Exception):
    """Root of all exceptions raised by zato-outconn."""


class ConfigError(OutconnError, ValueError):
    """A setting is invalid; ``field`` names it and the message says which rule it breaks."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.rule = message
        super().__init__(f'{field}: {message}')


class NotFound(OutconnError, KeyError):
    """No connection or security definition goes by the name asked for."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f'No {kind} named {name!r}')

    def __str__(self) -> str:
        # KeyError would otherwise show the message quoted, as it does for missing keys.
        return str(self.args[0])


class InUse(OutconnError):
    """A security definition cannot be deleted because connections use it."""

    def __init__(self, name: str, users: list[str]) -> None:
        self.name = name
        self.users = users
        listed = ', '.join(repr(user) for user in users)
        super().__init__(
            f'Security definition {name!r} is used by {listed}; '
            'point those connections at another definition (or none) first')


class Conflict(OutconnError):
    """The row was changed by someone else since it was read; read it again and retry."""


class SchemaError(OutconnError):
    """The database has no schema, or an older one, than this version needs."""


class SecretsError(OutconnError):
    """Secrets cannot be encrypted or decrypted with the keys configured."""


class CallError(OutconnError):
    """A call through a connection failed.

    Every call error names the connection, the HTTP method, the URL (never with credentials)
    and the correlation ID, so a log line alone says what failed where.
    """

    def __init__(self, message: str, *, name: str, method: str = '', url: str = '', cid: str = '') -> None:
        self.name = name
        self.method = method
        self.url = url
        self.cid = cid
        self.reason = message
        where = f' {method} {url}' if method else ''
        super().__init__(f'{name!r}{where} (cid {cid}): {message}' if cid else f'{name!r}{where}: {message}')


class Inactive(CallError):
    """The connection exists but is switched off (is_active is false)."""


class RequestError(CallError, ValueError):
    """The caller's input cannot be turned into a request."""


class MissingParameter(RequestError):
    """A ``{placeholder}`` in the URL path has no value in ``params``."""

    def __init__(self, placeholder: str, **context: str) -> None:
        self.placeholder = placeholder
        super().__init__(
            f'URL path placeholder {{{placeholder}}} has no value; pass it in params', **context)


class TransportError(CallError):
    """The remote end could not be reached or did not answer in time."""


class Timeout(TransportError):
    """A connect or read timeout expired."""


class ConnectTimeout(Timeout):
    """No connection could be made within the connect timeout."""


class ReadTimeout(Timeout):
    """The remote end did not answer within the read timeout."""


class ConnectError(TransportError):
    """The connection was refused, the name did not resolve, or the connection dropped."""


class TLSError(TransportError):
    """The TLS handshake failed or the server certificate was not trusted."""
