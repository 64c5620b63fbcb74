"""Security appliers: how a security definition turns into what a request carries.

Each applier is a ``requests.auth.AuthBase``, so that the one request pipeline applies any of
them the same way on every path, and schemes that need a challenge (digest, NTLM) or a token
refresh on 401 can hook into the response later. New types register in ``APPLIERS``.
"""

from __future__ import annotations

import logging
import re
from base64 import b64encode
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from lxml import etree
from requests import PreparedRequest, Session
from requests.auth import AuthBase, HTTPDigestAuth
from requests_ntlm import HttpNtlmAuth

from zato_outconn.config import MASK, SecurityConfig
from zato_outconn.exceptions import SecretsError
from zato_outconn.oauth2 import ClientCredentials
from zato_outconn.transport import ClientCertificate
from zato_outconn.wsse import UsernameToken


class EnvelopeSecurity(Protocol):
    """Security applied inside a SOAP envelope rather than to the HTTP request."""

    def apply(self, envelope: etree._Element, version: str) -> None: ...


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


class BasicAuth(HeaderAuth):
    def __init__(self, config: SecurityConfig) -> None:
        credentials = f'{config.username or ""}:{_secret(config)}'
        super().__init__(config.name, 'Authorization', f'Basic {b64encode(credentials.encode("utf-8")).decode()}')


class APIKeyAuth(HeaderAuth):
    def __init__(self, config: SecurityConfig) -> None:
        super().__init__(config.name, config.header_name or 'X-API-Key', _secret(config))


class BearerAuth(HeaderAuth):
    def __init__(self, config: SecurityConfig) -> None:
        super().__init__(config.name, 'Authorization', f'Bearer {_secret(config)}')


def _secret(config: SecurityConfig) -> str:
    # An empty secret would go out as an empty password, and a mask stands in for one that was never
    # given (an export, say): fail loudly instead.
    if not config.secret or config.secret == MASK:
        raise SecretsError(f'Security definition {config.name!r} has no secret set; '
                           f'run: zato-outconn security set-password {config.name!r}')
    return config.secret


@runtime_checkable
class SessionBound(Protocol):
    """An applier that makes requests of its own (for tokens) through the connection's session."""

    def bind(self, session: Session, send_kwargs: dict[str, Any]) -> None: ...


def _digest(config: SecurityConfig) -> AuthBase:
    return HTTPDigestAuth(config.username or '', _secret(config))


def _ntlm(config: SecurityConfig) -> AuthBase:
    return HttpNtlmAuth(config.username or '', _secret(config))


class _StepTokenRedaction(logging.Filter):
    """Redacts the handshake messages pyspnego logs at DEBUG, keeping the line itself.

    They are the Authorization header values themselves, and the last one answers the server's
    challenge with a hash of the password that can be cracked offline.
    """

    _step = re.compile(r'^(\w+ step (?:input|output)): ')

    def filter(self, record: logging.LogRecord) -> bool:
        matched = self._step.match(str(record.msg))
        if matched:
            record.msg, record.args = f'{matched.group(1)}: <redacted>', ()
        return True


_STEP_TOKEN_REDACTION = _StepTokenRedaction()
for _logger in ('spnego._ntlm', 'spnego._negotiate', 'spnego._gss', 'spnego._sspi'):
    logging.getLogger(_logger).addFilter(_STEP_TOKEN_REDACTION)


def _client_credentials(config: SecurityConfig) -> AuthBase:
    return ClientCredentials(config, _secret(config))


def _client_certificate(config: SecurityConfig) -> ClientCertificate:
    return ClientCertificate(config.name, config.client_cert or '', _secret(config), config.key_password)


def _username_token(config: SecurityConfig) -> EnvelopeSecurity:
    _secret(config)
    return UsernameToken(config)


# Each type's applier is one of three kinds: an AuthBase for the HTTP request, a ClientCertificate
# for the TLS connection, or an EnvelopeSecurity for the SOAP envelope.
Applier = AuthBase | ClientCertificate | EnvelopeSecurity

APPLIERS: dict[str, Callable[[SecurityConfig], Applier]] = {
    'basic_auth': BasicAuth,
    'apikey': APIKeyAuth,
    'bearer': BearerAuth,
    'digest': _digest,
    'ntlm': _ntlm,
    'oauth2': _client_credentials,
    'mtls': _client_certificate,
    'wss': _username_token,
}

# Types whose security lives in the SOAP envelope, so only SOAP connections can use them.
ENVELOPE_TYPES = frozenset({'wss'})


def build_applier(config: SecurityConfig) -> Applier:
    return APPLIERS[config.sec_type](config)
