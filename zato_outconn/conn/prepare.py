"""Preparing one request: X-Zato headers, the body, the caller's headers, cookies and security.

Requests are prepared here rather than by ``Session.request``: the template already fixes what
requests would otherwise work out on every call (environment proxies, netrc, settings merging),
and skipping that work makes a call cheaper than a bare ``requests.Session().get``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import requests
from requests.auth import AuthBase
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity

from zato_outconn.config import OutconnConfig
from zato_outconn.config.checks import HEADER_NAME
from zato_outconn.conn.body import BodyError, encode_json
from zato_outconn.conn.headers import BAD_CID, BAD_HEADER_VALUE, Component, msg_timestamp
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import RequestError, printable
from zato_outconn.security.header_schemes import HeaderAuth
from zato_outconn.wire.call import Call

# The body's bytes and the headers that describe them, from what the caller passed.
Encoder = Callable[[OutgoingRequest], tuple[bytes | None, dict[str, str]]]


class Preparer:
    """Prepares the requests of one connection from what its template fixes, made once per connection."""

    __slots__ = ('_base_store', '_cid_header', '_component', '_component_header', '_encode', '_ts_header')

    def __init__(self, config: OutconnConfig, base_headers: CaseInsensitiveDict[str], component: Component,
                 encode: Encoder) -> None:
        # What a CaseInsensitiveDict keeps (lower-case name: (name, value)), copied for each request:
        # a third of the time of copying the CaseInsensitiveDict, which sets each header again.
        self._base_store = _store_of(base_headers)
        self._cid_header = _entry_key(config.cid_header)
        self._component_header = _entry_key(config.component_header)
        self._ts_header = _entry_key(config.msg_ts_header)
        self._component = component
        self._encode = encode

    def prepare(self, request: OutgoingRequest, call: Call, auth: AuthBase | None) -> requests.PreparedRequest:
        cid = request.cid
        if not isinstance(cid, str) or BAD_CID.search(cid):
            # The refused cid is shown escaped: raw, its line break would let a caller forge a log line.
            raise RequestError('the cid must be one line of text, ASCII or Latin-1, without control characters',
                               name=call.name, method=call.method, url=call.url, cid=printable(str(cid)[:64]))
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        # The headers every request starts from, with the cid, component and timestamp.
        store = self._base_store.copy()
        if self._cid_header is not None:
            store[self._cid_header[0]] = (self._cid_header[1], cid)
        if self._component_header is not None:
            store[self._component_header[0]] = (self._component_header[1], self._component.current())
        if self._ts_header is not None:
            store[self._ts_header[0]] = (self._ts_header[1], msg_timestamp())
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
        headers._store = store  # type: ignore[attr-defined]
        extras = request.extras
        if 'json' in extras or 'files' in extras:
            prepared.headers = headers
            try:
                prepared.prepare_body(request.data or None, extras.get('files'), extras.get('json'))
            except (ValueError, TypeError, RecursionError, requests.exceptions.InvalidJSONError):
                raise RequestError(_unencodable(extras), **call.context()) from None
        else:
            try:
                body, body_headers = self._encode(request)
            except BodyError as error:
                raise RequestError(str(error), **call.context()) from None
            for name, value in body_headers.items():
                headers[name] = value
            prepared.headers = headers
            prepared.body = body
            if type(body) is bytes:
                # What prepare_content_length works out for bytes, without its look at what body is.
                if body:
                    store['content-length'] = ('Content-Length', str(len(body)))
            else:
                prepared.prepare_content_length(body)
        if request.headers:
            apply_caller_headers(headers, request.headers, call)

        cookies = extras.get('cookies')
        if cookies:
            prepared.prepare_cookies(cookies)
        else:
            # The empty jar requests' redirect handling, digest and NTLM read, on every request (one
            # resent from response.request too); an empty jar gives no Cookie header, so it is set
            # as it is, without the header's working out.
            prepared._cookies = RequestsCookieJar()  # type: ignore[attr-defined]
        auth = extras.get('auth', auth)
        if type(auth) is HeaderAuth:
            # What prepare_auth comes to for a header computed once (basic_auth, apikey, bearer): the
            # body is unchanged, so its Content-Length too.
            auth(prepared)
        elif auth is not None:
            prepared.prepare_auth(auth)
        if 'hooks' in extras:
            prepared.prepare_hooks(extras['hooks'])
        return prepared


def _store_of(headers: CaseInsensitiveDict[str]) -> dict[str, tuple[str, str]]:
    return dict(headers._store)  # type: ignore[attr-defined]


def _entry_key(name: str | None) -> tuple[str, str] | None:
    """A header's key in a CaseInsensitiveDict's store, and its name as sent; None for no header."""
    return (name.lower(), name) if name else None


def apply_caller_headers(headers: MutableMapping[str, str], caller: Mapping[str, Any], call: Call) -> None:
    """The caller's own headers win over everything the connection sets, security excepted; a None
    value removes a header, as in requests."""
    for name, value in caller.items():
        text = name.decode('latin-1') if isinstance(name, bytes) else name
        if not isinstance(text, str) or not HEADER_NAME.fullmatch(text):
            # repr: a name is no secret, and repr escapes any control character in it.
            raise RequestError(f'header name {name!r} cannot be sent; a header name is letters, digits and '
                               "-, or one of !#$%&'*+.^_`|~", **call.context())
        if value is None:
            headers.pop(name, None)
            continue
        try:
            check_header_validity((name, value))
        except (ValueError, requests.exceptions.InvalidHeader):
            # Not repeating the value: it may be a credential.
            raise RequestError(f'header {name!r} has a value that cannot be sent (it must be one line '
                               'of text)', **call.context()) from None
        if isinstance(value, str) and BAD_HEADER_VALUE.search(value):
            # http.client sends values as Latin-1, and RFC 9110 gives no encoding for others (RFC 8187
            # covers parameters only), so such a value is refused here rather than half-sent.
            raise RequestError(f'header {name!r} has a value that cannot be sent: header values are ASCII or '
                               'Latin-1 text without control characters; encode it first (as the remote '
                               'end expects: percent-encoding or base64, say)', **call.context())
        headers[name] = value


def _unencodable(extras: Mapping[str, Any]) -> str:
    """Why requests could not encode json= or files=: our JSON encoder's words, which say what to fix."""
    if 'json' in extras:
        try:
            encode_json(extras['json'])
        except BodyError as error:
            return f'the json= argument cannot be sent: {error}'
        return 'the json= body cannot be encoded as JSON; pass dicts, lists, text and numbers'
    return 'the files= body cannot be encoded; pass {name: file or (filename, file, content type)}'
