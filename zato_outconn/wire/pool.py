"""The urllib3 pools and sockets of a connection's session.

What they add to urllib3's: a bounded wait for a free socket, a socket budget shared by every
generation of a connection (``wire.budget``), the call's total deadline told which sockets to shut
(``wire.deadline``), and one retry of a request that met a kept-alive socket the server had just
closed.
"""

from __future__ import annotations

import contextvars
import http.client
import logging
import queue
import ssl
import sys
import weakref
from time import monotonic
from typing import Any

import urllib3.connectionpool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import EmptyPoolError, ProtocolError, ProxyError, SSLError
from urllib3.exceptions import TimeoutError as PoolTimeoutError
from urllib3.util.request import set_file_position
from urllib3.util.retry import Retry
from urllib3.util.ssl_match_hostname import CertificateError
from urllib3.util.timeout import Timeout as PoolTimeoutSetting
from urllib3.util.url import _encode_target

from zato_outconn.wire import deadline, idle
from zato_outconn.wire.answer import QuickAnswers
from zato_outconn.wire.answer_head import AnswerResponse
from zato_outconn.wire.budget import PROCESS, SocketBudget, default_max_sockets
from zato_outconn.wire.request_head import QuickFields

logger = logging.getLogger(__name__)

# What a server that closed a kept-alive socket as the request arrived leaves the client with.
_STALE_SOCKET = (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                 ssl.SSLEOFError, ssl.SSLZeroReturnError)
# Methods that may be sent twice (RFC 9110, 9.2.2); others are sent again only without a body.
_IDEMPOTENT = frozenset(('GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'))

# Whether the request in progress in this thread or greenlet went out on a socket used before.
_reused: contextvars.ContextVar[bool] = contextvars.ContextVar('zato_outconn_reused', default=False)

# urllib3 retries nothing, and hands back every response as it came (no redirects, no Retry-After).
NO_RETRY = Retry(total=0, read=False, redirect=False)


class OnceOnStaleSocket(Retry):
    """No retries, but one: a request that found its kept-alive socket closed by the server.

    A server may close an idle keep-alive socket just as a request arrives on it. Browsers, and
    urllib3 for reused sockets, send such a request again on a fresh socket; so does this, once,
    for requests that may be sent twice (see ``BoundedWait.urlopen``).
    """

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Any:
        current = deadline.current()
        if self.total and error is not None and _reused.get() and _stale(error) \
                and (current is None or not current.passed()):
            # Not past the deadline: the watchdog's shutdown looks like a server's close.
            logger.debug('%s %s met a kept-alive socket the server had closed; sending it again', method, url)
            return self.new(total=0)
        return NO_RETRY.increment(method, url, response, error, _pool, _stacktrace)


ONCE_ON_STALE = OnceOnStaleSocket(total=1, connect=0, read=0, redirect=False, status=0, other=0,
                                  respect_retry_after_header=False)


def _stale(error: BaseException) -> bool:
    inner = error.args[1] if isinstance(error, ProtocolError) and len(error.args) > 1 else None
    if isinstance(error, SSLError) and error.args:
        inner = error.args[0]
    return isinstance(inner, _STALE_SOCKET)


class _Budgeted:
    """A socket that takes a place from its connection's budget, and the process's, while it is open.

    The places go back when the socket closes. http.client, though, closes the connection of an
    answer that ends the connection (``Connection: close``, HTTP/1.0) while the answer's body is
    still to be read from the socket: that socket's places go back only once the socket itself is
    gone, with the answer.
    """

    # Answers' header fields read without the email parser (wire.answer_head), the same fields.
    response_class: type[http.client.HTTPResponse] = AnswerResponse
    budget: SocketBudget | None = None
    _places: list[SocketBudget] | None = None
    # When the socket last went back to its pool, unused since (monotonic seconds).
    idle_since = 0.0
    timeout: Any
    sock: Any

    def connect(self) -> None:
        # Each waits at most the connect timeout, as for a free socket of the pool.
        wait = self.timeout if isinstance(self.timeout, int | float) else None
        budgets = [PROCESS] if self.budget is None else [self.budget, PROCESS]
        taken: list[SocketBudget] = []
        try:
            for budget in budgets:
                budget.take(wait)
                taken.append(budget)
            super().connect()  # type: ignore[misc]
        except BaseException:
            _give_back(taken)
            raise
        self._places = taken
        current = deadline.current()
        if current is not None:
            current.watch(self.sock)
            if current.passed():
                self.close()
                raise deadline.DeadlinePassed('the call reached its total timeout while connecting')

    def close(self) -> None:
        sock = self.sock
        try:
            super().close()  # type: ignore[misc]
        finally:
            places, self._places = self._places, None
            if places:
                if sock is not None and getattr(sock, '_io_refs', 0) > 0:
                    # An answer still reads from it (its file object holds it open).
                    weakref.finalize(sock, _give_back, places)
                else:
                    _give_back(places)


