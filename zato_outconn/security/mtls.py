"""mTLS: a client certificate presented in every TLS handshake of the connection."""

from __future__ import annotations

from zato_outconn.config import SecurityConfig
from zato_outconn.security.plan import SecurityPlan, plans, require_secret
from zato_outconn.wire.tls import ClientCertificate


@plans.register('mtls')
def client_certificate(config: SecurityConfig) -> SecurityPlan:
    # The certificate lives in the TLS connection, so in the session's adapter, not in each request.
    return SecurityPlan(client_cert=ClientCertificate(config.name, config.client_cert or '', require_secret(config),
                                                      config.key_password))
