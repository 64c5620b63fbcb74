"""Security that answers the server's challenge: HTTP Digest and NTLM (through requests-ntlm)."""

from __future__ import annotations

import logging
import re

from requests.auth import HTTPDigestAuth

from zato_outconn.config import SecurityConfig
from zato_outconn.security.plan import SecurityPlan, plans, require_secret


@plans.register('digest')
def digest(config: SecurityConfig) -> SecurityPlan:
    return SecurityPlan(auth=HTTPDigestAuth(config.username or '', require_secret(config)))


@plans.register('ntlm')
def ntlm(config: SecurityConfig) -> SecurityPlan:
    # Imported here: requests-ntlm and pyspnego are loaded by processes that use NTLM only.
    from requests_ntlm import HttpNtlmAuth

    _redact_step_tokens()
    return SecurityPlan(auth=HttpNtlmAuth(config.username or '', require_secret(config)))


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


def _redact_step_tokens() -> None:
    # Before the first NTLM handshake; adding the same filter again changes nothing.
    for name in ('spnego._ntlm', 'spnego._negotiate', 'spnego._gss', 'spnego._sspi'):
        logging.getLogger(name).addFilter(_STEP_TOKEN_REDACTION)
