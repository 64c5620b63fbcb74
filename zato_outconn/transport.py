"""The requests side of a connection: its session, TLS material, and error mapping.

This is the one place where requests and urllib3 exceptions become the library's own.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import Iterable
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import EmptyPoolError
from urllib3.util.retry import Retry
from urllib3.util.ssl_ import create_urllib3_context

from zato_outconn.config import OutconnConfig
from zato_outconn.exceptions import (
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadTimeout,
    TLSError,
    TransportError,
)

# How many distinct hosts' pools one connection keeps: its own, plus a few that redirects lead to.
_POOLS_PER_CONNECTION = 4


class ClientCertificate:
    """A client certificate and its private key (mTLS), kept in memory as PEM text.

    ssl can load a certificate chain from files only, so the PEM is written to a private folder
    just long enough to load it into an SSL context, and removed at once.
    """

    def __init__(self, definition: str, cert_pem: str, key_pem: str, key_password: str | None) -> None:
        self.definition = definition
        self._cert_pem = cert_pem
        self._key_pem = key_pem
        self._key_password = key_password

    def __repr__(self) -> str:
        return f'<ClientCertificate {self.definition!r}>'

    def ssl_context(self) -> ssl.SSLContext:
        context = create_urllib3_context()
        # urllib3 sets verify_mode on this shared context for each connection, from the call's verify
        # setting, and matches the host name itself when the context does not. Left on, check_hostname
        # would make every call with validate_tls off fail: ssl refuses CERT_NONE together with it.
        context.check_hostname = False
        folder = tempfile.mkdtemp(prefix='zato-outconn-mtls-')  # mode 0700
        try:
            cert_path, key_path = os.path.join(folder, 'cert.pem'), os.path.join(folder, 'key.pem')
            for path, pem in ((cert_path, self._cert_pem), (key_path, self._key_pem)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, 'w', encoding='ascii') as pem_file:
                    pem_file.write(pem)
            context.load_cert_chain(cert_path, key_path, password=self._key_password or None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return context


def _bounded_wait(pool_class: type[HTTPConnectionPool], wait: float) -> type[HTTPConnectionPool]:
    """The pool class, waiting at most ``wait`` seconds for a free socket instead of for ever."""

    class BoundedPool(pool_class):  # type: ignore[valid-type, misc]
        def _get_conn(self, timeout: float | None = None) -> Any:
            return super()._get_conn(timeout=wait if timeout is None else timeout)

    BoundedPool.__name__ = f'Bounded{pool_class.__name__}'
    return BoundedPool


class _Adapter(HTTPAdapter):
    """The one adapter of a connection's session.

    Its pools hold at most pool_size sockets, and a caller who finds them all busy waits at most
    ``pool_wait`` seconds for one (urllib3's EmptyPoolError then), so that no call waits for ever.
    With a client certificate, it presents it on every TLS connection its pools open.
    """

    def __init__(self, pool_wait: float, client_cert: ClientCertificate | None = None, **kwargs: Any) -> None:
        self._pool_classes = {'http': _bounded_wait(HTTPConnectionPool, pool_wait),
                              'https': _bounded_wait(HTTPSConnectionPool, pool_wait)}
        self._ssl_context = client_cert.ssl_context() if client_cert is not None else None
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._ssl_context is not None:
            kwargs['ssl_context'] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if self._ssl_context is not None:
            proxy_kwargs['ssl_context'] = self._ssl_context
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self._pool_classes
        return manager


class ConnectionSession(requests.Session):
    """A session that, redirected to another host, drops everything security put on the request.

    requests itself removes only the Authorization header; an API key has a header of its own,
    and schemes that answer challenges (digest, NTLM) or renew tokens on 401 do so from response
    hooks, which would answer the other host's challenge with this connection's credentials.
    """

    def __init__(self, credential_headers: Iterable[str] = ()) -> None:
        super().__init__()
        self.credential_headers = frozenset(credential_headers) | {'Authorization'}

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.credential_headers:
                prepared_request.headers.pop(name, None)
            prepared_request.hooks = default_hooks()
        super().rebuild_auth(prepared_request, response)


def build_session(config: OutconnConfig, client_cert: ClientCertificate | None = None,
                  credential_headers: Iterable[str] = ()) -> requests.Session:
    """A session whose pool holds at most pool_size sockets; callers beyond that wait for one, for the
    connect timeout at most."""
    session = ConnectionSession(credential_headers)
    # Settings come from the template only, never from the process environment (proxies, CA bundle,
    # netrc), so that every process that loads a template behaves the same.
    session.trust_env = False
    session.max_redirects = config.max_redirects
    # Cookies are not carried from one call to the next: calls on behalf of different requests
    # share a connection, and must not share state through it.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    pool_settings = {'pool_connections': _POOLS_PER_CONNECTION, 'pool_maxsize': config.pool_size,
                     'pool_block': True, 'max_retries': Retry(total=0, read=False, redirect=False)}
    adapter = _Adapter(config.connect_timeout, client_cert, **pool_settings)
    session.mount('http://', adapter)
    session.mount('https://', adapter)
    return session


class CABundleFile:
    """The template's CA bundle written to a private temporary file, as requests needs a path."""

    def __init__(self, pem: str) -> None:
        descriptor, self.path = tempfile.mkstemp(prefix='zato-outconn-ca-', suffix='.pem')
        with os.fdopen(descriptor, 'w', encoding='ascii') as bundle:
            bundle.write(pem)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def map_requests_error(error: requests.RequestException | EmptyPoolError, *, timeout: Any, max_redirects: int,
                       name: str, method: str, url: str, cid: str) -> TransportError:
    """The most specific library exception for what requests raised, with a reason people can act on.

    ``timeout`` is what the call used: the template's ``(connect, read)`` or the caller's own.
    """
    context = {'name': name, 'method': method, 'url': url, 'cid': cid}
    if isinstance(error, EmptyPoolError):
        return PoolTimeout('every socket of the pool (pool_size) stayed busy for the connect timeout; '
                           'raise pool_size, or close streamed responses sooner', **context)
    root = _root_cause(error)
    connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return ConnectTimeout(f'no connection within the connect timeout of {connect_timeout} s', **context)
    if isinstance(error, requests.exceptions.Timeout):
        return ReadTimeout(f'no answer within the read timeout of {read_timeout} s', **context)
    if isinstance(error, requests.exceptions.SSLError):
        return TLSError(f'TLS failed: {root}', **context)
    if isinstance(error, requests.exceptions.ProxyError):
        return ConnectError(f'the proxy failed: {root}', **context)
    if isinstance(error, requests.exceptions.ConnectionError):
        return ConnectError(f'cannot connect: {root}', **context)
    if isinstance(error, requests.exceptions.TooManyRedirects):
        return TransportError(f'more than max_redirects ({max_redirects}) redirects', **context)
    return TransportError(f'{type(error).__name__}: {root}', **context)


def _root_cause(error: BaseException) -> str:
    """The innermost reason urllib3 gives (Connection refused, certificate verify failed...)."""
    seen: set[int] = set()
    current: BaseException = error
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, 'reason', None)
        if not isinstance(inner, BaseException) and current.args and isinstance(current.args[0], BaseException):
            inner = current.args[0]
        if not isinstance(inner, BaseException):
            break
        current = inner
    text = str(current)
    # urllib3 prefixes its messages with the connection's repr; the URL is in the error already.
    _, separator, rest = text.partition('): ')
    return rest if separator and text.startswith(('HTTPConnection', 'HTTPSConnection', '<')) else text
