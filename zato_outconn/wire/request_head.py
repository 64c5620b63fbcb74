"""The head of a request (request line and header fields), written as urllib3 writes it, faster.

For each field, urllib3's ``putheader`` looks for its SKIP_HEADER marker and hands over to
http.client's, which checks the state of the connection, encodes the name and each value, checks
them with two patterns, joins them and buffers the line; urllib3's ``request`` first lowers every
name twice over and works out the framing of the body. Together, for the dozen fields every
request carries, a tenth of a small call's time.

``QuickFields`` writes them in fewer steps, with http.client's own two checks:

- ``putheader`` writes the usual field (one text value, no marker, on a request being started) in
  one step;
- ``request``, for the usual request on a socket already open (text fields in a dict, no body or
  one in bytes, no chunked framing), checks every field first (the names seen before kept), then
  has urllib3's and http.client's ``putrequest`` write the request line (Host and Accept-Encoding
  included) and buffers the fields at once; ``endheaders`` and the body's ``send`` are
  http.client's own.

Anything else, and every field a check refuses, goes to urllib3's and http.client's code, which
writes it or raises as always. Whether ``request`` still writes what urllib3's does is checked
when this module is imported: urllib3's must take the steps of urllib3 2.7 and 2.8 (the names it
uses), and requests as unlike as can be must put the same bytes on a socket both ways, leaving
the connection in the same state. A urllib3 or http.client that fails either, or whose parts are
replaced later (looked at on each call), gets its own ``request``.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

import urllib3.connection
import urllib3.util.request
from urllib3.connection import HTTPConnection
from urllib3.util import SKIP_HEADER

# http.client's own checks, so that what passes here is exactly what passes there; a Python
# without them takes http.client's path for every field.
_legal_name: Callable[[bytes], Any] | None = getattr(http.client, '_is_legal_header_name', None)
_illegal_value: Callable[[bytes], Any] | None = getattr(http.client, '_is_illegal_header_value', None)
# The state of an http.client connection between putrequest and endheaders.
_STARTED = getattr(http.client, '_CS_REQ_STARTED', None)
# Methods urllib3 sends no Content-Length for when they have no body.
_NO_BODY_EXPECTED = getattr(urllib3.util.request, '_METHODS_NOT_EXPECTING_BODY', None)

# The names urllib3's own request uses (2.7 and 2.8 alike), whose steps QuickFields.request
# follows: a request that uses others is one this does not know, and keeps its own.
_REQUEST_NAMES = frozenset((
    '_ResponseOptions', '_get_default_user_agent', '_response_options', 'blocksize', 'body_to_chunks', 'chunks',
    'content_length', 'encode', 'endheaders', 'frozenset', 'isinstance', 'items', 'len', 'putheader', 'putrequest',
    'send', 'settimeout', 'sock', 'str', 'timeout'))

# Field names checked and encoded: a connection's requests carry the same dozen call after call.
# Names only: a value may be a credential (Authorization, an API key's header), which is kept by
# nothing here past its request.
_NAMES: dict[str, bytes] = {}


def _line(name: str, value: str) -> bytes | None:
    """The line http.client writes for a field of one text value, or None where it writes none
    as given (an error for it to raise, a marker for urllib3)."""
    encoded_name = _NAMES.get(name)
    if encoded_name is None:
        if _legal_name is None or not name.isascii():
            return None
        encoded_name = name.encode('ascii')
        if not _legal_name(encoded_name):
            return None
        if len(_NAMES) >= 512:
            _NAMES.clear()  # names made up per call come and go
        _NAMES[name] = encoded_name
    if value == SKIP_HEADER or _illegal_value is None:
        return None
    try:
        text = value.encode('latin-1')
    except UnicodeEncodeError:
        return None
    # http.client's check looks for a line break not followed by a space or tab: with none, there is
    # nothing for it to find (latin-1 keeps CR and LF as they are).
    if ('\r' in value or '\n' in value) and _illegal_value(text):
        return None
    return encoded_name + b': ' + text


class QuickFields(HTTPConnection):
    """urllib3's HTTPConnection writing the usual request head in fewer steps; a base of the pools'
    connections, plain and TLS."""

    def putheader(self, header: str, *values: str) -> None:  # type: ignore[override]
        if len(values) == 1 and type(header) is str and type(value := values[0]) is str \
                and getattr(self, '_HTTPConnection__state', None) == _STARTED:
            line = _line(header, value)
            if line is not None:
                self._output(line)  # type: ignore[attr-defined]
                return
        super().putheader(header, *values)

    def request(self, method: str, url: str, body: Any = None,  # type: ignore[override]
                headers: Any = None, *, chunked: bool = False, preload_content: bool = True,
                decode_content: bool = True, enforce_content_length: bool = True) -> None:
        sock = self.sock
        lines = None
        if sock is not None and not chunked and type(headers) is dict and (body is None or type(body) is bytes) \
                and type(method) is str and HEAD.in_force():
            lines = _lines_of(method, body, headers)
        if lines is None:
            return super().request(method, url, body, headers, chunked=chunked, preload_content=preload_content,
                                   decode_content=decode_content, enforce_content_length=enforce_content_length)
        # What urllib3's request does, in its order, the fields written at once.
        timeout = self.timeout
        if sock.gettimeout() != timeout:
            sock.settimeout(timeout)  # a system call each time, even to the timeout the socket has
        self._response_options = urllib3.connection._ResponseOptions(
            request_method=method, request_url=url, preload_content=preload_content,
            decode_content=decode_content, enforce_content_length=enforce_content_length)
        keys = lines[0]
        self.putrequest(method, url, skip_accept_encoding='accept-encoding' in keys, skip_host='host' in keys)
        self._buffer.extend(lines[1])  # type: ignore[attr-defined]
        self.endheaders()
        if body:
            self.send(body)


def _lines_of(method: str, body: bytes | None, headers: dict[Any, Any]) -> tuple[set[str], list[bytes]] | None:
    """The lowered names of a request's fields and the lines urllib3's request writes after the
    request line, or None for urllib3 itself to write them (a field a check refuses, chunked
    framing asked for)."""
    try:
        keys = {name.lower() for name in headers}
    except (AttributeError, TypeError):
        return None  # a name that is no text: urllib3's to refuse
    if 'transfer-encoding' in keys:
        return None
    fields: list[tuple[str, str]] = []
    # The framing field first, then User-Agent, then the request's own, as urllib3 orders them.
    if 'content-length' not in keys:
        if body is not None:
            fields.append(('Content-Length', str(len(body))))
        elif method.upper() not in _NO_BODY_EXPECTED:  # type: ignore[operator]
            fields.append(('Content-Length', '0'))
    if 'user-agent' not in keys:
        fields.append(('User-Agent', urllib3.connection._get_default_user_agent()))
    lines = []
    for name, value in (*fields, *headers.items()):
        if type(name) is not str or type(value) is not str:
            return None  # plain text only: a subclass may encode itself otherwise
        line = _line(name, value)
        if line is None:
            return None
        lines.append(line)
    return keys, lines


def _urllib3_parts() -> tuple[Any, ...]:
    """What writing a request's head here stands for, as urllib3 and http.client have it now."""
    return (HTTPConnection.request, HTTPConnection.putheader, HTTPConnection.putrequest,
            http.client.HTTPConnection.putheader, http.client.HTTPConnection._output,  # type: ignore[attr-defined]
            getattr(urllib3.connection, '_get_default_user_agent', None),
            getattr(urllib3.connection, '_ResponseOptions', None), getattr(urllib3.connection, 'body_to_chunks', None),
            getattr(urllib3.util.request, '_METHODS_NOT_EXPECTING_BODY', None))


