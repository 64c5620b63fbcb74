"""The one function that hands a request to the network.

Every request a connection makes goes through ``send``: its verbs, ping, SOAP posts, the zeep
client's calls and WSDL fetches, and OAuth2 token requests (through the connection's own
session). Whatever requests, urllib3 or ssl raise becomes one of the library's exceptions here,
while the headers arrive and while a body is read, prefetched here or streamed by the caller.

A call ends by its total deadline (``wire.deadline``), and a prefetched body is read here, not by
requests, so that it can be refused past max_response_size without holding more of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import requests
from requests.models import REDIRECT_STATI
from requests.structures import CaseInsensitiveDict

from zato_outconn.exceptions import BadResponse, CallError, ResponseTooLarge, TotalTimeout
from zato_outconn.wire import deadline
from zato_outconn.wire.call import Call, Limits
from zato_outconn.wire.direct import DirectRoute
from zato_outconn.wire.errors import MAPPABLE, map_error

# How much of a body of unknown length, or a compressed one, is read at a time.
_CHUNK = 64 * 1024
# Answers that have no body, whatever their headers say (RFC 9110, 6.4.1).
_NO_BODY_STATUSES = frozenset((204, 304))


def send(session: requests.Session, prepared: requests.PreparedRequest, call: Call, stream: bool,
         settings: Mapping[str, Any], limits: Limits, route: DirectRoute | None = None) -> requests.Response:
    """Send one prepared request; ``settings`` are Session.send's keyword arguments.

    With a ``route`` that takes the request, it goes the direct way (``wire.direct``), else
    through Session.send; the answer and the errors are the same either way.
    """
    armed, token = deadline.arm(limits.total)
    timeout = settings.get('timeout')
    direct = route is not None and route.takes(prepared, settings)
    passed_on: _BodiesPassedOn | None = None
    try:
        try:
            # Always streamed: the body, if prefetched, is read below.
            if route is not None and direct:
                response = route.send(prepared, timeout)
            else:
                passed_on = _BodiesPassedOn(call, limits)
                prepared.hooks['response'].insert(0, passed_on)
                response = session.send(prepared, stream=True, **settings)
        except CallError:
            # Raised by our own hooks within the send (a body passed on past max_response_size, say).
            if passed_on is not None:
                passed_on.close_all()
            raise
        except MAPPABLE as error:
            if passed_on is not None:
                passed_on.close_all()
            raise _mapped(error, call, armed, timeout, session, reading_body=False) from error
        except (ValueError, UnicodeError) as error:
            if passed_on is not None:
                passed_on.close_all()
            raise _bad_redirect(error, call) from error
        try:
            if armed.passed():
                # The watchdog cut the answer short, in a way http.client may take for its end.
                raise _total(armed, call)
            has_body = prepared.method != 'HEAD' and response.status_code not in _NO_BODY_STATUSES \
                and response.status_code >= 200
            # The status first: is_redirect looks for a Location, and a missing one raises inside Mapping.
            redirect = direct and response.status_code in REDIRECT_STATI and response.is_redirect
            _check_length(response, call, limits, has_body and (redirect or not stream))
            if stream and not redirect:
                _map_streamed_errors(response, call, timeout)
            else:
                _read_body(response, call, limits)
                if armed.passed():
                    raise _total(armed, call)
            if route is not None and redirect:
                response._next = route.next_request(response, prepared, timeout)  # type: ignore[attr-defined]
        except CallError:
            response.close()
            raise
        except MAPPABLE as error:
            response.close()
            raise _mapped(error, call, armed, timeout, session, reading_body=True) from error
        except (ValueError, UnicodeError) as error:
            response.close()
            raise _bad_redirect(error, call) from error
        return response
    finally:
        deadline.disarm(armed, token)


def _mapped(error: BaseException, call: Call, armed: deadline.Deadline, timeout: Any, session: requests.Session,
            *, reading_body: bool) -> CallError:
    if armed.passed():
        return _total(armed, call)
    return map_error(error, call, timeout=timeout, max_redirects=session.max_redirects, reading_body=reading_body)


def _total(armed: deadline.Deadline, call: Call) -> TotalTimeout:
    return TotalTimeout(f'the call did not end within its total timeout of {armed.seconds:g} s (total_timeout)',
                        **call.context())


def _bad_redirect(error: BaseException, call: Call) -> BadResponse:
    """requests met a Location it cannot parse (an IPv6 address cut short, a port out of range, bytes
    that are no text) while following a redirect or working out where one leads."""
    return BadResponse(f"the answer's redirect cannot be followed: {type(error).__name__}: {error}",
                       **call.context())


class _BodiesPassedOn:
    """A response hook, first of all: the body of an answer that requests reads and passes on (a
    redirect followed or looked at, a 401 that digest or NTLM answers) is read here first,
    within max_response_size. requests would read it whole (``resp.content``) with no limit."""

    __slots__ = ('call', 'limits', 'seen')

    def __init__(self, call: Call, limits: Limits) -> None:
        self.call = call
        self.limits = limits
        # Every answer of the send, so that none is left holding its socket when requests raises
        # before closing it (a Location it cannot decode, say).
        self.seen: list[requests.Response] = []

    def close_all(self) -> None:
        for response in self.seen:
            response.close()

    def __call__(self, response: requests.Response, **_kwargs: Any) -> requests.Response:
        self.seen.append(response)
        if response.is_redirect or response.status_code == 401:
            try:
                _check_length(response, self.call, self.limits, True)
            except CallError:
                response.close()
                raise
            # Bounded as it is read, not read here: NTLM looks at the answer's socket first.
            _map_streamed_errors(response, self.call, None, self.limits.max_response_size)
        return response


def read_within_limit(response: requests.Response, call: Call, limits: Limits) -> None:
    """Read a streamed answer's body now, within max_response_size, as a prefetched one is read."""
    _check_length(response, call, limits, True)
    _read_body(response, call, limits)