def _give_back(budgets: list[SocketBudget]) -> None:
    for budget in budgets:
        budget.give_back()


class BudgetedHTTPConnection(_Budgeted, QuickFields, QuickAnswers, HTTPConnection):
    """A plain socket counted against its connection's budget."""


class BudgetedHTTPSConnection(_Budgeted, QuickFields, QuickAnswers, HTTPSConnection):
    """A TLS socket counted against its connection's budget."""


class BoundedWait:
    """What both pools add to urllib3's.

    A caller finding every socket busy waits for one at most the call's connect timeout (with
    pool_block on, urllib3 would wait for ever). requests passes every argument of urlopen by
    keyword, the call's timeout as a urllib3 Timeout; urllib3's own retry passes the first three
    by position.
    """

    budget: SocketBudget | None
    pool: queue.LifoQueue[Any] | None
    close: Any  # urllib3's

    def __init__(self, *args: Any, budget: SocketBudget | None = None, **kwargs: Any) -> None:
        self.budget = budget
        self.idle_timeout = idle.idle_timeout()
        super().__init__(*args, **kwargs)
        PROCESS.resize(default_max_sockets())
        idle.REAPER.watch(self)

    def urlopen(self, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get('pool_timeout') is None:
            timeout = kwargs.get('timeout')
            wait = timeout.connect_timeout if type(timeout) is PoolTimeoutSetting else timeout
            if isinstance(wait, int | float):
                kwargs['pool_timeout'] = wait
        if kwargs.get('retries') is ONCE_ON_STALE and not _replayable(method, body):
            kwargs['retries'] = NO_RETRY
        return super().urlopen(method, url, body, *args, **kwargs)  # type: ignore[misc]

    def send_direct(self, method: str, target: str, body: Any, headers: Any, timeout: PoolTimeoutSetting,
                    pool_timeout: float, chunked: bool) -> Any:
        """``urlopen`` for a request of the direct route (wire.direct): its own origin, no proxy, no
        redirect followed, the answer unread, urllib3 retrying only a stale socket.

        What urlopen does for such a request, without the working out it does for every other
        kind: the first attempt here, each further one (after a stale socket) by urlopen itself.
        """
        retries = ONCE_ON_STALE if _replayable(method, body) else NO_RETRY
        url = _encoded_target(target)
        body_pos = set_file_position(body, None)
        conn = None
        clean_exit = False
        broken_by: BaseException | None = None
        try:
            conn = self._get_conn(timeout=pool_timeout)
            # Read, not started: urllib3's _make_request starts a copy of its own, as for urlopen.
            conn.timeout = timeout.connect_timeout
            # What _make_request adds, then urllib3's own (called directly: _make_request takes any arguments).
            response = super()._make_request(conn, method, url,  # type: ignore[misc]
                                             timeout=self._within_deadline(conn, timeout),
                                             body=body, headers=headers, chunked=chunked, retries=retries,
                                             response_conn=conn, preload_content=False, decode_content=False)
            clean_exit = True
        except EmptyPoolError:
            clean_exit = True  # no socket was taken: none to give back
            raise
        except (PoolTimeoutError, http.client.HTTPException, OSError, ProtocolError, ssl.SSLError, SSLError,
                CertificateError, ProxyError) as error:
            # As urlopen turns them into what its retries look at (no proxy here to blame).
            new_error: Exception = error
            if isinstance(error, ssl.SSLError | CertificateError):
                new_error = SSLError(error)
            if isinstance(new_error, OSError | http.client.HTTPException):
                new_error = ProtocolError('Connection aborted.', new_error)
            retries = retries.increment(method, url, error=new_error, _pool=self,  # type: ignore[arg-type]
                                        _stacktrace=sys.exc_info()[2])
            retries.sleep()
            broken_by = error  # what urllib3's retry warning names
        finally:
            if not clean_exit:
                if conn:
                    conn.close()
                    conn = None
                self._put_conn(conn)
        if conn is None:
            # Sent again once, on a new socket, as urlopen itself sends a retried request, with
            # urllib3's own warning first, on the logger urlopen looks up (as wire.answer does for
            # getresponse's), so that its logs read the same on both routes.
            urllib3.connectionpool.log.warning("Retrying (%r) after connection broken by '%r': %s", retries,
                                               broken_by, url)
            return self.urlopen(method, url, body, headers, retries, False, False, timeout=timeout,
                                pool_timeout=pool_timeout, release_conn=False, chunked=chunked, body_pos=body_pos,
                                preload_content=False, decode_content=False)
        return response

    def _new_conn(self) -> Any:
        conn = super()._new_conn()  # type: ignore[misc]
        conn.budget = self.budget
        return conn

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        timeout = self._within_deadline(conn, kwargs.get('timeout'))
        if timeout is not None:
            kwargs['timeout'] = timeout
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]

    def _within_deadline(self, conn: Any, timeout: Any) -> Any:
        """Before a request goes out on ``conn``: none past the call's deadline, its socket watched,
        a new socket's connect timeout no longer than what is left. Returns the timeout to use."""
        sock = conn.sock
        _reused.set(sock is not None)
        current = deadline.current()
        if current is not None:
            remaining = current.at - monotonic()
            if remaining <= 0 or current.expired:
                # A redirect's next hop, a retry, a second round of authentication: none past the deadline.
                raise deadline.DeadlinePassed('the call reached its total timeout')
            if sock is not None:
                current.watch(sock)
            if isinstance(timeout, PoolTimeoutSetting) and isinstance(timeout.connect_timeout, int | float) \
                    and timeout.connect_timeout > remaining:
                # A new socket's connect cannot be shut by the watchdog: it waits no longer than what is left.
                return PoolTimeoutSetting(connect=remaining, read=timeout.read_timeout)
        return timeout

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        if conn.sock is not None and monotonic() - conn.idle_since > self.idle_timeout:
            conn.close()  # idle too long: a server may have dropped it without a word
        return conn

    def _put_conn(self, conn: Any) -> None:
        current = deadline.current()
        if conn is not None and conn.sock is not None:
            if current is not None:
                current.forget(conn.sock)
            if (self.budget is not None and self.budget.waiting) or PROCESS.waiting:
                # Someone waits for a place (a caller of the connection's older generation, say):
                # closed, this socket hands its place over, instead of going back to serve this pool.
                conn.close()
            conn.idle_since = monotonic()
        super()._put_conn(conn)  # type: ignore[misc]
        if self.budget is not None:
            self.budget.went_idle(self)
        PROCESS.went_idle(self)

    def close_idle(self, idle_for: float = 0.0) -> int:
        """Close the sockets no call has used for ``idle_for`` seconds; the pool stays open for the
        calls still in flight. Returns how many were closed."""
        return self._close_idle(idle_for, at_most=None)

    def close_one_idle(self) -> bool:
        """Close one socket no call is using, if there is one."""
        return self._close_idle(0.0, at_most=1) == 1

    def _close_idle(self, idle_for: float, at_most: int | None) -> int:
        pool = self.pool
        if pool is None:
            return 0
        cutoff = monotonic() - idle_for
        # A look first, without taking anything: most pools swept have nothing to close.
        if not any(conn is not None and conn.sock is not None and conn.idle_since <= cutoff
                   for conn in list(pool.queue)):
            return 0
        taken = []
        closed = 0
        try:
            while at_most is None or closed < at_most:
                try:
                    conn = pool.get(block=False)
                except queue.Empty:
                    break
                taken.append(conn)
                if conn is not None and conn.sock is not None and conn.idle_since <= cutoff:
                    conn.close()
                    closed += 1
        finally:
            if self.pool is not pool:
                # The pool was closed meanwhile, its queue drained without these: close them here.
                for conn in taken:
                    if conn is not None:
                        conn.close()
            else:
                # Put back, the closed ones too: a pool's size is the number of places in its queue,
                # and a closed connection connects again when next taken.
                for conn in taken:
                    pool.put(conn, block=False)
        return closed


# Request targets as urllib3 sends them (invalid characters percent-encoded, escapes in upper
# case), by target: the same few are sent again and again, and working one out takes a loop
# over its characters.
_TARGETS: dict[str, str] = {}


def _encoded_target(target: str) -> str:
    try:
        return _TARGETS[target]
    except KeyError:
        encoded = _encode_target(target)
        if len(_TARGETS) >= 512:
            _TARGETS.clear()  # targets that change with every call (an id in the path) come and go
        _TARGETS[target] = encoded
        return encoded


def _replayable(method: str, body: Any) -> bool:
    """Whether a request may be sent again: its body is in memory, and it may be sent twice or has none."""
    if body is not None and not isinstance(body, bytes | str):
        return False  # a stream or generator, which the first attempt has read
    return method in _IDEMPOTENT or not body


class BoundedHTTPConnectionPool(BoundedWait, HTTPConnectionPool):
    """A pool of plain sockets that never keeps a caller waiting for one past the connect timeout."""

    ConnectionCls = BudgetedHTTPConnection


class BoundedHTTPSConnectionPool(BoundedWait, HTTPSConnectionPool):
    """As BoundedHTTPConnectionPool, over TLS."""

    ConnectionCls = BudgetedHTTPSConnection
