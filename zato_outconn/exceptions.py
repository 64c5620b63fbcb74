"""Exceptions raised by zato-outconn.

The whole tree::

    OutconnError                  root of everything the library raises
    ├── ConfigError               settings are invalid (names every bad field and its rule)
    │   └── ImportRefused         an import has bad items; .report says what each would have done
    ├── NotFound                  no connection or security definition of that name (also a KeyError)
    ├── InUse                     a security definition cannot be deleted while connections use it
    ├── Conflict                  the row was changed by someone else since it was read
    ├── SchemaError               the database schema is missing or out of date
    ├── StoreError                the database cannot be reached, read or written (says what to do)
    └── CallError                 a call through a connection failed; carries name, method, URL and cid
        ├── SecretsError          secrets cannot be encrypted or decrypted (keys missing or wrong), or a
        │                         definition has none to apply; raised by the store too, without a call
        ├── TokenError            an OAuth2 token endpoint did not give a token
        ├── Inactive              the connection is switched off
        ├── InterceptorError      an interceptor's before_send or after_receive raised (its error is the cause)
        ├── RequestError          the caller's input cannot be sent (also a ValueError)
        │   └── MissingParameter  a {placeholder} in the URL path has no value in params
        ├── TransportError        the remote end could not be reached or did not answer
        │   ├── Timeout
        │   │   ├── ConnectTimeout
        │   │   ├── ReadTimeout
        │   │   ├── PoolTimeout   every socket of the pool stayed busy
        │   │   └── TotalTimeout  the whole call took longer than total_timeout
        │   ├── ConnectError      connection refused, DNS failure, proxy failure, dropped connection
        │   ├── TLSError          certificate or handshake failure
        │   ├── BadResponse       the answer broke HTTP (a bad status line, headers, Content-Length)
        │   ├── ResponseInterrupted  the connection dropped while the answer was being read
        │   └── ResponseTooLarge  a prefetched body was larger than max_response_size
        ├── CircuitOpen           the connection's circuit is open: the call was refused, nothing sent
        ├── RateLimited           no call slot of rate_limit came within the call's total timeout
        ├── RetriesExhausted      every attempt failed; .attempts says how many, the last error is the cause
        └── SOAPError             a SOAP call did not give a SOAP answer to use
            ├── SOAPFault         the answer is a Fault: code, subcode, reason, actor, detail
            ├── NotSOAPResponse   the answer is no SOAP envelope (an HTML error page, say)
            └── WSDLError         the WSDL cannot be fetched or parsed

Every requests, urllib3, ssl and zeep exception is mapped in one place, ``wire.errors``, and
chained with ``raise ... from``. Errors raised during a call, security ones included, are
``CallError`` s, so ``except CallError`` catches every way a call can fail.
"""

from __future__ import annotations

import re
from typing import Any

# What is escaped before text reaches a message or a log line: control characters, the Unicode line
# and paragraph separators, and lone surrogates (which no UTF-8 log file can hold).
_UNPRINTABLE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')


