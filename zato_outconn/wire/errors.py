"""The one place where requests, urllib3, ssl and zeep exceptions become the library's own.

Every exception class those libraries define is listed in ``KINDS`` by itself, with the kind of
failure it stands for; a test fails when one of them adds a class that is not listed. An error
is mapped by the first of its classes (in method resolution order) that is listed, then refined
by what it wraps: requests wraps urllib3's errors, which wrap the socket's, and the same
``ConnectionError`` of requests may stand for a refused connection, a server that closed the
socket without answering, or a body cut short. Only a failure to connect says "cannot connect".
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import sys
from collections.abc import Callable
from typing import Any

import requests.exceptions as rex
import urllib3.exceptions as uex

from zato_outconn.exceptions import (
    BadResponse,
    CallError,
    ConnectError,
    ConnectTimeout,
    NotSOAPResponse,
    PoolTimeout,
    ReadTimeout,
    RequestError,
    ResponseInterrupted,
    SOAPError,
    SOAPFault,
    Timeout,
    TLSError,
    TransportError,
    WSDLError,
)
from zato_outconn.wire.budget import MAX_SOCKETS_ENV, PROCESS_WHOSE, SocketsBusy
from zato_outconn.wire.call import Call
from zato_outconn.wire.deadline import DeadlinePassed

# How much of a non-SOAP answer an error keeps, enough to recognise an HTML error page.
BODY_START_LENGTH = 300

# The kinds of failure, each mapped to one of our exceptions by _BUILDERS below.
CONNECT, CONNECT_TIMEOUT, READ_TIMEOUT, POOL_TIMEOUT, TLS, PROXY, REDIRECTS, INPUT, PROTOCOL = (
    'connect', 'connect_timeout', 'read_timeout', 'pool_timeout', 'tls', 'proxy', 'redirects', 'input', 'protocol')
# After connecting: closed unanswered, a send that stalled, an answer that stalled, broke HTTP, or was cut.
DROPPED, WRITE_TIMEOUT, BODY_TIMEOUT, BAD_RESPONSE, INTERRUPTED = (
    'dropped', 'write_timeout', 'body_timeout', 'bad_response', 'interrupted')
FAULT, NOT_SOAP, SOAP_ANSWER, SOAP_INPUT, WSDL = 'fault', 'not_soap', 'soap_answer', 'soap_input', 'wsdl'

KINDS: dict[type[BaseException], str] = {
    # requests: what Session.send raises, most of it wrapping urllib3.
    rex.RequestException: PROTOCOL,
    rex.InvalidJSONError: INPUT,
    rex.JSONDecodeError: PROTOCOL,
    rex.HTTPError: PROTOCOL,
    rex.ConnectionError: CONNECT,
    rex.ProxyError: PROXY,
    rex.SSLError: TLS,
    rex.Timeout: READ_TIMEOUT,
    rex.ConnectTimeout: CONNECT_TIMEOUT,
    rex.ReadTimeout: READ_TIMEOUT,
    rex.URLRequired: INPUT,
    rex.TooManyRedirects: REDIRECTS,
    rex.MissingSchema: INPUT,
    rex.InvalidSchema: INPUT,
    rex.InvalidURL: INPUT,
    rex.InvalidHeader: INPUT,
    rex.InvalidProxyURL: INPUT,
    rex.ChunkedEncodingError: INTERRUPTED,
    rex.ContentDecodingError: BAD_RESPONSE,
    rex.StreamConsumedError: INPUT,
    rex.RetryError: PROTOCOL,
    rex.UnrewindableBodyError: INPUT,
    # urllib3: what escapes requests' adapter unwrapped (EmptyPoolError), or is raised while a
    # streamed body is read.
    uex.HTTPError: PROTOCOL,
    uex.PoolError: PROTOCOL,
    uex.RequestError: PROTOCOL,
    uex.SSLError: TLS,
    uex.ProxyError: PROXY,
    uex.DecodeError: BAD_RESPONSE,
    uex.ProtocolError: CONNECT,
    uex.ConnectionError: CONNECT,
    uex.MaxRetryError: CONNECT,
    uex.HostChangedError: PROTOCOL,
    uex.TimeoutStateError: INPUT,
    uex.TimeoutError: READ_TIMEOUT,
    uex.ReadTimeoutError: READ_TIMEOUT,
    uex.ConnectTimeoutError: CONNECT_TIMEOUT,
    uex.NewConnectionError: CONNECT,
    uex.NameResolutionError: CONNECT,
    uex.EmptyPoolError: POOL_TIMEOUT,
    uex.FullPoolError: POOL_TIMEOUT,
    uex.ClosedPoolError: CONNECT,
    uex.LocationValueError: INPUT,
    uex.LocationParseError: INPUT,
    uex.URLSchemeUnknown: INPUT,
    uex.ResponseError: PROTOCOL,
    uex.ResponseNotChunked: PROTOCOL,
    uex.BodyNotHttplibCompatible: INPUT,
    uex.IncompleteRead: INTERRUPTED,
    uex.InvalidChunkLength: BAD_RESPONSE,
    uex.InvalidHeader: BAD_RESPONSE,
    uex.ProxySchemeUnknown: INPUT,
    uex.ProxySchemeUnsupported: INPUT,
    uex.HeaderParsingError: BAD_RESPONSE,
    uex.UnrewindableBodyError: INPUT,
    # The standard library, below urllib3.
    ssl.SSLError: TLS,
    http.client.HTTPException: BAD_RESPONSE,
    http.client.IncompleteRead: INTERRUPTED,
    http.client.RemoteDisconnected: DROPPED,
    ConnectionError: CONNECT,
    # Ours: a connection's sockets of every generation together reached pool_size (wire.budget).
    SocketsBusy: POOL_TIMEOUT,
    # Ours: past a call's deadline (wire.deadline); a send reports TotalTimeout for it.
    DeadlinePassed: READ_TIMEOUT,
}

# zeep's exceptions, by name: zeep is imported only by connections that have a WSDL, and this
# module must not import it for everyone else. ``zeep_kinds`` turns these into classes.
ZEEP_KINDS: dict[str, str] = {
    'Error': SOAP_ANSWER,
    'XMLSyntaxError': SOAP_ANSWER,
    'XMLParseError': SOAP_ANSWER,
    'UnexpectedElementError': SOAP_ANSWER,
    'WsdlSyntaxError': WSDL,
    'TransportError': NOT_SOAP,
    'LookupError': WSDL,
    'NamespaceError': WSDL,
    'Fault': FAULT,
    'ValidationError': SOAP_INPUT,
    'SignatureVerificationFailed': SOAP_ANSWER,
    'IncompleteMessage': SOAP_INPUT,
    'IncompleteOperation': SOAP_INPUT,
    'DTDForbidden': WSDL,
    'EntitiesForbidden': WSDL,
    'ExternalReferenceForbidden': WSDL,
}

# What every mappable error is an instance of: what send() catches.
MAPPABLE: tuple[type[BaseException], ...] = (rex.RequestException, uex.HTTPError, ssl.SSLError,
                                             http.client.HTTPException, ConnectionError)


def zeep_kinds() -> dict[type[BaseException], str]:
    """ZEEP_KINDS by class, once zeep has been imported (an empty table until then)."""
    zeep_exceptions = sys.modules.get('zeep.exceptions')
    if zeep_exceptions is None:
        return {}
    return {getattr(zeep_exceptions, name): kind for name, kind in ZEEP_KINDS.items()}


def kind_of(error: BaseException, *, reading_body: bool = False) -> str | None:
    """The kind of failure an error stands for, or None if it is none of those listed.

    ``reading_body``: the error came while the answer's body was read, after its headers.
    """
    if isinstance(error, uex.MaxRetryError) and isinstance(error.reason, BaseException):
        # What urllib3 gave up on, as requests would have told it (the direct route meets these raw).
        return kind_of(error.reason, reading_body=reading_body) or PROTOCOL
    zeep = zeep_kinds()
    for cls in type(error).__mro__:
        kind = KINDS.get(cls) or zeep.get(cls)
        if kind is not None:
            return _refined(kind, error, reading_body)
    return None


# What the errors of each phase wrap, most telling first.
_CONNECTING = (uex.NewConnectionError, uex.ConnectTimeoutError, uex.ProxyError, uex.ClosedPoolError)
_CUT_SHORT = (uex.ProtocolError, http.client.IncompleteRead, OSError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
_REFINED = frozenset((CONNECT, PROTOCOL, READ_TIMEOUT, BAD_RESPONSE, INTERRUPTED, DROPPED, TLS, INPUT))


def _refined(kind: str, error: BaseException, reading_body: bool) -> str:
    """The kind, made exact by what the error wraps and by when it came."""
    if kind not in _REFINED:
        return kind
    chain = causes(error)

    def found(*classes: type[BaseException]) -> bool:
        return any(isinstance(cause, classes) for cause in chain)

    if found(*_CONNECTING):
        return kind
    if reading_body:
        if found(uex.ReadTimeoutError, socket.timeout):
            return BODY_TIMEOUT
        if found(uex.InvalidChunkLength, uex.DecodeError):
            return BAD_RESPONSE
        return INTERRUPTED if found(*_CUT_SHORT) else kind
    if found(http.client.RemoteDisconnected):
        return DROPPED
    if found(uex.ReadTimeoutError):
        return READ_TIMEOUT
    if found(socket.timeout):
        # urllib3 turns a timeout waiting for the answer into ReadTimeoutError: this one came
        # while the request was being sent, to a server that stopped reading it.
        return WRITE_TIMEOUT
    if kind == TLS:
        return kind
    if found(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return DROPPED
    if found(http.client.HTTPException, uex.InvalidHeader):
        return BAD_RESPONSE
    return kind


def map_error(error: BaseException, call: Call, *, timeout: Any = None, max_redirects: int | None = None,
              soap_version: str = '1.1', reading_body: bool = False) -> CallError:
    """The most specific library exception for what a third-party library raised during a call.

    ``timeout`` is what the call used: the template's ``(connect, read)`` or the caller's own.
    ``reading_body``: the error came while the body was read, after the answer's headers.
    The caller chains it: ``raise map_error(error, call) from error``.
    """
    kind = kind_of(error, reading_body=reading_body) or PROTOCOL
    return _BUILDERS[kind](error, call, _Limits(timeout, max_redirects, soap_version))


def map_wsdl_error(error: BaseException, *, name: str, where: str) -> WSDLError:
    """A WSDL that cannot be fetched or used: a call error (our own or mapped) or a parse failure."""
    if isinstance(error, CallError):
        return WSDLError(f'cannot fetch {where}: {error.message}', name=name)
    return WSDLError(f'cannot use {where}: {type(error).__name__}: {error}', name=name)


class _Limits:
    """The limits a message names: the timeouts, the redirects allowed, the SOAP version."""

    def __init__(self, timeout: Any, max_redirects: int | None, soap_version: str) -> None:
        self.connect, self.read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.max_redirects = max_redirects
        self.soap_version = soap_version


def causes(error: BaseException) -> list[BaseException]:
    """The error and what it wraps, outermost first: requests puts urllib3's error first in its
    arguments, urllib3 its cause in ``reason`` or (ProtocolError) second in its arguments."""
    chain = [error]
    current = error
    while len(chain) < 8:
        inner = getattr(current, 'reason', None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in current.args if isinstance(arg, BaseException)), None)
        if inner is None or inner in chain:
            break
        chain.append(inner)
        current = inner
    return chain


def root_cause(error: BaseException) -> str:
    """The innermost reason urllib3 gives (Connection refused, certificate verify failed...).

    Without the credentials of any URL it quotes (urllib3 quotes a proxy URL it cannot parse whole,
    ``user:password@`` included), and cut to a length a message can take: some of it may come from
    the remote end (a status line that is no HTTP), which may echo anything it was sent.
    """
    current = causes(error)[-1]
    text = str(current)
    # urllib3 prefixes its messages with the connection's repr; the URL is in the error already.
    _, separator, rest = text.partition('): ')
    if separator and text.startswith(('HTTPConnection', 'HTTPSConnection', '<')):
        text = rest
    text = _CREDENTIALS.sub(r'\1***@', text)
    return text if len(text) <= _MAX_CAUSE else f'{text[:_MAX_CAUSE]}...'


# A URL's user part: what follows the scheme up to an @ before any slash or space.
_CREDENTIALS = re.compile(r'(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@')
# The most of a cause a message quotes.
_MAX_CAUSE = 300


def _named(error: BaseException) -> str:
    """The innermost error with its class, which says more than the message alone (IncompleteRead...)."""
    inner = causes(error)[-1]
    return f'{type(inner).__name__}: {root_cause(inner)}'


def _fault(error: Any, call: Call, limits: _Limits) -> CallError:
    subcodes = error.subcodes or []
    return SOAPFault(code=str(error.code or ''), subcode=str(subcodes[0]) if subcodes else None,
                     reason=str(error.message or ''), actor=error.actor, detail=error.detail,
                     status_code=None, version=limits.soap_version, **call.context())


def _not_soap(error: Any, call: Call, limits: _Limits) -> CallError:
    start = (error.content or b'')[:BODY_START_LENGTH]
    text = start.decode('utf-8', 'replace') if isinstance(start, bytes) else str(start)
    return NotSOAPResponse('the answer is no SOAP envelope', status_code=error.status_code, body_start=text,
                           **call.context())


_Builder = Callable[[Any, Call, _Limits], CallError]
_BUILDERS: dict[str, _Builder] = {
    POOL_TIMEOUT: lambda error, call, limits: PoolTimeout(
        f'all {error.size} sockets this process may open stayed busy for the connect timeout; raise '
        f'{MAX_SOCKETS_ENV}, or close streamed responses sooner'
        if isinstance(error, SocketsBusy) and error.whose == PROCESS_WHOSE else
        'every socket of the pool (pool_size) stayed busy for the connect timeout; '
        'raise pool_size, or close streamed responses sooner', **call.context()),
    CONNECT_TIMEOUT: lambda error, call, limits: ConnectTimeout(
        f'no connection within the connect timeout of {limits.connect} s', **call.context()),
    READ_TIMEOUT: lambda error, call, limits: ReadTimeout(
        f'no answer within the read timeout of {limits.read} s', **call.context()),
    TLS: lambda error, call, limits: TLSError(f'TLS failed: {root_cause(error)}', **call.context()),
    PROXY: lambda error, call, limits: ConnectError(f'the proxy failed: {root_cause(error)}', **call.context()),
    CONNECT: lambda error, call, limits: ConnectError(f'cannot connect: {root_cause(error)}', **call.context()),
    DROPPED: lambda error, call, limits: ConnectError(
        f'the remote end closed the connection without answering: {root_cause(error)}'
        if any(isinstance(cause, http.client.RemoteDisconnected) for cause in causes(error)) else
        f'the remote end reset the connection before its answer came in full: {root_cause(error)}',
        **call.context()),
    # urllib3 sends under the connect timeout, and sets the read timeout only once the request is out.
    WRITE_TIMEOUT: lambda error, call, limits: Timeout(
        f'the remote end stopped reading the request: none of it could be sent for {limits.connect} s '
        '(the connect timeout, which also bounds sending)', **call.context()),
    BODY_TIMEOUT: lambda error, call, limits: ReadTimeout(
        f'the answer stopped coming for longer than the read timeout of {limits.read} s', **call.context()),
    BAD_RESPONSE: lambda error, call, limits: BadResponse(
        f'the answer is not valid HTTP: {_named(error)}', **call.context()),
    INTERRUPTED: lambda error, call, limits: ResponseInterrupted(
        f'the connection dropped while the answer was being read: {_named(error)}', **call.context()),
    REDIRECTS: lambda error, call, limits: TransportError(
        f'more than max_redirects ({limits.max_redirects}) redirects', **call.context()),
    INPUT: lambda error, call, limits: RequestError(
        f'the request cannot be sent: {type(error).__name__}: {root_cause(error)}', **call.context()),
    PROTOCOL: lambda error, call, limits: TransportError(
        f'{type(error).__name__}: {root_cause(error)}', **call.context()),
    FAULT: _fault,
    NOT_SOAP: _not_soap,
    SOAP_ANSWER: lambda error, call, limits: SOAPError(
        f'the answer does not fit the WSDL: {type(error).__name__}: {error}', **call.context()),
    SOAP_INPUT: lambda error, call, limits: RequestError(
        f'the operation cannot be called with these arguments: {error}', **call.context()),
    WSDL: lambda error, call, limits: WSDLError(
        f'the WSDL cannot be used: {type(error).__name__}: {error}', **call.context()),
}
