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
from zato_outconn.wire.call import Call

# The body's bytes and the headers that describe them, from what the caller passed.
Encoder = Callable[[OutgoingRequest], tuple[bytes | None, dict[str, str]]]


class Preparer:
    """Prepares the requests of one connection from what its template fixes, made once per connection."""

    __slots__ = ('_base_headers', '_component', '_config', '_encode')

    def __init__(self, config: OutconnConfig, base_headers: CaseInsensitiveDict[str], component: Component,
                 encode: Encoder) -> None:
        self._config = config
        self._base_headers = base_headers
        self._component = component
        self._encode = encode

    def prepare(self, request: OutgoingRequest, call: Call, auth: AuthBase | None) -> requests.PreparedRequest:
        cid = request.cid
        if not isinstance(cid, str) or BAD_CID.search(cid):
            # The refused cid is shown escaped: raw, its line break would let a caller forge a log line.
            raise RequestError('the cid must be one line of text, ASCII or Latin-1, without control characters',
                               name=call.name, method=call.method, url=call.url, cid=printable(str(cid)[:64]))
        config = self._config
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        # The headers every request starts from, with the cid, component and timestamp.
        headers = self._base_headers.copy()
        if config.cid_header:
            headers[config.cid_header] = cid
        if config.component_header:
            headers[config.component_header] = self._component.current()
        if config.msg_ts_header:
            headers[config.msg_ts_header] = msg_timestamp()
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
            headers.update(body_headers)
            prepared.headers = headers
            prepared.body = body
            prepared.prepare_content_length(body)
        if request.headers:
            apply_caller_headers(headers, request.headers, call)

        # A jar on every request, as requests' redirect handling reads it even when not following.
        prepared.prepare_cookies(extras.get('cookies') or RequestsCookieJar())
        auth = extras.get('auth', auth)
        if auth is not None:
            prepared.prepare_auth(auth)
        if 'hooks' in extras:
            prepared.prepare_hooks(extras['hooks'])
        return prepared


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
