"""The ``.conn`` of an outgoing connection: one request pipeline behind get/post/.../ping.

Every call, whatever its verb, goes through ``HTTPConnection.dispatch``: URL from the path
template, default and X-Zato headers, body codec, caller's headers, security, then the one send.
So headers, security, timeouts and TLS can never differ from one path to another.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from time import monotonic, perf_counter
from typing import Any

import requests
from requests.utils import default_headers

from zato_outconn import metrics
from zato_outconn.config import HTTP_METHODS, OutconnConfig, SecurityConfig
from zato_outconn.config.path_template import BadParameter, DotSegment
from zato_outconn.conn.body import encode_body
from zato_outconn.conn.headers import Component, msg_timestamp
from zato_outconn.conn.interceptors import CallInfo, Interceptors
from zato_outconn.conn.ping import PingResult
from zato_outconn.conn.policies import bounded, policies_for
from zato_outconn.conn.prepare import Preparer
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.conn.timeout import BadTimeout, call_timeout
from zato_outconn.conn.tracing import client_span
from zato_outconn.exceptions import (
    CallError,
    ConnectError,
    Inactive,
    MissingParameter,
    RequestError,
    SecretsError,
    printable,
)
from zato_outconn.security import SecurityPlan, build_plan
from zato_outconn.version import __version__
from zato_outconn.wire.budget import SHARED, SocketBudgets
from zato_outconn.wire.call import Call, Limits
from zato_outconn.wire.send import read_within_limit, send
from zato_outconn.wire.session import OpenSession, open_session

logger = logging.getLogger('zato_outconn.call')

USER_AGENT = f'zato-outconn/{__version__} python-requests/{requests.__version__}'

# Keyword arguments passed through to requests as they are, for what the template does not fix.
_SEND_OVERRIDES = frozenset(('timeout', 'verify', 'cert', 'proxies', 'allow_redirects'))
_PREPARE_EXTRAS = frozenset(('json', 'files', 'cookies', 'auth', 'hooks'))
# What a caller may pass that sends the request through the whole of Session.send.
_FULL_SEND_EXTRAS = frozenset(('files', 'cookies', 'hooks'))

_NO_PLAN = SecurityPlan()

# The call whose token was last refused and renewed in this thread or greenlet: each dispatch makes
# its own Call and hands it to all its attempts, so a call renews its token once whatever its retries.
_REFRESHED: ContextVar[Call | None] = ContextVar('zato_outconn_token_refreshed', default=None)

_METHODS = frozenset(HTTP_METHODS)
# RFC 9110's token, which a method must be.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class HTTPConnection:
    """Calls one remote endpoint as its template says. Thread-safe; the session opens on first use."""

    # The keyword arguments the verbs take besides their own.
    _keywords: frozenset[str] = _SEND_OVERRIDES | _PREPARE_EXTRAS

    def __init__(self, config: OutconnConfig, security: SecurityConfig | None, component: Component, *,
                 problem: str | None = None, budgets: SocketBudgets = SHARED,
                 interceptors: Interceptors | None = None) -> None:
        self.config = config
        self._transport = config.transport
        # Its registry's, shared by every connection it builds; with none added, one check per attempt.
        self._interceptors = interceptors if interceptors is not None else Interceptors()
        # Where pool_size is counted across the connection's generations: its registry's.
        self._budgets = budgets
        self.name = config.name
        self.security = security
        # Why this connection cannot be called at all (its secret does not decrypt, say), or None.
        self.problem = problem
        self._component = component
        self._template = config.path_template
        self._lock = threading.Lock()
        self._opened: OpenSession | None = None
        self._plan = _NO_PLAN
        self._inflight = 0
        self._retired = False

        # Fixed once per template: the headers every request starts from.
        headers = default_headers()
        headers['User-Agent'] = USER_AGENT
        self._base_headers = headers
        self._preparer = Preparer(config, headers, component, self._encode)
        self._limits = Limits(config.deadline, config.max_response_size)
        # None unless the template sets a policy: then a call costs one check more than before.
        self._policies = policies_for(config, budgets)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.config.transport} {self.name!r} {self.config.address}>'

    # ------------------------------------------------------------------ public API

    @property
    def session(self) -> requests.Session:
        """The underlying requests session, for anything the verbs do not cover."""
        with self._lock:
            return self._open().session

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
        if method not in _METHODS:
            method = self._method(method, cid)
        if 'stream' in kwargs:
            prefetch = not kwargs.pop('stream')
        unknown = kwargs.keys() - self._keywords if kwargs else None
        if unknown:
            raise TypeError(f'{method.lower()}() got unexpected keyword arguments: {", ".join(sorted(unknown))}')
        if 'timeout' in kwargs:
            if kwargs['timeout'] is None:
                # None would mean waiting forever; a connection always has a timeout, the template's.
                del kwargs['timeout']
            else:
                try:
                    kwargs['timeout'] = call_timeout(kwargs['timeout'], self.config)
                except BadTimeout as error:
                    raise RequestError(str(error), **self._call(method, self.config.address, cid).context()) \
                        from None
        path, query = self._fill(params, method, cid)
        url = self.config.host + path + (f'?{query}' if query else '')
        return self.dispatch(OutgoingRequest(method, url, cid, data, headers, not prefetch, kwargs))

    def ping(self, cid: str) -> PingResult:
        """Call ping_method on host + url_path (up to its first placeholder), once, and report."""
        method = self.config.ping_method
        url = self.config.host + self._template.ping_path
        timestamp = msg_timestamp()
        start = perf_counter()
        try:
            # Streamed and closed unread: a ping measures the answer, not the download of a body.
            # Never retried, never counted by the breaker, never held by the rate limit: a ping tells
            # what the remote end does now, and an operator pings an open circuit to see it recover.
            response = self.dispatch(OutgoingRequest(method, url, cid, stream=True), policies=False)
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
            elif self._opened is not None:
                # Its idle sockets count against the pool_size its successor shares: close them now.
                self._opened.close_idle()

    # ------------------------------------------------------------------ the pipeline

    def dispatch(self, request: OutgoingRequest, *, policies: bool = True) -> requests.Response:
        """The one pipeline: check, then each attempt (``_attempt``) within the connection's policies
        (``conn.policies``: breaker, rate limit, retries), if it has any and ``policies`` is true."""
        call = self._call(request.method, request.url, request.cid)
        try:
            if not self.config.is_active:
                raise Inactive('the connection is inactive; activate it to call it', **call.context())
            if self._policies is None or not policies:
                return self._attempt(request, call, 0)
            return self._policies.run(self._attempt, request, call, self._total_of(request))
        except CallError as error:
            # Once per call, whatever its attempts: the error its caller gets.
            metrics.count_error(self.name, type(error).__name__)
            raise

    def _attempt(self, request: OutgoingRequest, call: Call, attempt: int) -> requests.Response:
        """One attempt: open, prepare, send through the one seam, log one line. ``attempt`` is its
        number among a call's attempts, 0 when the call has but the one."""
        start = perf_counter()
        try:
            with self._lock:
                opened = self._open()
                self._inflight += 1
        except CallError as error:
            self._failed(error, call, start, attempt)
            raise
        try:
            settings = opened.settings
            limits = self._limits
            # Most calls pass no extras: no set is made for them.
            if request.extras and request.extras.keys() & _SEND_OVERRIDES:
                settings = {**settings, **{key: request.extras[key] for key in _SEND_OVERRIDES
                                           if key in request.extras}}
                if 'timeout' in request.extras:
                    limits = Limits(self._total_of(request), limits.max_response_size)
            try:
                prepared = self._preparer.prepare(request, call, self._plan.auth)
                route = opened.route if not (request.extras and request.extras.keys() & _FULL_SEND_EXTRAS) \
                    else None
                with client_span(self.name, request.method, request.url) as span:
                    # Before the interceptors: a signing hook sees the final request, traceparent included.
                    span.inject(prepared.headers)
                    interceptors = self._interceptors
                    info = None
                    if not interceptors.is_empty:
                        info = CallInfo(self.name, request.method, request.url, call.cid, attempt or 1)
                        interceptors.before_send(prepared, info)
                    try:
                        response = send(opened.session, prepared, call, request.stream, settings, limits, route)
                    except CallError:
                        metrics.observe_attempt(self.name, self._transport, request.method, None,
                                                perf_counter() - start)
                        raise
                    metrics.observe_attempt(self.name, self._transport, request.method, response.status_code,
                                            perf_counter() - start)
                    span.set_status(response.status_code, None)
                    if info is not None:
                        try:
                            interceptors.after_receive(response, info)
                        except CallError:
                            response.close()
                            raise
            except CallError as error:
                self._failed(error, call, start, attempt)
                raise
            logger.info('%s %s %s -> %s in %.4f s cid=%s%s', self.name, request.method, request.url,
                        response.status_code, perf_counter() - start, call.cid,
                        f' attempt={attempt}' if attempt else '')
            if response.status_code == 401 and self._plan.token_flow is not None:
                return self._token_refused(request, call, attempt, response, start)
            return response
        finally:
            with self._lock:
                self._inflight -= 1
                if self._retired and not self._inflight:
                    self._release()

    def _token_refused(self, request: OutgoingRequest, call: Call, attempt: int, response: requests.Response,
                       start: float) -> requests.Response:
        """A 401 to a request that carried the token flow's token (OAuth2's): the token is dropped and
        the attempt made again, an attempt of its own (prepared anew with a new token, interceptors
        with the same attempt number, its own span, metrics and log line) that max_retries does not
        count, once per call, retries included: a token fetched for this call and refused too is no
        stale token. The refused answer is the first of the new one's ``history``."""
        flow = self._plan.token_flow
        # A caller's own auth= replaced the definition's: no token of the flow was sent.
        if flow is None or 'auth' in request.extras or _REFRESHED.get() is call \
                or not flow.refused(response.request):
            return response
        _REFRESHED.set(call)
        try:
            # Read (within max_response_size) and released first: the token request may need a socket of
            # the same pool (a token endpoint on the API's host), which a pool of one would never give.
            if request.stream:
                read_within_limit(response, call, self._limits)
        finally:
            response.close()
        total = self._total_of(request)
        # Within what is left of the attempt's total deadline: the refusal does not make the call longer.
        again = bounded(self._attempt, request, call, attempt, monotonic() + total - (perf_counter() - start), total)
        again.history.insert(0, response)
        return again

    def _total_of(self, request: OutgoingRequest) -> float:
        """Seconds the whole call may take: total_timeout, or its default from the call's own timeouts."""
        if 'timeout' in request.extras:
            connect, read = request.extras['timeout']
            return self.config.total_of(connect, read)
        return self._limits.total

    def _method(self, method: Any, cid: str) -> str:
        """A method given to ``request`` that is none of the usual ones: upper-cased as requests does, and
        refused before anything is sent unless it is an HTTP token (one with a line break would forge a
        log line, and no server could read it)."""
        if isinstance(method, str) and _TOKEN.fullmatch(method):
            return method.upper()
        shown = printable(method) if isinstance(method, str) else repr(method)
        raise RequestError(f'method {shown!r} is no HTTP method: give GET, POST or another token of letters, '
                           "digits and !#$%&'*+-.^_`|~", **self._call(shown, self.config.address, cid).context())

    def _call(self, method: str, url: str, cid: str) -> Call:
        """What names this call in its errors and log lines: the cid shown escaped, so that one with a
        line break (refused before sending) cannot forge a log line."""
        return Call(self.name, method, url, printable(cid) if isinstance(cid, str) else repr(cid))

    def _fill(self, params: Mapping[str, Any] | None, method: str, cid: str) -> tuple[str, str]:
        if params is not None and not isinstance(params, Mapping):
            raise RequestError(f'params must be a dict, not {type(params).__name__}',
                               **self._call(method, self.config.address, cid).context())
        try:
            return self._template.fill(params)
        except KeyError as error:
            raise MissingParameter(error.args[0], **self._call(method, self.config.address, cid).context()) \
                from None
        except DotSegment as error:
            raise RequestError(f'the value of {{{error.args[0]}}} is empty, . or .., which would change the '
                               'path', **self._call(method, self.config.address, cid).context()) from None
        except BadParameter as error:
            raise BadParameter(error.parameter, error.why, **self._call(method, self.config.address, cid).context()) \
                from None

    def _encode(self, request: OutgoingRequest) -> tuple[bytes | None, dict[str, str]]:
        """The body's bytes and the headers that describe them; SOAP connections wrap it in an envelope."""
        body, content_type = encode_body(request.data, self.config.data_format, self.config.content_type)
        return body, ({'Content-Type': content_type} if content_type else {})

    def _send_token_request(self, prepared: requests.PreparedRequest, call: Call) -> requests.Response:
        """How the security's token flow sends: this connection's session, TLS settings and proxy,
        never following redirects."""
        opened = self._opened
        if opened is None:
            raise ConnectError('the connection was closed before its token request went out', **call.context())
        for name, value in self._base_headers.items():
            prepared.headers.setdefault(name, value)
        settings = {**opened.settings, 'allow_redirects': False}
        return send(opened.session, prepared, call, False, settings, self._limits, opened.route)

    # ------------------------------------------------------------------ resources

    def _open(self) -> OpenSession:
        """The session and security plan, built on first use; the caller holds the lock.

        Built in full before they are kept, so that a failure leaves no half-open connection.
        """
        if self._opened is not None:
            return self._opened
        if self.problem is not None:
            raise SecretsError(f'Connection {self.name!r} cannot be called: {self.problem}')
        try:
            plan = build_plan(self.security) if self.security is not None else _NO_PLAN
        except SecretsError as error:
            raise SecretsError(f'Connection {self.name!r} cannot be called: {error}') from None
        opened = open_session(self.config, name=self.name, client_cert=plan.client_cert, budgets=self._budgets,
                              credential_headers=plan.credential_headers)
        if plan.token_flow is not None:
            plan.token_flow.bind(self._send_token_request)
        self._opened, self._plan = opened, plan
        return opened

    def _release(self) -> None:
        """Close the session and remove temporary files; the caller holds the lock."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _failed(self, error: CallError, call: Call, start: float, attempt: int = 0) -> None:
        """The one log line of a failed attempt; errors raised by parts that do not know the call
        (security's own) learn it here."""
        logger.warning('%s %s %s failed in %.4f s cid=%s%s: %s', self.name, call.method, call.url,
                       perf_counter() - start, call.cid, f' attempt={attempt}' if attempt else '', _reason(error))
        if not error.name:
            error.in_call(**call.context())


def _reason(error: BaseException) -> str:
    """What went wrong, without the connection, method, URL and cid a call error adds around it."""
    return error.message if isinstance(error, CallError) else str(error)
