"""urllib3's response to a request, built as urllib3 builds it, faster.

After http.client has read an answer's head, urllib3's ``getresponse`` copies its fields into an
``HTTPHeaderDict`` (a method call and two ABC checks a field) and builds an ``HTTPResponse``
through an ``__init__`` that sets some twenty-five attributes, most of them to the same constants
every time: together a good part of what is left of urllib3's own time in a small call.
``QuickAnswers`` builds the same objects directly: the header dict's container as ``add`` fills
it, and the response from the attributes a real one starts with, the ones that depend on the
answer then set as ``__init__`` sets them (its length worked out by urllib3's own
``_init_length``).

Whether that is still what urllib3 builds is checked when this module is imported, by building
two unlike responses both ways and comparing every attribute; a urllib3 that builds them
differently, or starts a response with anything a copy would share, gets its own
``getresponse``, always. So does a request whose answer urllib3 is to read at once
(``preload_content``), which the pools never ask for.
"""

from __future__ import annotations

import email.policy
import http.client
import logging
from typing import Any

import urllib3.connection
from urllib3._collections import HTTPHeaderDict
from urllib3.connection import HTTPConnection
from urllib3.exceptions import HeaderParsingError
from urllib3.response import HTTPResponse
from urllib3.util.response import assert_header_parsing

# urllib3's logger for a head it could not parse, as urllib3 logs it.
_URLLIB3_CONNECTION_LOG = logging.getLogger('urllib3.connection')


def header_dict(fields: list[tuple[str, str]]) -> HTTPHeaderDict:
    """``HTTPHeaderDict(fields)``: each name under its lower case, with the first spelling of it
    and every value in turn, as ``HTTPHeaderDict.add`` keeps them."""
    container: dict[str, list[str]] = {}
    for name, value in fields:
        lower = name.lower()
        values = container.get(lower)
        if values is None:
            container[lower] = [name, value]
        else:
            values.append(value)
    headers = HTTPHeaderDict.__new__(HTTPHeaderDict)
    headers._container = container
    return headers


def _fields(message: http.client.HTTPMessage) -> list[tuple[str, str]]:
    """``message.items()``: under compat32, http.client's policy, each value as it was read (text
    decoded from latin-1 holds no surrogate for the policy to turn into a Header)."""
    if message.policy is email.policy.compat32:
        return message._headers  # type: ignore[attr-defined, no-any-return]
    return message.items()


class _Template:
    """The attributes every new HTTPResponse starts with, copied; those that depend on the answer
    and the request, set as ``__init__`` sets them."""

    # What HTTPResponse.__init__ derives from its arguments and the answer.
    OWN = frozenset(('headers', 'status', 'version', 'version_string', 'reason', 'decode_content', '_request_url',
                     'chunked', 'enforce_content_length', '_original_response', '_fp', '_sock_shutdown',
                     '_decoded_buffer', 'length_remaining'))

    def __init__(self) -> None:
        made = _made_by_urllib3(_Probe(), 'GET')
        self.buffer_type = type(made._decoded_buffer)
        shared = {key: value for key, value in vars(made).items() if key not in self.OWN}
        # Only values no response changes in place can be shared: None, flags, numbers, text.
        self.shared: dict[str, Any] | None = shared if all(
            value is None or type(value) in (bool, int, str, bytes) for value in shared.values()) else None
        # Two answers as unlike as can be: what urllib3 derives from an answer in a way this does not
        # shows in one of them, and a urllib3 that builds its response otherwise keeps its own getresponse.
        for probe, method in ((_Probe(), 'GET'), (_Probe(404, 'Not Found', 10, ()), 'HEAD')):
            if self.shared is not None and not _same(_made_by_urllib3(probe, method), self.build(
                    probe, method, 'HTTP/1.1', False, '/probe', True, None)):
                self.shared = None

    def build(self, answer: Any, method: str | None, version_string: str, decode_content: bool,
              request_url: str | None, enforce_content_length: bool, shutdown: Any) -> HTTPResponse:
        """The HTTPResponse urllib3's ``getresponse`` builds of ``answer``, set attribute by attribute."""
        assert self.shared is not None
        response: HTTPResponse = HTTPResponse.__new__(HTTPResponse)
        own = response.__dict__
        own.update(self.shared)
        headers = header_dict(_fields(answer.msg))
        own['headers'] = headers
        own['status'] = answer.status
        own['version'] = answer.version
        own['version_string'] = version_string
        own['reason'] = answer.reason
        own['decode_content'] = decode_content
        own['_request_url'] = request_url
        codings = headers._container.get('transfer-encoding')
        # As BaseHTTPResponse reads it: chunked among the comma-separated codings of every such field.
        own['chunked'] = codings is not None and 'chunked' in (
            part.strip() for part in ', '.join(codings[1:]).lower().split(','))
        own['enforce_content_length'] = enforce_content_length
        own['_original_response'] = answer
        own['_fp'] = answer
        own['_sock_shutdown'] = shutdown
        own['_decoded_buffer'] = self.buffer_type()
        own['length_remaining'] = response._init_length(method)
        return response