def printable(text: str) -> str:
    """text with each control character escaped as Python writes it (\\n, \\x85), so that it can
    neither break a log line nor forge one."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], text)


class OutconnError(Exception):
    """Root of all exceptions raised by zato-outconn."""


class ConfigError(OutconnError, ValueError):
    """Settings are invalid: ``errors`` lists every ``(field, rule)``; ``field`` and ``rule`` are the first.

    A rule never repeats the value of a secret setting.
    """

    def __init__(self, field: str, message: str, *, errors: list[tuple[str, str]] | None = None) -> None:
        # A rule may quote what it was given: never with a raw line break.
        self.errors = [(printable(name), printable(rule)) for name, rule in (errors if errors else [(field, message)])]
        self.field, self.rule = self.errors[0]
        super().__init__('; '.join(f'{name}: {rule}' for name, rule in self.errors))

    @classmethod
    def of(cls, errors: list[tuple[str, str]]) -> ConfigError:
        return cls(errors[0][0], errors[0][1], errors=errors)


class ImportRefused(ConfigError):
    """An import was refused, and nothing was written; ``errors`` name the item and the field.

    ``report`` is the plan as far as it got: what every item would have done, the bad ones with why.
    """

    def __init__(self, errors: list[tuple[str, str]], report: Any) -> None:
        self.report = report
        super().__init__(errors[0][0], errors[0][1], errors=errors)


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




class CallError(OutconnError):
    """A call through a connection failed.

    Every call error names the connection, the HTTP method, the URL (never with credentials)
    and the correlation ID, so a log line alone says what failed where.
    """

    def __init__(self, message: str, *, name: str = '', method: str = '', url: str = '', cid: str = '') -> None:
        self.name = name
        self.method = method
        self.url = url
        self.cid = cid
        # What a server said (a reason, a fault string) may be part of it: shown escaped, it cannot
        # break or forge a line of a log.
        message = printable(message)
        self.message = message
        if not name:
            # Raised outside a call (a store that cannot decrypt, say): the message says it all.
            super().__init__(message)
            return
        where = f' {method} {url}' if method else ''
        super().__init__(f'{name!r}{where} (cid {cid}): {message}' if cid else f'{name!r}{where}: {message}')

    def in_call(self, *, name: str, method: str, url: str, cid: str) -> None:
        """Say which call this error, raised by a part that does not know the call, happened in.

        The message stays as it was (it names the definition and says what to fix); the call
        goes into the attributes and a note, which tracebacks show.
        """
        self.name, self.method, self.url, self.cid = name, method, url, cid
        self.add_note(f'in a call of connection {name!r}: {method} {url} (cid {cid})')


class StoreError(OutconnError):
    """The database cannot be reached, read or written; the message says what to do."""


class SecretsError(CallError):
    """Secrets cannot be encrypted or decrypted with the keys configured, or a definition has none."""


class TokenError(CallError):
    """An OAuth2 token endpoint did not give a token; names the definition, endpoint and status."""

    def __init__(self, definition: str, token_url: str, status_code: int | None, problem: str) -> None:
        self.definition = definition
        self.token_url = token_url
        self.status_code = status_code
        status = f' with HTTP {status_code}' if status_code is not None else ''
        super().__init__(f'Security definition {definition!r}: the token endpoint {token_url} {problem}{status}')


class Inactive(CallError):
    """The connection exists but is switched off (is_active is false)."""


class InterceptorError(CallError):
    """An interceptor (``Runtime.add_interceptor``) raised; the message names it and the hook, and its
    own error is the ``__cause__``."""


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


class PoolTimeout(Timeout):
    """Every socket of the connection's pool (pool_size) stayed busy for the connect timeout."""


class TotalTimeout(Timeout):
    """The whole call (connect, headers and a prefetched body) took longer than total_timeout."""


class ConnectError(TransportError):
    """The connection was refused, the name did not resolve, or the connection dropped."""


class TLSError(TransportError):
    """The TLS handshake failed or the server certificate was not trusted."""


class BadResponse(TransportError):
    """The remote end answered something that is not valid HTTP."""


class ResponseInterrupted(TransportError):
    """The connection dropped, or stalled past a limit, while the answer's body was being read."""


class ResponseTooLarge(TransportError):
    """A prefetched body was larger than the connection's max_response_size."""


class CircuitOpen(CallError):
    """The connection's circuit breaker is open (or half-open with its one trial call in progress):
    the call was refused at once, and nothing was sent."""


class RateLimited(CallError):
    """The connection's rate_limit left no call slot within the call's total timeout; nothing was sent."""


class RetriesExhausted(CallError):
    """Every attempt of a retried call failed; ``attempts`` says how many were made, and the last
    attempt's error is the ``__cause__``."""

    def __init__(self, message: str, *, attempts: int, **context: str) -> None:
        self.attempts = attempts
        super().__init__(message, **context)


class SOAPError(CallError):
    """A SOAP call did not give a SOAP answer the caller can use."""


class SOAPFault(SOAPError):
    """The remote end answered with a SOAP Fault (1.1 or 1.2), whatever the HTTP status.

    ``code`` and ``reason`` are faultcode/faultstring in SOAP 1.1 and Code/Value and Reason/Text
    in 1.2; ``subcode`` is 1.2 only; ``actor`` is faultactor (1.1) or Role (1.2); ``detail`` is
    the detail element or None. ``status_code`` is None for faults raised by zeep calls, which do not
    say it; ``version`` is then the connection's.
    """

    def __init__(self, *, code: str, subcode: str | None, reason: str, actor: str | None, detail: Any,
                 status_code: int | None, version: str, **context: str) -> None:
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.actor = actor
        self.detail = detail
        self.status_code = status_code
        self.version = version
        codes = f'{code}/{subcode}' if subcode else code
        status = f' (HTTP {status_code})' if status_code is not None else ''
        super().__init__(f'SOAP {version} fault {codes}: {reason}{status}', **context)


class NotSOAPResponse(SOAPError):
    """The answer is not a SOAP envelope; ``status_code`` and ``body_start`` say what it was."""

    def __init__(self, why: str, *, status_code: int, body_start: str, **context: str) -> None:
        self.status_code = status_code
        self.body_start = body_start
        super().__init__(f'HTTP {status_code}, {why}; the answer begins: {body_start!r}', **context)


class WSDLError(SOAPError):
    """The connection's WSDL cannot be fetched or parsed."""
