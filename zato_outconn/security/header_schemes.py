"""Security that puts a value computed once into one header: basic_auth, apikey and bearer."""

from __future__ import annotations

from base64 import b64encode

from requests import PreparedRequest
from requests.auth import AuthBase

from zato_outconn.config import SecurityConfig
from zato_outconn.security.plan import SecurityPlan, plans, require_secret


class HeaderAuth(AuthBase):
    """Sets one header to a value computed once, when the connection is built."""

    def __init__(self, definition: str, header: str, value: str) -> None:
        self.definition = definition
        self.header = header
        self._value = value

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers[self.header] = self._value
        return request

    def __repr__(self) -> str:
        # The value is a credential: never part of any text the object produces.
        return f'<{type(self).__name__} {self.definition!r} header={self.header}>'

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]


def _plan(auth: HeaderAuth) -> SecurityPlan:
    return SecurityPlan(auth=auth, credential_headers=frozenset({auth.header}))


@plans.register('basic_auth')
def basic_auth(config: SecurityConfig) -> SecurityPlan:
    # UTF-8, as RFC 7617 has it; requests would encode text as Latin-1 and fail on anything else.
    credentials = f'{config.username or ""}:{require_secret(config)}'.encode()
    return _plan(HeaderAuth(config.name, 'Authorization', f'Basic {b64encode(credentials).decode()}'))


@plans.register('apikey')
def apikey(config: SecurityConfig) -> SecurityPlan:
    return _plan(HeaderAuth(config.name, config.header_name or 'X-API-Key', require_secret(config)))


@plans.register('bearer')
def bearer(config: SecurityConfig) -> SecurityPlan:
    return _plan(HeaderAuth(config.name, 'Authorization', f'Bearer {require_secret(config)}'))
