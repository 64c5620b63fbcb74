"""OAuth2 client credentials: bearer tokens fetched, cached and refreshed per definition.

The token request goes through the connection's own session and the one send (``bind``), with
its timeouts, TLS settings and proxy. A 401 from the remote service drops the token it was sent
(``refused``), and the connection's pipeline makes the attempt once more, prepared anew with a new
token (``conn.http``): its interceptors, span, metrics and log line see it as an attempt of its own.
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import parse_qsl

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from zato_outconn.config import SecurityConfig
from zato_outconn.exceptions import CallError, TokenError
from zato_outconn.security.plan import SecurityPlan, TokenSender, plans, require_secret
from zato_outconn.security.token_cache import TOKENS, TokenCache
from zato_outconn.wire.call import Call

# What an OAuth2 error code looks like (RFC 6749 5.2 defines a few, all of them so): short, one word.
_ERROR_CODE = re.compile(r'[A-Za-z0-9_.-]{1,64}')

logger = logging.getLogger('zato_outconn.oauth2')


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
        cache.drop_others(self._key)
        self._send: TokenSender | None = None

    def __repr__(self) -> str:
        return f'<ClientCredentials {self.definition!r} token_url={self.config.token_url}>'

    def bind(self, send: TokenSender) -> None:
        """Send token requests this way: through the connection's session, TLS settings and proxy."""
        self._send = send

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers['Authorization'] = f'Bearer {self._cache.get(self._key, self._fetch)}'
        return request

    def refused(self, request: requests.PreparedRequest) -> bool:
        """The remote service answered 401 to ``request``: whether it carried a token of ours, which
        is dropped (unless another thread renewed it already), so the attempt is worth making again."""
        sent = str(request.headers.get('Authorization', ''))
        if not sent.startswith('Bearer '):
            # requests took the token off on a redirect to another host: that host never had it, and
            # must not get it now.
            return False
        self._cache.drop(self._key, sent[len('Bearer '):])
        logger.info('Token of %r refused with 401; retrying once with a new one', self.definition)
        return True

    def _fetch(self) -> tuple[str, float | None]:
        token_url = self.config.token_url or ''
        if self._send is None:
            raise TokenError(self.definition, token_url, None, 'cannot be asked: no connection is bound to send')
        try:
            response = self._send(self._token_request(), Call(self.definition, 'POST', token_url, ''))
        except CallError as error:
            cause = type(error.__cause__).__name__ if error.__cause__ is not None else type(error).__name__
            raise TokenError(self.definition, token_url, None,
                             f'cannot be reached ({cause}: {error.message})') from error
        try:
            return self._parse(response)
        finally:
            response.close()

    def _token_request(self) -> requests.PreparedRequest:
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
        return requests.Request('POST', config.token_url or '', data=data, auth=auth,
                                headers={'Accept': 'application/json'}).prepare()

    def _parse(self, response: requests.Response) -> tuple[str, float | None]:
        token_url = self.config.token_url or ''
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            # The OAuth error code says why (invalid_client, invalid_scope...). Shown only if it is one: a
            # server may put anything there, the request it was sent (the client secret) included.
            code = body.get('error') if isinstance(body, dict) else None
            shown = f' ({code})' if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ''
            raise TokenError(self.definition, token_url, response.status_code, f'refused the token request{shown}')
        if not isinstance(body, dict) or not isinstance(body.get('access_token'), str) or not body['access_token']:
            raise TokenError(self.definition, token_url, response.status_code, 'answered without an access_token')
        expires_in = body.get('expires_in')
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        logger.info('Got a token for %r from %s, valid for %s s', self.definition, token_url, lifetime)
        return body['access_token'], lifetime


@plans.register('oauth2')
def client_credentials(config: SecurityConfig) -> SecurityPlan:
    auth = ClientCredentials(config, require_secret(config))
    return SecurityPlan(auth=auth, token_flow=auth)
