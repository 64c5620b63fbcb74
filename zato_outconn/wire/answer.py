"""urllib3's response to a request, built as urllib3 builds it, faster.

After http.client has read an answer's head, urllib3's ``getresponse`` copies its fields into an
``HTTPHeaderDict`` (a method call and two ABC checks a field) and builds an ``HTTPResponse``
through an ``__init__`` that sets some twenty-five attributes, most of them to the same constants
every time: together a good part of what is left of urllib3's own time in a small call.
``QuickAnswers`` builds the same objects directly: the header dict's container as ``add`` fills
it, and the response from the attributes a real one starts with, the ones that depend on the
answer then set as ``__init__`` sets them (its length worked out by urllib3's own
``_init_length``).

Whether that is still what urllib3 builds is checked when this module is imported: its
getresponse must take the steps of urllib3 2.7 or 2.8 (the names it uses), and two unlike
responses built both ways must hold the same, attribute for attribute. A urllib3 that fails
either, that starts a response with anything a copy would share, or whose response class,
``__init__`` or header dict is replaced later (looked at on each call), gets its own
``getresponse``. So does a request whose answer urllib3 is to read at once (``preload_content``),
which the pools never ask for.
"""

from __future__ import annotations

import email.policy
import http.client
import io
from typing import Any

import urllib3.connection
import urllib3.response
from urllib3._collections import HTTPHeaderDict
from urllib3.connection import HTTPConnection
from urllib3.exceptions import HeaderParsingError
from urllib3.response import BaseHTTPResponse, HTTPResponse


def _header_dict(fields: list[tuple[str, str]]) -> HTTPHeaderDict:
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


def _header_items(message: http.client.HTTPMessage, normalize: Any) -> list[tuple[str, str]]:
    """The fields urllib3's getresponse puts in a response's headers: through urllib3's own
    ``_normalize_header_values`` where its getresponse calls it (2.8 and later: a folded value made
    one line, and the message changed to match) and a value is folded; else ``message.items()``,
    which under compat32, http.client's policy, gives each value as it was read (text decoded from
    latin-1 holds no surrogate for the policy to turn into a Header)."""
    if message.policy is email.policy.compat32:
        fields: list[tuple[str, str]] = message._headers  # type: ignore[attr-defined]
        if normalize is None or not any('\r\n' in value for _, value in fields):
            # Nothing folded, for urllib3's step to make one line of: its result is the items as read.
            return fields
    if normalize is not None:
        return normalize(message)  # type: ignore[no-any-return]
    return message.items()


# The names urllib3's own getresponse uses, which QuickAnswers.getresponse follows step by step: a
# getresponse that uses others (a step added, say) is one this does not know, and keeps its own.
# urllib3 2.8 turns folded header values into one line (_normalize_header_values) where 2.7 and
# earlier take the message's items as they are.
_GETRESPONSE_NAMES = frozenset((
    'HTTPHeaderDict', 'HTTPResponse', 'HeaderParsingError', 'ResponseNotReady', 'TypeError', '_response_options',
    '_url_from_connection', 'assert_header_parsing', 'decode_content', 'enforce_content_length', 'getattr',
    'getresponse', 'log', 'msg', 'preload_content', 'reason', 'request_method', 'request_url', 'response',
    'settimeout', 'sock', 'status', 'super', 'timeout', 'version', 'warning'))
_KNOWN_GETRESPONSES = (_GETRESPONSE_NAMES | {'items'}, _GETRESPONSE_NAMES | {'_normalize_header_values'})


class _Template:
    """The attributes every new HTTPResponse starts with, copied; those that depend on the answer
    and the request, set as ``__init__`` sets them."""

    # What HTTPResponse.__init__ derives from its arguments and the answer.
    OWN = frozenset(('headers', 'status', 'version', 'version_string', 'reason', 'decode_content', '_request_url',
                     'chunked', 'enforce_content_length', '_original_response', '_fp', '_sock_shutdown',
                     '_decoded_buffer', 'length_remaining'))

    def __init__(self) -> None:
        # What this was checked against; urllib3 changed later (instrumentation wrapping its
        # response, say) is seen on each call by ``in_force``.
        self.checked = _urllib3_parts()
        made = _made_by_urllib3(*_PROBES[0])
        self.buffer_type = type(made._decoded_buffer)
        # Every attribute, in the order urllib3 sets them, so that a response lists them as urllib3's
        # do; those the answer decides are set over their places.
        start = dict(vars(made))
        shared = {key: value for key, value in start.items() if key not in self.OWN}
        # Only values no response changes in place can be shared: None, flags, numbers, text.
        self.start: dict[str, Any] | None = start if all(
            value is None or type(value) in (bool, int, str, bytes) for value in shared.values()) else None
        steps = frozenset(getattr(getattr(HTTPConnection.getresponse, '__code__', None), 'co_names', ()))
        # urllib3's own step for the fields, where its getresponse takes it.
        self.normalize = getattr(urllib3.connection, '_normalize_header_values', None) \
            if '_normalize_header_values' in steps else None
        # The TLS connection must have no getresponse of its own: QuickAnswers stands for urllib3's one.
        if steps not in _KNOWN_GETRESPONSES or 'getresponse' in vars(urllib3.connection.HTTPSConnection) \
                or vars(HTTPHeaderDict()).keys() != {'_container'}:
            self.start = None
        # Answers and requests as unlike as can be, in everything getresponse passes on: what urllib3
        # derives from any of them in a way this does not shows in one of them.
        for probe in _PROBES:
            if self.start is not None and not _same(_made_by_urllib3(*probe), self.build(*probe)):
                self.start = None

    def in_force(self) -> bool:
        """Whether responses are built here: urllib3 is still what was checked."""
        return self.start is not None and _urllib3_parts() == self.checked

    def build(self, answer: Any, method: str | None, version_string: str, decode_content: bool,
              request_url: str | None, enforce_content_length: bool, shutdown: Any) -> HTTPResponse:
        """The HTTPResponse urllib3's ``getresponse`` builds of ``answer``, set attribute by attribute."""
        assert self.start is not None
        response: HTTPResponse = HTTPResponse.__new__(HTTPResponse)
        own = response.__dict__
        own.update(self.start)
        headers = _header_dict(_header_items(answer.msg, self.normalize))
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