class _Probe:
    """An answer's http.client response, as far as building urllib3's response reads it."""

    def __init__(self, status: int = 200, reason: str = 'OK', version: int = 11,
                 fields: tuple[tuple[str, str], ...] = (('Content-Type', 'text/plain'), ('Content-Length', '5'),
                                                        ('transfer-encoding', 'gzip'),
                                                        ('Transfer-Encoding', 'identity'))) -> None:
        self.status, self.reason, self.version = status, reason, version
        self.msg = http.client.HTTPMessage()
        for name, value in fields:
            self.msg[name] = value

    def read(self, amt: int | None = None) -> bytes:
        return b''


def _made_by_urllib3(answer: _Probe, method: str) -> HTTPResponse:
    """The response urllib3's getresponse builds of ``answer`` (its arguments as getresponse passes them)."""
    return HTTPResponse(body=answer, headers=HTTPHeaderDict(answer.msg.items()),  # type: ignore[arg-type]
                        status=answer.status, version=answer.version, version_string='HTTP/1.1', reason=answer.reason,
                        preload_content=False, decode_content=False, original_response=answer,  # type: ignore[arg-type]
                        enforce_content_length=True, request_method=method, request_url='/probe',
                        sock_shutdown=None)


def _same(made: HTTPResponse, built: HTTPResponse) -> bool:
    """Whether two responses hold the same: every attribute, the headers in their order."""
    ours, theirs = vars(built), vars(made)
    if ours.keys() != theirs.keys() or type(ours['_decoded_buffer']) is not type(theirs['_decoded_buffer']):
        return False
    if list(ours['headers'].items()) != list(theirs['headers'].items()):
        return False
    return all(ours[key] == theirs[key] for key in ours if key not in ('_decoded_buffer', 'headers'))


TEMPLATE = _Template()


class QuickAnswers(HTTPConnection):
    """urllib3's HTTPConnection building its responses with ``_Template``; a base of the pools'
    connections, plain and TLS."""

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        options = getattr(self, '_response_options', None)
        if TEMPLATE.shared is None or options is None or options.preload_content:
            return super().getresponse()
        # What urllib3's getresponse does, in its order, up to building the response.
        self._response_options = None
        self.sock.settimeout(self.timeout)
        shutdown = getattr(self.sock, 'shutdown', None)
        answer = http.client.HTTPConnection.getresponse(self)
        try:
            assert_header_parsing(answer.msg)
        except (HeaderParsingError, TypeError) as error:
            _URLLIB3_CONNECTION_LOG.warning('Failed to parse headers (url=%s): %s',
                                            _url_of(self, options.request_url), error, exc_info=True)
        return TEMPLATE.build(answer, options.request_method, getattr(self, '_http_vsn_str', 'HTTP/?'),
                              options.decode_content, options.request_url, options.enforce_content_length, shutdown)


def _url_of(connection: HTTPConnection, path: str | None) -> str:
    """The URL urllib3's warning names, as urllib3 writes it where it can."""
    written = getattr(urllib3.connection, '_url_from_connection', None)
    return written(connection, path) if written is not None else str(path)
