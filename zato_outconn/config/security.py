"""Security definitions: the typed model, the table of types, and the view people may see.

What each type is, as far as settings go, lives in ``SECURITY_TYPES``: the settings it uses,
their defaults, what its secret is called and where it applies. How a type is applied to a
request lives in ``zato_outconn.security``, one module per family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from pydantic import Field, model_validator

from zato_outconn.config.base import ConfigModel, Problems, checked
from zato_outconn.config.checks import (
    CONTROL,
    MAX_CHOICE_LENGTH,
    MAX_CLIENT_ID_LENGTH,
    MAX_KIND_LENGTH,
    MAX_NAME_LENGTH,
    MAX_URL_LENGTH,
    check_choice,
    check_header_name,
    check_int,
    check_line,
    check_name,
    check_url_text,
)
from zato_outconn.exceptions import ConfigError

# What a form, a list or an export shows in place of a secret that is set. It is never inside a
# validated config: given back as input, it means "keep the stored secret".
MASK = '******'


@dataclass(frozen=True)
class SecurityType:
    """What one security type is: its settings, their defaults, and what its secret is."""

    name: str
    # The settings it uses besides name, sec_type and secret; any other must stay unset.
    settings: frozenset[str]
    # What the secret is called in prompts and messages (and its --...-stdin flag).
    secret_name: str = 'password'
    defaults: dict[str, Any] = field(default_factory=dict)
    # Security that goes into SOAP envelopes, so only SOAP connections can use it.
    in_envelope: bool = False
    # The secret goes into a header as it is, so it must be Latin-1 text.
    header_secret: bool = False
    # The secret may span lines (a PEM key); others go into headers or forms, where they cannot.
    multiline_secret: bool = False


SECURITY_TYPES: dict[str, SecurityType] = {kind.name: kind for kind in (
    SecurityType('basic_auth', frozenset({'username'}), multiline_secret=True),
    SecurityType('apikey', frozenset({'header_name'}), 'key', {'header_name': 'X-API-Key'}, header_secret=True),
    SecurityType('bearer', frozenset(), 'token', header_secret=True),
    SecurityType('digest', frozenset({'username'})),
    SecurityType('ntlm', frozenset({'username'})),
    SecurityType('oauth2', frozenset({'token_url', 'client_id', 'scopes', 'audience', 'token_extra', 'client_auth'}),
                 'secret', {'client_auth': 'basic'}),
    SecurityType('mtls', frozenset({'client_cert', 'key_password'}), 'private key', multiline_secret=True),
    SecurityType('wss', frozenset({'username', 'password_type', 'timestamp_ttl'}), defaults={'password_type': 'text'},
                 in_envelope=True),
)}
SEC_TYPES = tuple(SECURITY_TYPES)
SecType = Literal['basic_auth', 'apikey', 'bearer', 'digest', 'ntlm', 'oauth2', 'mtls', 'wss']

# The types that use each setting, for the message that refuses it elsewhere.
_SETTING_USERS: dict[str, list[str]] = {
    setting: [kind.name for kind in SECURITY_TYPES.values() if setting in kind.settings]
    for setting in sorted(set().union(*(kind.settings for kind in SECURITY_TYPES.values())))
}
# Settings kept encrypted at rest. Of these, client_cert is no secret, only shown as its summary.
ENCRYPTED_SETTINGS = ('secret', 'key_password', 'client_cert')
SECRET_SETTINGS = ('secret', 'key_password')

_RESERVED_TOKEN_FIELDS = frozenset({'grant_type', 'client_id', 'client_secret', 'scope', 'audience'})


def _check_username(field_name: str, value: object) -> str:
    if not isinstance(value, str) or ':' in value or CONTROL.search(value):
        raise ConfigError(field_name, 'must not contain a colon or control characters')
    return value


def _check_text(field_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(field_name, 'must be text')
    try:
        value.encode('utf-8')
    except UnicodeEncodeError as error:
        # A lone surrogate (JSON's "\ud800", a bad decode) cannot be encrypted as UTF-8: where, never what.
        raise ConfigError(field_name, f'has a lone surrogate at position {error.start}, which UTF-8 cannot '
                                      'encode; fix the text') from None
    return value


def _check_scopes(field_name: str, value: object) -> str | None:
    if not isinstance(value, str) or CONTROL.search(value) or '"' in value:
        raise ConfigError(field_name, 'must be scope names separated by spaces')
    # One canonical spelling, so that the same scopes share one cached token.
    return ' '.join(value.replace(',', ' ').split()) or None


def _check_token_extra(field_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(field_name, 'must be form fields such as resource=api&tenant=acme')
    try:
        pairs = parse_qsl(value, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ConfigError(field_name, 'must be form fields such as resource=api&tenant=acme') from None
    reserved = _RESERVED_TOKEN_FIELDS & {key for key, _ in pairs}
    if reserved:
        raise ConfigError(field_name, f'must not set {", ".join(sorted(reserved))}; those come from their own settings')
    return value


def _check_client_cert(field_name: str, value: object) -> str:
    from cryptography import x509

    if not isinstance(value, str):
        raise ConfigError(field_name, 'must be text')
    try:
        x509.load_pem_x509_certificates(value.encode('ascii'))
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(field_name, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)') from None
    return value


def _check_private_key(pem: str, password: str | None, cert_pem: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem.encode('ascii'), password.encode('utf-8') if password else None)
    except TypeError:
        raise ConfigError('key_password', 'the private key is encrypted; give its password, or a wrong one '
                                          'was given for a key that has none') from None
    except (ValueError, UnicodeEncodeError):
        raise ConfigError('secret', 'must be the PEM private key of the client certificate; it cannot be read '
                                    '(or key_password is wrong)') from None
    certificate = x509.load_pem_x509_certificates(cert_pem.encode('ascii'))[0]
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    if key.public_key().public_bytes(encoding, public) != certificate.public_key().public_bytes(encoding, public):
        raise ConfigError('secret', 'the private key does not belong to client_cert')


def _optional(check: Any, *args: Any) -> Any:
    return checked(check, *args, nullable=True)


def _choice(*choices: str) -> Any:
    return checked(check_choice, choices, nullable=True)


class SecurityConfig(ConfigModel):
    """A security definition: how requests authenticate.

    ``secret`` is the password, key, token, client secret or private key, as the type needs (see
    ``SECURITY_TYPES``). Secrets never appear in ``repr`` and are kept encrypted at rest.
    """

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), checked(check_name)] = Field(
        description='Name of the definition, unique.')
    sec_type: Annotated[SecType, checked(check_choice, SEC_TYPES)] = Field(
        max_length=MAX_KIND_LENGTH, description=f'The type: {", ".join(SEC_TYPES)}.')
    username: Annotated[str | None, _optional(_check_username)] = Field(
        None, max_length=MAX_NAME_LENGTH, description='User name (basic_auth, digest, ntlm as DOMAIN\\user, wss).')
    header_name: Annotated[str | None, checked(check_header_name, nullable=True, optional=False)] = Field(
        None, max_length=MAX_NAME_LENGTH, description='Header that carries the key (apikey; default X-API-Key).')
    secret: Annotated[str | None, _optional(_check_text)] = Field(
        None, repr=False, description='The password, key, token, client secret or private key (write-only).')
    password_type: Annotated[Literal['text', 'digest'] | None, _choice('text', 'digest')] = Field(
        None, max_length=MAX_CHOICE_LENGTH, description='How wss sends the password: text (default) or digest.')
    timestamp_ttl: Annotated[Annotated[int, Field(ge=1, le=86400)] | None, _optional(check_int, 1, 86400)] = Field(
        None, description='Add a wsu:Timestamp that expires after this many seconds (wss).')
    token_url: Annotated[str | None, checked(check_url_text, nullable=True, allow_query=True)] = Field(
        None, max_length=MAX_URL_LENGTH, description='Token endpoint of the authorisation server (oauth2).')
    client_id: Annotated[str | None, _optional(check_line, 'is required for oauth2 and must be one line of text')] = \
        Field(None, max_length=MAX_CLIENT_ID_LENGTH, description='Client ID (oauth2).')
    scopes: Annotated[str | None, _optional(_check_scopes)] = Field(
        None, max_length=MAX_URL_LENGTH, description='Scopes to ask for, separated by spaces (oauth2).')
    audience: Annotated[str | None, _optional(check_line)] = Field(
        None, max_length=MAX_URL_LENGTH, description='Audience to ask for (oauth2).')
    token_extra: Annotated[str | None, _optional(_check_token_extra)] = Field(
        None, description='More form fields for the token request, as a=1&b=2 (oauth2).')
    client_auth: Annotated[Literal['basic', 'body'] | None, _choice('basic', 'body')] = Field(
        None, max_length=MAX_CHOICE_LENGTH,
        description='How the client authenticates: basic (default) or body (oauth2).')
    client_cert: Annotated[str | None, _optional(_check_client_cert)] = Field(
        None, repr=False, description='The client certificate in PEM (mtls).')
    key_password: Annotated[str | None, _optional(_check_text)] = Field(
        None, repr=False, description='The password of an encrypted private key (mtls; write-only).')

    @model_validator(mode='before')
    @classmethod
    def _type_defaults(cls, values: Any) -> Any:
        kind = SECURITY_TYPES.get(str(values.get('sec_type'))) if isinstance(values, dict) else None
        if kind is None or not kind.defaults:
            return values
        return {**values, **{key: default for key, default in kind.defaults.items() if values.get(key) is None}}

    @model_validator(mode='after')
    def _check_type(self) -> SecurityConfig:
        kind = SECURITY_TYPES[self.sec_type]
        problems = Problems()
        for setting, users in _SETTING_USERS.items():
            if setting not in kind.settings and getattr(self, setting) is not None:
                problems.add(setting, f'is used by {" and ".join(users)} only, not by {self.sec_type}')
        if 'username' in kind.settings and not self.username:
            problems.add('username', f'is required for {self.sec_type}')
        if 'header_name' in kind.settings and not self.header_name:
            problems.add('header_name', 'must be an HTTP header name (letters, digits and -); got None')
        if self.sec_type == 'oauth2':
            if self.token_url is None:
                problems.add('token_url', 'is required for oauth2: the token endpoint of the authorisation server')
            if not self.client_id:
                problems.add('client_id', 'is required for oauth2 and must be one line of text')
        secret = self.secret
        if secret is not None and not kind.multiline_secret and CONTROL.search(secret):
            problems.add('secret', 'must not contain control characters or line breaks')
        elif secret is not None and kind.header_secret:
            try:
                secret.encode('latin-1')
            except UnicodeEncodeError:
                problems.add('secret', f'of {self.sec_type} goes into an HTTP header as it is, so it must be ASCII '
                                       'or Latin-1 text')
        if self.sec_type == 'mtls':
            if not self.client_cert:
                problems.add('client_cert', 'is required for mtls: the client certificate in PEM')
            elif secret:
                problems.check(_check_private_key, secret, self.key_password, self.client_cert)
        problems.raise_any()
        return self

    @property
    def kind(self) -> SecurityType:
        return SECURITY_TYPES[self.sec_type]

    def view(self) -> SecurityView:
        return SecurityView.of(dict(self), set_secrets={name for name in SECRET_SETTINGS if getattr(self, name)})

    def public(self) -> dict[str, Any]:
        """Everything a form shows: secrets as the mask or None, the certificate as its summary."""
        return self.view().form()


# The settings a view shows as they are: all but the encrypted ones.
PUBLIC_SETTINGS = tuple(name for name in SecurityConfig.model_fields if name not in ENCRYPTED_SETTINGS)


@dataclass(frozen=True)
class SecurityView:
    """A security definition as people may see it: no secret, only whether each one is set.

    ``secret_set`` and ``key_password_set`` are the one record of a secret; ``secret`` and
    ``key_password`` render it for forms (the mask, or None).
    """

    name: str
    sec_type: str
    username: str | None = None
    header_name: str | None = None
    password_type: str | None = None
    timestamp_ttl: int | None = None
    token_url: str | None = None
    client_id: str | None = None
    scopes: str | None = None
    audience: str | None = None
    token_extra: str | None = None
    client_auth: str | None = None
    # The certificate's subject and expiry, not the PEM; None when there is none or it cannot be read.
    client_cert: str | None = None
    secret_set: bool = False
    key_password_set: bool = False

    @classmethod
    def of(cls, settings: dict[str, Any], *, set_secrets: set[str],
           certificate_summary: str | None = None) -> SecurityView:
        summary = certificate_summary
        if summary is None and settings.get('client_cert'):
            summary = describe_certificate(settings['client_cert'])
        public: dict[str, Any] = {name: settings.get(name) for name in PUBLIC_SETTINGS}
        return cls(**public, client_cert=summary, secret_set='secret' in set_secrets,
                   key_password_set='key_password' in set_secrets)

    @property
    def kind(self) -> SecurityType:
        return SECURITY_TYPES[self.sec_type]

    @property
    def secret(self) -> str | None:
        return MASK if self.secret_set else None

    @property
    def key_password(self) -> str | None:
        return MASK if self.key_password_set else None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: every setting but the secrets, which say only whether they are set."""
        return {**{name: getattr(self, name) for name in PUBLIC_SETTINGS}, 'client_cert': self.client_cert,
                'secret_set': self.secret_set, 'key_password_set': self.key_password_set}

    def form(self) -> dict[str, Any]:
        """Every setting as a form shows it: the secrets as the mask or None."""
        return {**{name: getattr(self, name) for name in PUBLIC_SETTINGS}, 'secret': self.secret,
                'client_cert': self.client_cert, 'key_password': self.key_password}


def describe_certificate(pem: str) -> str:
    """Subject and expiry of the first certificate in PEM text, for people to read."""
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificates(pem.encode('ascii'))[0]
    except (ValueError, UnicodeEncodeError):
        return 'not a readable certificate'
    expires = certificate.not_valid_after_utc
    days = (expires - datetime.now(timezone.utc)).days
    when = f'expired {-days} days ago' if days < 0 else f'in {days} days'
    return f'{certificate.subject.rfc4514_string()}, expires {expires.isoformat()} ({when})'