class _Wire:
    """A socket that keeps what is sent on it, for a probe."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.timeout: float | None = None

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def gettimeout(self) -> float | None:
        return self.timeout


# (method, url, body, headers): requests as unlike as can be in what urllib3's request looks at.
_PROBES: tuple[tuple[str, str, bytes | None, dict[str, str]], ...] = (
    ('GET', '/probe?q=1', None, {'Authorization': 'Basic eHl6', 'Accept': '*/*', 'Connection': 'keep-alive'}),
    ('POST', '/p', None, {'x-lower': 'caf\xe9', 'X-Zato-CID': 'abc'}),
    ('post', '/p', b'', {'CONTENT-LENGTH': '0', 'USER-AGENT': 'probe/1', 'Host': 'other:1', 'Accept-Encoding': 'gzip'}),
    ('PUT', '/put', b'{"a": 1}', {'Content-Type': 'application/json'}),
    ('HEAD', '/', None, {}),
)


def _probe(connection_class: type[HTTPConnection], method: str, url: str, body: bytes | None,
           headers: dict[str, str]) -> tuple[Any, ...]:
    """What a request puts on a socket, and the state it leaves its connection in."""
    connection = connection_class('probe.example', 8080, timeout=5.0)
    wire = _Wire()
    connection.sock = wire
    connection.request(method, url, body, dict(headers), preload_content=False, decode_content=False)
    state = {key: value for key, value in vars(connection).items() if key != 'sock'}
    return wire.sent, wire.timeout, state


class _Head:
    """Whether ``QuickFields.request`` writes what urllib3's does; in force while the parts it was
    checked against stay."""

    def __init__(self) -> None:
        self.checked = _urllib3_parts()
        steps = frozenset(getattr(getattr(HTTPConnection.request, '__code__', None), 'co_names', ()))
        # None among the parts: one of urllib3's that this rests on is missing.
        self.ok = steps == _REQUEST_NAMES and None not in self.checked \
            and _legal_name is not None and _illegal_value is not None \
            and 'request' not in vars(urllib3.connection.HTTPSConnection) \
            and 'putheader' not in vars(urllib3.connection.HTTPSConnection)

    def probe(self) -> None:
        """Each probe sent both ways, this way through ``QuickFields.request`` (in force meanwhile, if
        the parts are those it knows): the bytes sent and the connection's state must be the same."""
        for probe in _PROBES:
            if self.ok and _probe(HTTPConnection, *probe) != _probe(QuickFields, *probe):
                self.ok = False

    def in_force(self) -> bool:
        return self.ok and _urllib3_parts() == self.checked


HEAD = _Head()
HEAD.probe()