def _urllib3_parts() -> tuple[Any, ...]:
    """What building a response rests on, as urllib3 has it now."""
    return (urllib3.response.HTTPResponse, HTTPResponse.__init__, BaseHTTPResponse.__init__,
            HTTPResponse._init_length, HTTPConnection.getresponse, HTTPHeaderDict.__init__,
            urllib3.connection.HTTPHeaderDict, getattr(urllib3.connection, '_normalize_header_values', None))


class _Socket:
    """What http.client reads an answer from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))


def _probe(head: bytes, method: str) -> http.client.HTTPResponse:
    answer = http.client.HTTPResponse(_Socket(head), method=method)  # type: ignore[arg-type]
    answer.begin()
    return answer


def _shutdown(how: int) -> None:
    """A socket's shutdown, for a probe."""


# (answer, method, version string, decode_content, request_url, enforce_content_length, shutdown):
# two probes that differ in each.
_PROBES: tuple[tuple[Any, ...], ...] = (
    (_probe(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\ntransfer-encoding: gzip\r\n'
            b'Transfer-Encoding: identity\r\n\r\nhello', 'GET'), 'GET', 'HTTP/1.1', False, '/probe', True, None),
    (_probe(b'HTTP/1.0 404 Not Found\r\nTransfer-Encoding: chunked, gzip\r\nContent-Encoding: gzip\r\n\r\n', 'HEAD'),
     'HEAD', 'HTTP/1.0', True, '/other?q=1', False, _shutdown),
)


def _made_by_urllib3(answer: Any, method: str | None, version_string: str, decode_content: bool,
                     request_url: str | None, enforce_content_length: bool, shutdown: Any) -> HTTPResponse:
    """The response urllib3's getresponse builds of ``answer``, its arguments as getresponse passes them."""
    return HTTPResponse(body=answer, headers=HTTPHeaderDict(answer.msg.items()), status=answer.status,
                        version=answer.version, version_string=version_string, reason=answer.reason,
                        preload_content=False, decode_content=decode_content, original_response=answer,
                        enforce_content_length=enforce_content_length, request_method=method,
                        request_url=request_url, sock_shutdown=shutdown)


def _same(made: HTTPResponse, built: HTTPResponse) -> bool:
    """Whether two responses hold the same: every attribute in its order, the headers in theirs."""
    ours, theirs = vars(built), vars(made)
    if list(ours) != list(theirs) or type(ours['_decoded_buffer']) is not type(theirs['_decoded_buffer']):
        return False
    if list(ours['headers'].items()) != list(theirs['headers'].items()) \
            or vars(ours['headers']).keys() != vars(theirs['headers']).keys():
        return False
    return all(ours[key] == theirs[key] for key in ours if key not in ('_decoded_buffer', 'headers'))


TEMPLATE = _Template()


class QuickAnswers(HTTPConnection):
    """urllib3's HTTPConnection building its responses with ``_Template``; a base of the pools'
    connections, plain and TLS."""

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        options = getattr(self, '_response_options', None)
        if options is None or options.preload_content or not TEMPLATE.in_force():
            return super().getresponse()
        # What urllib3's getresponse does, in its order, up to building the response.
        self._response_options = None
        sock, timeout = self.sock, self.timeout
        if sock.gettimeout() != timeout:
            sock.settimeout(timeout)  # a system call each time, even to the timeout the socket has
        shutdown = getattr(sock, 'shutdown', None)
        answer = http.client.HTTPConnection.getresponse(self)
        # Looked up where urllib3's getresponse looks them up, on each call: replaced there (to quiet
        # the warning, say), they are replaced here too.
        try:
            urllib3.connection.assert_header_parsing(answer.msg)
        except (HeaderParsingError, TypeError) as error:
            urllib3.connection.log.warning('Failed to parse headers (url=%s): %s',
                                           _url_of(self, options.request_url), error, exc_info=True)
        return TEMPLATE.build(answer, options.request_method, getattr(self, '_http_vsn_str', 'HTTP/?'),
                              options.decode_content, options.request_url, options.enforce_content_length, shutdown)


def _url_of(connection: HTTPConnection, path: str | None) -> str:
    """The URL urllib3's warning names, as urllib3 writes it where it can."""
    written = getattr(urllib3.connection, '_url_from_connection', None)
    return written(connection, path) if written is not None else str(path)
