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
from zato_outconn.conn.body import BodyError
from zato_outconn.conn.headers import UNSENDABLE, Component, msg_timestamp
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import RequestError
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
        if not isinstance(cid, str) or UNSENDABLE.search(cid):
            raise RequestError('the cid must be one line of text', name=call.name, method=call.method,
                               url=call.url, cid=str(cid)[:64])
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
            prepared.prepare_body(request.data or None, extras.get('files'), extras.get('json'))
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
        if value is None:
            headers.pop(name, None)
            continue
        try:
            check_header_validity((name, value))
        except (ValueError, requests.exceptions.InvalidHeader):
            # Not repeating the value: it may be a credential.
            raise RequestError(f'header {name!r} has a value that cannot be sent (it must be one line '
                               'of text)', **call.context()) from None
        headers[name] = value
