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
from requests.utils import check_header_validity

from zato_outconn.config import OutconnConfig
from zato_outconn.conn.body import BodyError
from zato_outconn.conn.headers import UNSENDABLE, Component, msg_timestamp
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import RequestError
from zato_outconn.wire.call import Call

# The body's bytes and the headers that describe them, from what the caller passed.
Encoder = Callable[[OutgoingRequest], tuple[bytes | None, dict[str, str]]]


def prepare_request(request: OutgoingRequest, call: Call, *, config: OutconnConfig,
                    base_headers: MutableMapping[str, str], component: Component, encode: Encoder,
                    auth: AuthBase | None) -> requests.PreparedRequest:
    prepared = requests.PreparedRequest()
    prepared.method = request.method
    prepared.url = request.url
    headers = zato_headers(base_headers, config, component, call)
    extras = request.extras
    if 'json' in extras or 'files' in extras:
        prepared.headers = headers  # type: ignore[assignment]
        prepared.prepare_body(request.data or None, extras.get('files'), extras.get('json'))
    else:
        try:
            body, body_headers = encode(request)
        except BodyError as error:
            raise RequestError(str(error), **call.context()) from None
        headers.update(body_headers)
        prepared.headers = headers  # type: ignore[assignment]
        prepared.body = body
        prepared.prepare_content_length(body)
    apply_caller_headers(headers, request.headers, call)

    # A jar on every request, as requests' redirect handling reads it even when not following.
    prepared.prepare_cookies(extras.get('cookies') or RequestsCookieJar())
    auth = extras.get('auth', auth)
    if auth is not None:
        prepared.prepare_auth(auth)
    if 'hooks' in extras:
        prepared.prepare_hooks(extras['hooks'])
    return prepared


def zato_headers(base_headers: MutableMapping[str, str], config: OutconnConfig, component: Component,
                 call: Call) -> MutableMapping[str, str]:
    """The headers every request starts from, with the cid, component and timestamp."""
    cid = call.cid
    if not isinstance(cid, str) or UNSENDABLE.search(cid):
        raise RequestError('the cid must be one line of text', name=call.name, method=call.method, url=call.url,
                           cid=str(cid)[:64])
    headers = base_headers.copy()  # type: ignore[attr-defined]
    if config.cid_header:
        headers[config.cid_header] = cid
    if config.component_header:
        headers[config.component_header] = component.current()
    if config.msg_ts_header:
        headers[config.msg_ts_header] = msg_timestamp()
    return headers  # type: ignore[no-any-return]


def apply_caller_headers(headers: MutableMapping[str, str], caller: Mapping[str, Any] | None, call: Call) -> None:
    """The caller's own headers win over everything the connection sets, security excepted; a None
    value removes a header, as in requests."""
    if not caller:
        return
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
