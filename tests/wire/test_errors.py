"""The one mapping of third-party exceptions: every class listed, each kind a CallError with the call."""

from __future__ import annotations

import http.client
import inspect
import types
from typing import Any

import pytest
import requests.exceptions
import urllib3.exceptions
import zeep.exceptions

from zato_outconn import (
    BadResponse,
    CallError,
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadTimeout,
    RequestError,
    ResponseInterrupted,
    SOAPError,
    Timeout,
    TLSError,
    TransportError,
    WSDLError,
)
from zato_outconn.wire.call import Call
from zato_outconn.wire.errors import KINDS, ZEEP_KINDS, kind_of, map_error

CALL = Call('CRM', 'GET', 'http://127.0.0.1:9/customers', 'cid-1')


def exception_classes(module: types.ModuleType) -> list[type[BaseException]]:
    return [value for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, BaseException) and not issubclass(value, Warning)
            and value.__module__ == module.__name__]


@pytest.mark.parametrize('module', [requests.exceptions, urllib3.exceptions], ids=lambda module: module.__name__)
def test_every_requests_and_urllib3_exception_is_listed(module: types.ModuleType) -> None:
    unlisted = [cls.__name__ for cls in exception_classes(module) if cls not in KINDS]
    assert not unlisted, f'map these in zato_outconn.wire.errors.KINDS: {unlisted}'


def test_every_zeep_exception_is_listed() -> None:
    unlisted = [cls.__name__ for cls in exception_classes(zeep.exceptions) if cls.__name__ not in ZEEP_KINDS]
    assert not unlisted, f'map these in zato_outconn.wire.errors.ZEEP_KINDS: {unlisted}'
    for name in ZEEP_KINDS:
        assert isinstance(getattr(zeep.exceptions, name), type), name


class _Response:
    """Stands in for the urllib3 response a few of its exceptions read from when they are built."""

    length_remaining = 0

    def tell(self) -> int:
        return 0


def make(cls: type[BaseException]) -> BaseException:
    """An instance of any of their exception classes, whatever its constructor wants."""
    shapes: tuple[tuple[Any, ...], ...] = ((), ('the reason',), (0, 0), ('the reason', '', 0), (None, 'the reason'),
                                           (None, 'http://x', 'the reason'), (_Response(), b'zz'))
    for args in shapes:
        try:
            return cls(*args)
        except (TypeError, AttributeError):
            continue
    raise AssertionError(f'cannot build {cls.__name__}')


ALL_CLASSES = [cls for module in (requests.exceptions, urllib3.exceptions, zeep.exceptions)
               for cls in exception_classes(module)]


@pytest.mark.parametrize('cls', ALL_CLASSES, ids=lambda cls: f'{cls.__module__}.{cls.__name__}')
def test_every_exception_maps_to_a_call_error_naming_the_call(cls: type[BaseException]) -> None:
    error = make(cls)
    assert kind_of(error) is not None
    mapped = map_error(error, CALL, timeout=(3.0, 7.0), max_redirects=5)
    assert isinstance(mapped, CallError)
    assert (mapped.name, mapped.method, mapped.url, mapped.cid) == ('CRM', 'GET', CALL.url, 'cid-1')
    assert 'cid-1' in str(mapped) and "'CRM'" in str(mapped)


@pytest.mark.parametrize(('error', 'expected', 'says'), [
    (requests.exceptions.ConnectTimeout(), ConnectTimeout, 'connect timeout of 3.0 s'),
    (requests.exceptions.ReadTimeout(), ReadTimeout, 'read timeout of 7.0 s'),
    (urllib3.exceptions.ReadTimeoutError(None, '/', 'read timed out'), ReadTimeout, 'read timeout of 7.0 s'),
    (urllib3.exceptions.EmptyPoolError(None, 'no socket'), PoolTimeout, 'pool_size'),
    (requests.exceptions.SSLError('certificate verify failed'), TLSError, 'certificate verify failed'),
    (requests.exceptions.ProxyError('refused'), ConnectError, 'the proxy failed'),
    (requests.exceptions.ConnectionError('Connection refused'), ConnectError, 'Connection refused'),
    (requests.exceptions.TooManyRedirects(), TransportError, 'max_redirects (5)'),
    (requests.exceptions.InvalidHeader('bad'), RequestError, 'cannot be sent'),
    (requests.exceptions.ChunkedEncodingError('broken'), ResponseInterrupted, 'ChunkedEncodingError: broken'),
    (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        'Connection aborted.', http.client.RemoteDisconnected('closed'))), ConnectError, 'closed the connection'),
    (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        'Connection aborted.', http.client.BadStatusLine('junk'))), BadResponse, 'not valid HTTP: BadStatusLine'),
    (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        'Connection aborted.', TimeoutError('timed out'))), Timeout, 'none of it could be sent for 3.0 s'),
    (zeep.exceptions.ValidationError('missing element'), RequestError, 'missing element'),
    (zeep.exceptions.XMLParseError('bad answer'), SOAPError, 'bad answer'),
    (zeep.exceptions.WsdlSyntaxError('bad wsdl'), WSDLError, 'bad wsdl'),
])
def test_each_kind_is_the_most_specific_error(error: BaseException, expected: type[CallError], says: str) -> None:
    mapped = map_error(error, CALL, timeout=(3.0, 7.0), max_redirects=5)
    assert type(mapped) is expected
    assert says in mapped.message


@pytest.mark.parametrize(('error', 'expected', 'says'), [
    (requests.exceptions.ConnectionError(urllib3.exceptions.ReadTimeoutError(None, '/', 'read timed out')),
     ReadTimeout, 'stopped coming for longer than the read timeout of 7.0 s'),
    (urllib3.exceptions.ProtocolError('Connection broken', ConnectionResetError(104, 'reset')),
     ResponseInterrupted, 'ConnectionResetError'),
    (urllib3.exceptions.ProtocolError('Connection broken', http.client.IncompleteRead(b'x', 5)),
     ResponseInterrupted, 'IncompleteRead'),
])
def test_errors_while_the_body_is_read_say_so(error: BaseException, expected: type[CallError], says: str) -> None:
    mapped = map_error(error, CALL, timeout=(3.0, 7.0), reading_body=True)
    assert type(mapped) is expected
    assert says in mapped.message and 'cannot connect' not in mapped.message


def test_an_unknown_exception_still_maps_to_a_transport_error() -> None:
    class Strange(Exception):
        pass

    mapped: Any = map_error(Strange('odd'), CALL)
    assert type(mapped) is TransportError and 'Strange: odd' in mapped.message
