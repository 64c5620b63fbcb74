"""The ``.conn`` of an outgoing connection: one request pipeline behind get/post/.../ping.

Every call, whatever its verb, goes through ``HTTPConnection._send``: URL from the path template,
default and X-Zato headers, body codec, caller's headers, security, then the session. So headers,
security, timeouts and TLS can never differ from one path to another.

Requests are prepared here rather than by ``Session.request``: the template already fixes what
requests would otherwise work out on every call (environment proxies, netrc, settings merging),
and skipping that work makes a call cheaper than a bare ``requests.Session().get``.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from collections.abc import Mapping
from time import perf_counter
from typing import Any

import requests
from requests.auth import AuthBase
from requests.cookies import RequestsCookieJar
from requests.utils import check_header_validity, default_headers
from urllib3.exceptions import EmptyPoolError

from zato_outconn import __version__
from zato_outconn.body import BodyError, encode_body
from zato_outconn.config import OutconnConfig, SecurityConfig
from zato_outconn.exceptions import (
    CallError,
    Inactive,
    MissingParameter,
    OutconnError,
    RequestError,
    SecretsError,
    TokenError,
)
from zato_outconn.headers import Component, msg_timestamp
from zato_outconn.ping import PingResult
from zato_outconn.security import EnvelopeSecurity, HeaderAuth, SessionBound, build_applier
from zato_outconn.transport import CABundleFile, ClientCertificate, build_session, map_requests_error
from zato_outconn.url_template import DotSegment, PathTemplate

logger = logging.getLogger('zato_outconn.call')

USER_AGENT = f'zato-outconn/{__version__} python-requests/{requests.__version__}'

# What a header value cannot hold.
_UNSENDABLE = re.compile(r'[\r\n\x00]')

# Keyword arguments passed through to requests as they are, for what the template does not fix.
_SEND_OVERRIDES = frozenset(('timeout', 'verify', 'cert', 'proxies', 'allow_redirects'))
_PREPARE_EXTRAS = frozenset(('json', 'files', 'cookies', 'auth', 'hooks'))


class HTTPConnection:
    """Calls one remote endpoint as its template says. Thread-safe; the session opens on first use."""

    # The keyword arguments the verbs take besides their own.
    _keywords: frozenset[str] = _SEND_OVERRIDES | _PREPARE_EXTRAS

    def __init__(self, config: OutconnConfig, security: SecurityConfig | None, component: Component, *,
                 problem: str | None = None) -> None:
        self.config = config
        self.name = config.name
        self.security = security
        # Why this connection cannot be called at all (its secret does not decrypt, say), or None.
        self.problem = problem
        self._component = component
        self._template = PathTemplate.parse(config.url_path)
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._applier: AuthBase | None = None
        self._envelope_security: EnvelopeSecurity | None = None
        self._ca_bundle: CABundleFile | None = None
        self._send_kwargs: dict[str, Any] = {}
        self._inflight = 0
        self._retired = False

        # Fixed once per template: the headers every request starts from.
        headers = default_headers()
        headers['User-Agent'] = USER_AGENT
        self._base_headers = headers

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.config.transport} {self.name!r} {self.config.address}>'

    # ------------------------------------------------------------------ public API

    @property
    def session(self) -> requests.Session:
        """The underlying requests session, for anything the verbs do not cover."""
        with self._lock:
            self._open()
            assert self._session is not None
            return self._session

    @property
    def auth(self) -> tuple[str, str] | None:
        """``(username, password)`` of a security definition that has both (basic_auth, digest, ntlm,
        wss), else None."""
        security = self.security
        if security is None or not security.username or not security.secret:
            return None
        return (security.username, security.secret)

    def get(self, cid: str, params: Mapping[str, Any] | None = None, prefetch: bool = True,
            **kwargs: Any) -> requests.Response:
        return self.request('GET', cid, params=params, prefetch=prefetch, **kwargs)

    def head(self, cid: str, params: Mapping[str, Any] | None = None, prefetch: bool = True,
             **kwargs: Any) -> requests.Response:
        return self.request('HEAD', cid, params=params, prefetch=prefetch, **kwargs)

    def post(self, cid: str, data: Any = '', prefetch: bool = True, **kwargs: Any) -> requests.Response:
        return self.request('POST', cid, data=data, prefetch=prefetch, **kwargs)

    send = post

    def put(self, cid: str, data: Any = '', prefetch: bool = True, **kwargs: Any) -> requests.Response:
        return self.request('PUT', cid, data=data, prefetch=prefetch, **kwargs)

    def patch(self, cid: str, data: Any = '', prefetch: bool = True, **kwargs: Any) -> requests.Response:
        return self.request('PATCH', cid, data=data, prefetch=prefetch, **kwargs)

    def delete(self, cid: str, data: Any = '', prefetch: bool = True, **kwargs: Any) -> requests.Response:
        return self.request('DELETE', cid, data=data, prefetch=prefetch, **kwargs)

    def options(self, cid: str, data: Any = '', prefetch: bool = True, **kwargs: Any) -> requests.Response:
        return self.request('OPTIONS', cid, data=data, prefetch=prefetch, **kwargs)

    def request(self, method: str, cid: str, *, params: Mapping[str, Any] | None = None, data: Any = None,
                prefetch: bool = True, headers: Mapping[str, str] | None = None,
                **kwargs: Any) -> requests.Response:
        """Send one request; ``prefetch=False`` streams the response (requests' ``stream=True``)."""
        if 'stream' in kwargs:
            prefetch = not kwargs.pop('stream')
        if kwargs.get('timeout', ...) is None:
            # None would mean waiting forever; a connection always has a timeout, the template's.
            del kwargs['timeout']
        unknown = kwargs.keys() - self._keywords if kwargs else None
        if unknown:
            raise TypeError(f'{method.lower()}() got unexpected keyword arguments: {", ".join(sorted(unknown))}')
        path, query = self._fill(params, method, cid)
        url = self.config.host + path + (f'?{query}' if query else '')
        return self._send(method, url, cid, data, headers, not prefetch, kwargs)

    def ping(self, cid: str) -> PingResult:
        """Call ping_method on host + url_path (up to its first placeholder), once, and report."""
        method = self.config.ping_method
        url = self.config.host + self._template.ping_path
        timestamp = msg_timestamp()
        start = perf_counter()
        try:
            # Streamed and closed unread: a ping measures the answer, not the download of a body.
            response = self._send(method, url, cid, None, None, True, {})
        except Inactive:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes part of the report
            return PingResult(method=method, url=url, timestamp=timestamp, elapsed=perf_counter() - start,
                              error=_reason(error))
        elapsed = perf_counter() - start
        response.close()
        return PingResult(method=method, url=url, timestamp=timestamp, elapsed=elapsed,
                          status_code=response.status_code, reason=response.reason or '')

    def close(self) -> None:
        """Retire the connection: its session closes once the calls in flight have finished."""
        with self._lock:
            self._retired = True
            if not self._inflight:
                self._release()

    # ------------------------------------------------------------------ the pipeline

    def _fill(self, params: Mapping[str, Any] | None, method: str, cid: str) -> tuple[str, str]:
        if params is not None and not isinstance(params, Mapping):
            raise RequestError(f'params must be a dict, not {type(params).__name__}', **self._context(
                method, self.config.address, cid))
        try:
            return self._template.fill(params)
        except KeyError as error:
            raise MissingParameter(error.args[0], **self._context(method, self.config.address, cid)) from None
        except DotSegment as error:
            raise RequestError(f'the value of {{{error.args[0]}}} is empty, . or .., which would change the '
                               'path', **self._context(method, self.config.address, cid)) from None

    def _send(self, method: str, url: str, cid: str, data: Any, headers: Mapping[str, str] | None,
              stream: bool, extras: dict[str, Any]) -> requests.Response:
        config = self.config
        if not config.is_active:
            raise Inactive('the connection is inactive; activate it to call it', **self._context(method, url, cid))

        start = perf_counter()
        try:
            with self._lock:
                self._open()
                self._inflight += 1
                session = self._session
        except (SecretsError, TokenError) as error:
            raise self._failed(error, method, url, cid, start) from None
        try:
            assert session is not None
            send_kwargs = self._send_kwargs
            if extras.keys() & _SEND_OVERRIDES:
                send_kwargs = {**send_kwargs, **{key: extras[key] for key in _SEND_OVERRIDES if key in extras}}
            try:
                prepared = self._prepare(method, url, cid, data, headers, extras)
                response = session.send(prepared, stream=stream, **send_kwargs)
            except (requests.RequestException, EmptyPoolError) as error:
                mapped = map_requests_error(error, timeout=send_kwargs['timeout'],
                                            max_redirects=config.max_redirects, **self._context(method, url, cid))
                raise self._failed(mapped, method, url, cid, start) from error
            except (SecretsError, TokenError) as error:
                # Security that could not be applied (no secret, a token endpoint that refused).
                raise self._failed(error, method, url, cid, start) from None
            logger.info('%s %s %s -> %s in %.4f s cid=%s', self.name, method, url, response.status_code,
                        perf_counter() - start, cid)
            return response
        finally:
            with self._lock:
                self._inflight -= 1
                if self._retired and not self._inflight:
                    self._release()

    def _prepare(self, method: str, url: str, cid: str, data: Any, headers: Mapping[str, str] | None,
                 extras: dict[str, Any]) -> requests.PreparedRequest:
        config = self.config
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        request_headers = self._base_headers.copy()
        if not isinstance(cid, str) or _UNSENDABLE.search(cid):
            raise RequestError('the cid must be one line of text', **self._context(method, url, str(cid)[:64]))
        if config.cid_header:
            request_headers[config.cid_header] = cid
        if config.component_header:
            request_headers[config.component_header] = self._component.current()
        if config.msg_ts_header:
            request_headers[config.msg_ts_header] = msg_timestamp()

        if 'json' in extras or 'files' in extras:
            prepared.headers = request_headers
            prepared.prepare_body(data or None, extras.get('files'), extras.get('json'))
        else:
            try:
                body, body_headers = self._encode(method, data, extras)
            except BodyError as error:
                raise RequestError(str(error), **self._context(method, url, cid)) from None
            request_headers.update(body_headers)
            prepared.headers = request_headers
            prepared.body = body
            prepared.prepare_content_length(body)

        # The caller's own headers win over everything the connection sets, security excepted; a None
        # value removes a header, as in requests.
        if headers:
            for name, value in headers.items():
                if value is None:
                    request_headers.pop(name, None)
                    continue
                try:
                    check_header_validity((name, value))
                except (ValueError, requests.exceptions.InvalidHeader):
                    # Not repeating the value: it may be a credential.
                    raise RequestError(f'header {name!r} has a value that cannot be sent (it must be one line '
                                       'of text)', **self._context(method, url, cid)) from None
                request_headers[name] = value

        # A jar on every request, as requests' redirect handling reads it even when not following.
        prepared.prepare_cookies(extras.get('cookies') or RequestsCookieJar())
        auth = extras['auth'] if 'auth' in extras else self._applier
        if auth is not None:
            prepared.prepare_auth(auth)
        if 'hooks' in extras:
            prepared.prepare_hooks(extras['hooks'])
        return prepared

    def _encode(self, method: str, data: Any, extras: dict[str, Any]) -> tuple[bytes | None, dict[str, str]]:
        """The body's bytes and the headers that describe them; SOAP connections wrap it in an envelope."""
        body, content_type = encode_body(data, self.config.data_format, self.config.content_type)
        return body, ({'Content-Type': content_type} if content_type else {})

    # ------------------------------------------------------------------ resources

    def _open(self) -> None:
        """Create the session and security applier on first use; the caller holds the lock."""
        if self._session is not None:
            return
        config = self.config
        if self.problem is not None:
            raise SecretsError(f'Connection {self.name!r} cannot be called: {self.problem}')
        try:
            applier = build_applier(self.security) if self.security is not None else None
        except SecretsError as error:
            raise SecretsError(f'Connection {self.name!r} cannot be called: {error}') from None
        client_cert = None
        if isinstance(applier, ClientCertificate):
            # mTLS lives in the TLS connection, so in the session's adapter, not in each request.
            client_cert, applier = applier, None
        elif applier is not None and not isinstance(applier, AuthBase):
            # Message-level security (WS-Security) goes into the SOAP envelope, not the HTTP request.
            self._envelope_security, applier = applier, None
        # Built into locals and kept only once everything is in place, so that a failure leaves no
        # half-open connection and no temporary file behind.
        verify: bool | str = config.validate_tls
        ca_bundle = CABundleFile(config.ca_bundle) if config.validate_tls and config.ca_bundle else None
        try:
            if ca_bundle is not None:
                verify = ca_bundle.path
            session = build_session(config, client_cert,
                                    [applier.header] if isinstance(applier, HeaderAuth) else [])
        except BaseException as error:
            if ca_bundle is not None:
                ca_bundle.remove()
            if isinstance(error, ssl.SSLError) and client_cert is not None:
                raise SecretsError(f'Connection {self.name!r} cannot be called: the client certificate or key of '
                                   f'{client_cert.definition!r} cannot be loaded ({error.reason or error})') from None
            raise
        proxies = {'http': config.proxy, 'https': config.proxy} if config.proxy else {}
        self._send_kwargs = {'timeout': config.timeout, 'verify': verify, 'proxies': proxies, 'cert': None,
                             'allow_redirects': config.follow_redirects}
        self._ca_bundle = ca_bundle
        self._session = session
        if isinstance(applier, SessionBound):
            applier.bind(self._session, self._send_kwargs)
        self._applier = applier

    def _release(self) -> None:
        """Close the session and remove temporary files; the caller holds the lock."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._ca_bundle is not None:
            self._ca_bundle.remove()
            self._ca_bundle = None

    def _failed(self, error: OutconnError, method: str, url: str, cid: str, start: float) -> OutconnError:
        """The one log line of a failed call; errors that do not carry the call (security's own) get
        it as a note, which tracebacks show."""
        logger.warning('%s %s %s failed in %.4f s cid=%s: %s', self.name, method, url, perf_counter() - start,
                       cid, _reason(error))
        if not isinstance(error, CallError):
            error.add_note(f'in a call of connection {self.name!r}: {method} {url} (cid {cid})')
        return error

    def _context(self, method: str, url: str, cid: str) -> dict[str, str]:
        return {'name': self.name, 'method': method, 'url': url, 'cid': cid}


def _reason(error: BaseException) -> str:
    """What went wrong, without the connection, method, URL and cid a call error adds around it."""
    return error.message if isinstance(error, CallError) else str(error)
