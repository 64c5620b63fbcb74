"""The direct route: a request to a connection's own origin, sent through its pool without Session.send.

A template fixes what requests' Session.send and HTTPAdapter.send work out again on every call:
the adapter (a prefix match over the session's mounts), the pool (a key of some thirty fields
normalised and looked up), its TLS settings, the proxy (none), the URL's parts (eight urlparse
calls), redirects (off) and cookies (none kept). ``DirectRoute`` works them out once, when the
session opens; ``send`` in ``wire.send`` takes it for every request that needs nothing else, and
the full Session.send path for the rest (hooks, which digest and NTLM use, caller's
cookies and files, redirects followed, a proxy, settings given per call, another origin).

The answer is the ``requests.Response`` HTTPAdapter.build_response makes, with the same
``.request``, ``.url``, ``.elapsed``, ``.history``, ``.cookies``, ``.connection`` and ``.next``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import partial
from time import perf_counter
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.util.timeout import Timeout

from zato_outconn.wire.pool import BoundedWait

DIRECT_ENV = 'ZATO_OUTCONN_DIRECT_SEND'

# What a Response is before its __init__ runs; ``DirectRoute.send`` sets every attribute itself.
_new_response = partial(requests.Response.__new__, requests.Response)


def direct_send_enabled() -> bool:
    """Whether sessions opened now take the direct route (ZATO_OUTCONN_DIRECT_SEND=0 turns it off)."""
    return os.environ.get(DIRECT_ENV, '1').strip().lower() not in ('0', 'false', 'no', 'off')


class DirectRoute:
    """The pool, TLS settings and timeout of requests to one origin, worked out once."""

    __slots__ = ('_adapter', '_origin_length', '_session', '_settings', '_timeouts', 'origin', 'pool')

    def __init__(self, session: requests.Session, origin: str, settings: dict[str, Any]) -> None:
        self.origin = origin
        self._origin_length = len(origin)
        self._session = session
        self._settings = settings
        adapter = session.get_adapter(origin)
        assert isinstance(adapter, HTTPAdapter)
        self._adapter = adapter
        probe = requests.PreparedRequest()
        probe.prepare_url(origin + '/', None)
        verify = settings['verify']
        # The pool HTTPAdapter.send would pick for this origin, with the TLS settings it would set.
        pool = adapter.get_connection_with_tls_context(probe, verify, proxies={}, cert=None)
        adapter.cert_verify(pool, probe.url or '', verify, None)
        assert isinstance(pool, BoundedWait)
        self.pool = pool
        self._timeouts: dict[Any, tuple[float, Timeout]] = {}

    def takes(self, prepared: requests.PreparedRequest, settings: Any) -> bool:
        """Whether this request can go the direct way: the session's own settings, no hooks, this origin."""
        url = prepared.url
        return (settings is self._settings or _same_but_timeout(settings, self._settings)) \
            and not prepared.hooks['response'] and isinstance(url, str) and url.startswith(self.origin) \
            and url[self._origin_length:self._origin_length + 1] == '/'

    def send(self, prepared: requests.PreparedRequest, timeout: Any) -> requests.Response:
        """Send through the pool and build the answer as HTTPAdapter.build_response does; the body
        is left unread (requests' stream=True)."""
        body = prepared.body
        headers = prepared.headers
        url, method = prepared.url, prepared.method
        assert isinstance(url, str) and method is not None
        chunked = not (body is None or 'Content-Length' in headers)
        # urllib3 reads each name and value of the headers twice; a plain dict gives them a third of
        # the time a CaseInsensitiveDict takes (whose _store holds each as it was set: name, value).
        sent = dict(headers._store.values()) if type(headers) is CaseInsensitiveDict else headers  # type: ignore[attr-defined]
        pool_timeout, socket_timeout = self._timeout(timeout)
        start = perf_counter()
        raw = self.pool.send_direct(method, url[self._origin_length:], body, sent, socket_timeout, pool_timeout,
                                    chunked)
        # Every attribute Response.__init__ sets (a test keeps the two the same), each set once: its
        # empty headers, cookiejar_from_dict and timedelta(0) are made only to be replaced.
        response = _new_response()
        response._content = False  # type: ignore[assignment]
        response._content_consumed = False  # type: ignore[attr-defined]
        response._next = None  # type: ignore[attr-defined]
        response.status_code = raw.status
        # As CaseInsensitiveDict(raw.headers) has them (repeated names joined with ', '), built directly.
        store = {name.lower(): (name, value) for name, value in raw.headers.itermerged()}
        received: CaseInsensitiveDict[str] = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
        received._store = store  # type: ignore[attr-defined]
        response.headers = received
        response.raw = raw
        response.url = url
        response.encoding = _encoding_of(received)
        response.history = []
        response.reason = raw.reason
        response.cookies = RequestsCookieJar()
        if 'set-cookie' in store or 'set-cookie2' in store:
            # Only then: a cookie jar's parsing is a good part of a call, and finds nothing without them.
            extract_cookies_to_jar(response.cookies, prepared, raw)
        response.request = prepared
        response.connection = self._adapter
        response.elapsed = timedelta(seconds=perf_counter() - start)
        return response

    def next_request(self, response: requests.Response, prepared: requests.PreparedRequest,
                     timeout: Any) -> requests.PreparedRequest | None:
        """Where a redirect (not followed) leads, as Session.send gives it in ``.next``; the caller
        has read its body first, within max_response_size."""
        return next(self._session.resolve_redirects(
            response, prepared, yield_requests=True, stream=True, timeout=timeout,
            verify=self._settings['verify'], cert=None, proxies={}), None)

    def _timeout(self, timeout: Any) -> tuple[float, Timeout]:
        """How long to wait for a free socket (the connect timeout, as BoundedWait would work out),
        and the sockets' timeouts."""
        made = self._timeouts.get(timeout)
        if made is None:
            connect, read = timeout
            made = (connect, Timeout(connect=connect, read=read))
            if len(self._timeouts) < 16:
                # The template's timeouts, and the few a caller passes, are made once.
                self._timeouts[timeout] = made
        return made


# The encoding requests gives each Content-Type: an endpoint answers with one or two, and working
# it out parses the header's parameters every time.
_ENCODINGS: dict[str | None, str | None] = {}


def _encoding_of(headers: CaseInsensitiveDict[str]) -> str | None:
    entry = headers._store.get('content-type')  # type: ignore[attr-defined]
    content_type = None if entry is None else entry[1]
    try:
        return _ENCODINGS[content_type]
    except KeyError:
        encoding = get_encoding_from_headers(headers)
        if len(_ENCODINGS) < 64:
            _ENCODINGS[content_type] = encoding
        return encoding


def _same_but_timeout(settings: Any, own: dict[str, Any]) -> bool:
    """A call's settings that differ from the session's in the timeout alone (a caller's timeout=)."""
    return settings.keys() == own.keys() and all(
        settings[key] is own[key] or settings[key] == own[key] for key in own if key != 'timeout')
