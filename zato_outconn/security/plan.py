"""A security plan: how one definition applies to a connection, whatever its type.

Each type registers one builder (``@plans.register('basic_auth')``) that turns a definition into
a ``SecurityPlan``. The connection asks the plan and never the type: per-request auth goes on
every request, a client certificate into the session's adapter, envelope security into SOAP
envelopes, and a token flow is handed the connection's way of sending its token requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import requests
from requests.auth import AuthBase

from zato_outconn.config import MASK, SecurityConfig
from zato_outconn.exceptions import SecretsError
from zato_outconn.wire.call import Call
from zato_outconn.wire.tls import ClientCertificate

if TYPE_CHECKING:
    from lxml import etree


class EnvelopeSecurity(Protocol):
    """Security applied inside a SOAP envelope rather than to the HTTP request."""

    def apply(self, envelope: etree._Element, version: str) -> None: ...


# How a token flow sends its own requests: through the connection's session and the one send.
TokenSender = Callable[[requests.PreparedRequest, Call], requests.Response]


class TokenFlow(Protocol):
    """Per-request auth that fetches tokens of its own, through the connection that uses it."""

    def bind(self, send: TokenSender) -> None: ...

    # A 401 answered ``request``: True when it carried a token of the flow, dropped now, so that
    # the connection makes the attempt once more with a new one.
    def refused(self, request: requests.PreparedRequest) -> bool: ...


@dataclass(frozen=True)
class SecurityPlan:
    """What a connection does with its security definition; every part is optional."""

    # Applied to every request (header schemes, challenge schemes, bearer tokens).
    auth: AuthBase | None = None
    # Presented in every TLS handshake, so it lives in the session's adapter.
    client_cert: ClientCertificate | None = None
    # Added to every SOAP envelope.
    envelope: EnvelopeSecurity | None = None
    # Told how to send token requests once the session is open.
    token_flow: TokenFlow | None = None
    # Headers that carry credentials, removed on a redirect to another host (Authorization always is).
    credential_headers: frozenset[str] = frozenset()


PlanBuilder = Callable[[SecurityConfig], SecurityPlan]


class PlanRegistry:
    """Security type -> the builder of its plan."""

    def __init__(self) -> None:
        self._builders: dict[str, PlanBuilder] = {}

    def register(self, sec_type: str) -> Callable[[PlanBuilder], PlanBuilder]:
        def add(builder: PlanBuilder) -> PlanBuilder:
            self._builders[sec_type] = builder
            return builder

        return add

    def types(self) -> frozenset[str]:
        return frozenset(self._builders)

    def build(self, config: SecurityConfig) -> SecurityPlan:
        return self._builders[config.sec_type](config)


plans = PlanRegistry()


def require_secret(config: SecurityConfig) -> str:
    """The definition's secret; a missing one fails loudly instead of going out as an empty password.

    A secret that is the mask stands for one that was never given (a definition imported from an
    export, say): it fails the same way.
    """
    if not config.secret or config.secret == MASK:
        raise SecretsError(f'Security definition {config.name!r} has no secret set; '
                           f'run: zato-outconn security set-password {config.name!r}')
    return config.secret
