"""OAuth2 client credentials: fetching, caching and refreshing bearer tokens.

Tokens are cached per definition and scope (and everything else that changes the token) until
shortly before they expire. When many threads need a token at once, exactly one asks for it and
the others wait for its answer, a token or an error. A 401 from the remote service drops the token it was sent and the
call is retried once with a new one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from zato_outconn.config import SecurityConfig
from zato_outconn.exceptions import TokenError

logger = logging.getLogger(__name__)

# A token is refreshed this share of its lifetime before it expires, but never more than a minute
# early: enough for a call in flight to reach the remote end while the token still holds.
_EARLY_SHARE = 0.1
_EARLY_MAX = 60.0


@dataclass(frozen=True)
class _Token:
    value: str
    # On the monotonic clock; None when the server gave no lifetime (kept until a 401).
    refresh_at: float | None


class TokenCache:
    """Tokens of the whole process, keyed by what identifies a token; safe for threads and greenlets."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, ...], _Token] = {}
        # The token request in flight per key, whose outcome everyone who needs that token waits for.
        self._flights: dict[tuple[str, ...], Future[str | None]] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple[str, ...], fetch: Callable[[], tuple[str, float | None]]) -> str:
        while True:
            token = self._fresh(key)
            if token is not None:
                return token
            with self._guard:
                token = self._fresh(key)
                if token is not None:
                    return token
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = Future()
                    leader = True
                else:
                    leader = False
            if leader:
                return self._lead(key, fetch, flight)
            # The error too is shared: asking again in turn would multiply the load on a failing
            # endpoint, and the wait, by the number of callers.
            value = flight.result()
            if value is not None:
                return value
            # The one asking was interrupted (a greenlet killed, say) rather than refused: ask again.

    def _lead(self, key: tuple[str, ...], fetch: Callable[[], tuple[str, float | None]],
              flight: Future[str | None]) -> str:
        try:
            value, expires_in = fetch()
        except Exception as error:
            self._land(key)
            flight.set_exception(error)
            raise
        except BaseException:
            self._land(key)
            flight.set_result(None)
            raise
        refresh_at = None
        if expires_in is not None:
            refresh_at = self._clock() + expires_in - min(expires_in * _EARLY_SHARE, _EARLY_MAX)
        self._land(key, _Token(value, refresh_at))
        flight.set_result(value)
        return value

    def _land(self, key: tuple[str, ...], token: _Token | None = None) -> None:
        """End the flight of ``key``, keeping the token it brought, if any."""
        with self._guard:
            if token is not None:
                self._tokens[key] = token
            del self._flights[key]

    def drop(self, key: tuple[str, ...], value: str) -> None:
        """Forget the token if it still is the one that was refused (another thread may have renewed it)."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def _fresh(self, key: tuple[str, ...]) -> str | None:
        token = self._tokens.get(key)
        if token is None or (token.refresh_at is not None and self._clock() >= token.refresh_at):
            return None
        return token.value


TOKENS = TokenCache()


class ClientCredentials(AuthBase):
    """Sends ``Authorization: Bearer <token>`` with a token from the definition's token endpoint."""

    def __init__(self, config: SecurityConfig, secret: str, cache: TokenCache = TOKENS) -> None:
        self.definition = config.name
        self.config = config
        self._secret = secret
        self._cache = cache
        # Everything that makes a different token; the secret only as a digest, so a changed secret
        # gets a new token while the key itself holds nothing secret.
        self._key = (config.name, config.token_url or '', config.client_id or '', config.scopes or '',
                     config.audience or '', config.token_extra or '', config.client_auth or '',
                     hashlib.sha256(secret.encode('utf-8')).hexdigest())
        self._session: requests.Session | None = None
        self._send_kwargs: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f'<ClientCredentials {self.definition!r} token_url={self.config.token_url}>'

    def bind(self, session: requests.Session, send_kwargs: dict[str, Any]) -> None:
        """Use the connection's session and TLS settings for token requests, too."""
        self._session = session
        self._send_kwargs = send_kwargs

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers['Authorization'] = f'Bearer {self._cache.get(self._key, self._fetch)}'
        request.register_hook('response', self._retry_on_401)
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, '_token_retried', False):
            return response
        sent = str(request.headers.get('Authorization', ''))
        if not sent.startswith('Bearer '):
            # requests took the token off on a redirect to another host: that host never had it, and
            # must not get it now.
            return response
        # Read and release the refused answer first: the token request may need a socket of the same
        # pool (a token endpoint on the API's host), which a pool of one would otherwise never give.
        response.content  # noqa: B018
        response.close()
        self._cache.drop(self._key, sent[len('Bearer '):])
        retry = request.copy()
        retry.headers['Authorization'] = f'Bearer {self._cache.get(self._key, self._fetch)}'
        retry._token_retried = True  # type: ignore[attr-defined]
        logger.info('Token of %r refused with 401; retrying once with a new one', self.definition)
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again

    def _fetch(self) -> tuple[str, float | None]:
        config = self.config
        data: list[tuple[str, str]] = [('grant_type', 'client_credentials')]
        if config.scopes:
            data.append(('scope', config.scopes))
        if config.audience:
            data.append(('audience', config.audience))
        if config.token_extra:
            data.extend(parse_qsl(config.token_extra, keep_blank_values=True))
        auth = None
        if config.client_auth == 'body':
            data += [('client_id', config.client_id or ''), ('client_secret', self._secret)]
        else:
            # UTF-8, as RFC 7617 and the basic_auth type have it; requests would encode text as Latin-1
            # and fail on any other character.
            auth = HTTPBasicAuth((config.client_id or '').encode('utf-8'), self._secret.encode('utf-8'))

        session = self._session or requests.Session()
        send_kwargs = {key: value for key, value in self._send_kwargs.items() if key != 'allow_redirects'}
        try:
            response = session.post(config.token_url or '', data=data, auth=auth, allow_redirects=False,
                                    headers={'Accept': 'application/json'}, **send_kwargs)
        except requests.RequestException as error:
            raise TokenError(self.definition, config.token_url or '', None,
                             f'cannot be reached ({type(error).__name__})') from error
        finally:
            if self._session is None:
                session.close()
        return self._parse(response)

    def _parse(self, response: requests.Response) -> tuple[str, float | None]:
        token_url = self.config.token_url or ''
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            # The OAuth error code says why (invalid_client, invalid_scope...); it holds no secret.
            code = body.get('error') if isinstance(body, dict) else None
            raise TokenError(self.definition, token_url, response.status_code,
                             f'refused the token request{f" ({code})" if code else ""}')
        if not isinstance(body, dict) or not isinstance(body.get('access_token'), str) or not body['access_token']:
            raise TokenError(self.definition, token_url, response.status_code, 'answered without an access_token')
        expires_in = body.get('expires_in')
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        logger.info('Got a token for %r from %s, valid for %s s', self.definition, token_url, lifetime)
        return body['access_token'], lifetime