def _check_length(response: requests.Response, call: Call, limits: Limits, prefetched: bool) -> None:
    """Refuse a Content-Length that is no number of bytes, or that says a prefetched body is too large."""
    declared = _received(response, 'content-length')
    if declared is None or 'chunked' in (_received(response, 'transfer-encoding') or '').lower():
        return  # chunked framing wins over any Content-Length (RFC 9112, 6.3)
    values = {value.strip() for value in declared.split(',')}
    value = values.pop()
    if values or not value.isascii() or not value.isdigit():
        # urllib3 would read a negative or unreadable length as unknown, and take whatever came.
        raise BadResponse(f'the answer is not valid HTTP: its Content-Length {declared[:40]!r} is not a number '
                          'of bytes', **call.context())
    if prefetched and int(value) > limits.max_response_size:
        raise ResponseTooLarge(f'the answer declares {value} bytes, more than max_response_size '
                               f'({limits.max_response_size} bytes); raise it, or stream the answer '
                               '(prefetch=False)', **call.context())


def _received(response: requests.Response, name: str) -> str | None:
    """The value of the answer's header ``name`` (lower case), or None: read from what its
    CaseInsensitiveDict keeps, at a fraction of the cost of its Mapping.get."""
    headers = response.headers
    if type(headers) is CaseInsensitiveDict:
        entry = headers._store.get(name)  # type: ignore[attr-defined]
        return None if entry is None else entry[1]
    return headers.get(name)


def _read_body(response: requests.Response, call: Call, limits: Limits) -> None:
    """Read the whole body, as requests would for stream=False, but never more than max_response_size."""
    raw = response.raw
    encoding = (_received(response, 'content-encoding') or '').strip().lower()
    if getattr(raw, 'length_remaining', None) is not None and encoding in ('', 'identity'):
        # urllib3 knows its length (a Content-Length and no chunked framing), checked above: one read.
        content = raw.read(decode_content=True)
    else:
        chunks = []
        size = 0
        for chunk in raw.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limits.max_response_size:
                raise _too_large(call, limits.max_response_size)
            chunks.append(chunk)
        content = b''.join(chunks)
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]


def _too_large(call: Call, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(f'the answer is larger than max_response_size ({limit} bytes); raise it, or stream '
                            'the answer (prefetch=False)', **call.context())


def _map_streamed_errors(response: requests.Response, call: Call, timeout: Any, limit: int | None = None) -> None:
    """A streamed body's failures, met as the caller reads it (.iter_content, .content, .iter_lines),
    are the library's exceptions too; with a ``limit``, a body larger is ResponseTooLarge. requests
    reads every body through iter_content."""
    iter_content = response.iter_content

    def mapped(chunk_size: int | None = 1, decode_unicode: bool = False) -> Iterator[Any]:
        return _mapped_chunks(iter_content(chunk_size, decode_unicode), call, timeout, limit, response)

    response.iter_content = mapped  # type: ignore[method-assign]


def _mapped_chunks(chunks: Iterator[Any], call: Call, timeout: Any, limit: int | None,
                   response: requests.Response) -> Iterator[Any]:
    size = 0
    try:
        for chunk in chunks:
            if limit is not None:
                size += len(chunk)
                if size > limit:
                    close = getattr(chunks, 'close', None)
                    if close is not None:
                        close()  # requests' reading generator first, then the answer and its socket
                    response.close()
                    raise _too_large(call, limit)
            yield chunk
    except MAPPABLE as error:
        raise map_error(error, call, timeout=timeout, reading_body=True) from error
