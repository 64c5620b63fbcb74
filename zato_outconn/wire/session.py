"""A connection's requests session: bounded pools, no environment, no cookies, no stray credentials."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks

from zato_outconn.config import OutconnConfig
from zato_outconn.exceptions import SecretsError
from zato_outconn.wire.budget import SHARED, SocketBudget, SocketBudgets
from zato_outconn.wire.direct import DirectRoute, direct_send_enabled
from zato_outconn.wire.pool import ONCE_ON_STALE, BoundedHTTPConnectionPool, BoundedHTTPSConnectionPool, BoundedWait
from zato_outconn.wire.tls import CABundleFile, ClientCertificate

# How many distinct hosts' pools one connection keeps: its own, plus a few that redirects lead to.
_POOLS_PER_CONNECTION = 4


class _Adapter(HTTPAdapter):
    """The one adapter of a connection's session.

    Its pools hold at most pool_size sockets, counted for every generation of the connection
    together, and a caller who finds them all busy waits for one at most the connect timeout. With a
    client certificate, it presents it on every TLS connection.
    """

    def __init__(self, budget: SocketBudget, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        self._ssl_context = ssl_context
        # urllib3 makes its pools as pool_classes_by_scheme[scheme](host, port, **settings).
        self._pool_classes = {'http': partial(BoundedHTTPConnectionPool, budget=budget),
                              'https': partial(BoundedHTTPSConnectionPool, budget=budget)}
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

    def pools(self) -> list[BoundedWait]:
        """The pools of this adapter, direct and through proxies."""
        managers = [self.poolmanager, *self.proxy_manager.values()]
        found = []
        for manager in managers:
            for key in manager.pools.keys():  # noqa: SIM118 - its keys() copies under its lock; it refuses iteration
                pool = manager.pools.get(key)
                if isinstance(pool, BoundedWait):
                    found.append(pool)
        return found


class ConnectionSession(requests.Session):
    """A session that, redirected to another host, drops everything security put on the request.

    requests itself removes only the Authorization header; an API key has a header of its own,
    and schemes that answer challenges (digest, NTLM) do so from response hooks, which would answer
    the other host's challenge with this connection's credentials.
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


@dataclass
class OpenSession:
    """A connection's open session, what each send passes with it, and the files it keeps."""

    session: requests.Session
    # Keyword arguments of Session.send: timeout, verify, proxies, cert and allow_redirects.
    settings: dict[str, Any]
    ca_bundle: CABundleFile | None = field(default=None, repr=False)
    # The way to the template's own origin that skips Session.send, when nothing calls for it.
    route: DirectRoute | None = field(default=None, repr=False)

    def close(self) -> None:
        pools = self._pools()
        self.session.close()
        # urllib3 2's PoolManager.clear() only forgets its pools, leaving their sockets open until
        # the pools are garbage; those sockets would keep their places in the connection's budget.
        for pool in pools:
            pool.close()
        if self.ca_bundle is not None:
            self.ca_bundle.remove()

    def close_idle(self) -> None:
        """Close the sockets no call is using, as the connection is retired with calls still in flight:
        the budget it shares with its newer generations gets their places back at once."""
        for pool in self._pools():
            pool.close_idle()

    def _pools(self) -> list[BoundedWait]:
        adapters = {id(adapter): adapter for adapter in self.session.adapters.values()}.values()
        pools = {id(pool): pool for adapter in adapters if isinstance(adapter, _Adapter) for pool in adapter.pools()}
        if self.route is not None:
            # Its pool stays the route's even once the pool manager has dropped it for others.
            pools[id(self.route.pool)] = self.route.pool
        return list(pools.values())


def open_session(config: OutconnConfig, *, name: str, client_cert: ClientCertificate | None = None,
                 credential_headers: Iterable[str] = (), budgets: SocketBudgets = SHARED) -> OpenSession:
    """A session whose pool holds at most pool_size sockets, with everything a send needs.

    Built in full before it is returned, so that a failure leaves no temporary file behind.
    """
    ca_bundle = CABundleFile(config.ca_bundle) if config.validate_tls and config.ca_bundle else None
    try:
        ssl_context = client_cert.ssl_context() if client_cert is not None else None
    except ssl.SSLError as error:
        if ca_bundle is not None:
            ca_bundle.remove()
        assert client_cert is not None
        raise SecretsError(f'Connection {name!r} cannot be called: the client certificate or key of '
                           f'{client_cert.definition!r} cannot be loaded ({error.reason or error})') from None
    except BaseException:
        if ca_bundle is not None:
            ca_bundle.remove()
        raise

    session = ConnectionSession(credential_headers)
    # Settings come from the template only, never from the process environment (proxies, CA bundle,
    # netrc), so that every process that loads a template behaves the same.
    session.trust_env = False
    session.max_redirects = config.max_redirects
    # Cookies are not carried from one call to the next: calls on behalf of different requests
    # share a connection, and must not share state through it.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    budget = budgets.for_connection(config.transport, name, config.pool_size)
    adapter = _Adapter(budget, ssl_context, pool_connections=_POOLS_PER_CONNECTION, pool_maxsize=config.pool_size,
                       pool_block=True, max_retries=ONCE_ON_STALE)
    session.mount('http://', adapter)
    session.mount('https://', adapter)

    proxies = {'http': config.proxy, 'https': config.proxy} if config.proxy else {}
    settings = {'timeout': config.timeout, 'verify': ca_bundle.path if ca_bundle else config.validate_tls,
                'proxies': proxies, 'cert': None, 'allow_redirects': config.follow_redirects}
    opened = OpenSession(session, settings, ca_bundle)
    if direct_send_enabled() and not config.proxy and not config.follow_redirects:
        opened.route = DirectRoute(session, config.host, settings)
    return opened
