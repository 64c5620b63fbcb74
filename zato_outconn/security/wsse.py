"""WS-Security UsernameToken (OASIS Username Token Profile 1.0), added to SOAP envelopes.

PasswordDigest is Base64(SHA-1(nonce + created + password)) with a fresh 16-byte nonce and the
UTC creation time of each request; PasswordText sends the password itself (use it over TLS).
Both carry the nonce and created time, so that a server can refuse replays and stale messages.
"""

from __future__ import annotations

import hashlib
import os
from base64 import b64encode
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from zato_outconn.config import SecurityConfig
from zato_outconn.security.plan import SecurityPlan, plans, require_secret

if TYPE_CHECKING:
    from lxml import etree

WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'
WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'
_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
PASSWORD_TEXT = f'{_PROFILE}#PasswordText'
PASSWORD_DIGEST = f'{_PROFILE}#PasswordDigest'
BASE64_BINARY = ('http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0'
                 '#Base64Binary')

# mustUnderstand is a boolean whose lexical form the SOAP versions write differently.
_MUST_UNDERSTAND = {'1.1': '1', '1.2': 'true'}


def wsu_time(moment: datetime) -> str:
    """UTC in the form WS-Security uses: 2026-11-21T07:20:01.123Z."""
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + f'{moment.microsecond // 1000:03d}Z'


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return b64encode(hashlib.sha1(nonce + created.encode('utf-8') + password.encode('utf-8')).digest()).decode()


class UsernameToken:
    """Adds a wsse:Security header with a UsernameToken (and a wsu:Timestamp if configured)."""

    def __init__(self, config: SecurityConfig, *, clock: Callable[[], datetime] | None = None,
                 nonce: Callable[[], bytes] | None = None) -> None:
        self.definition = config.name
        self.username = config.username or ''
        self._password = config.secret or ''
        self.digest = config.password_type == 'digest'
        self.timestamp_ttl = config.timestamp_ttl
        # Seams for tests that freeze time and nonces; real use takes the clock and os.urandom.
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._nonce = nonce or (lambda: os.urandom(16))

    def __repr__(self) -> str:
        return f'<UsernameToken {self.definition!r} user={self.username!r} digest={self.digest}>'

    def apply(self, envelope: etree._Element, version: str) -> None:
        # Imported here: lxml is loaded by processes that call SOAP connections only.
        from lxml import etree

        from zato_outconn.soap.envelope import header_of

        soap_namespace = etree.QName(envelope).namespace
        now = self._clock()
        created = wsu_time(now)
        nonce = self._nonce()

        security = etree.SubElement(header_of(envelope), f'{{{WSSE}}}Security', nsmap={'wsse': WSSE, 'wsu': WSU})
        security.set(f'{{{soap_namespace}}}mustUnderstand', _MUST_UNDERSTAND[version])
        if self.timestamp_ttl:
            timestamp = etree.SubElement(security, f'{{{WSU}}}Timestamp')
            etree.SubElement(timestamp, f'{{{WSU}}}Created').text = created
            etree.SubElement(timestamp, f'{{{WSU}}}Expires').text = wsu_time(
                now + timedelta(seconds=self.timestamp_ttl))

        token = etree.SubElement(security, f'{{{WSSE}}}UsernameToken')
        etree.SubElement(token, f'{{{WSSE}}}Username').text = self.username
        password = etree.SubElement(token, f'{{{WSSE}}}Password')
        if self.digest:
            password.set('Type', PASSWORD_DIGEST)
            password.text = password_digest(nonce, created, self._password)
        else:
            password.set('Type', PASSWORD_TEXT)
            password.text = self._password
        nonce_element = etree.SubElement(token, f'{{{WSSE}}}Nonce')
        nonce_element.set('EncodingType', BASE64_BINARY)
        nonce_element.text = b64encode(nonce).decode()
        etree.SubElement(token, f'{{{WSU}}}Created').text = created


@plans.register('wss')
def username_token(config: SecurityConfig) -> SecurityPlan:
    require_secret(config)
    return SecurityPlan(envelope=UsernameToken(config))
