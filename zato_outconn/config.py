"""Typed templates for outgoing connections and security definitions.

These frozen dataclasses are the one place that owns every setting's default and validation rule.
The store, the CLI, the registry (and later the admin and import/export) build them and nothing
else; constructing one validates it, so an invalid template cannot exist in memory.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from zato_outconn.exceptions import ConfigError
from zato_outconn.url_template import PathTemplate, TemplateError

TRANSPORTS = ('plain_http', 'soap')
SOAP_VERSIONS = ('1.1', '1.2')
HTTP_METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')
DATA_FORMATS = ('json', 'form', 'none')
SEC_TYPES = ('basic_auth', 'apikey', 'bearer', 'digest', 'ntlm', 'oauth2', 'mtls', 'wss')

# The settings each security type uses besides name, sec_type and secret; others must stay unset.
# What ``secret`` holds per type: the password (basic_auth, digest, ntlm, wss), the key (apikey),
# the token (bearer), the client secret (oauth2) or the client's private key in PEM (mtls).
_SEC_TYPE_SETTINGS: dict[str, frozenset[str]] = {
    'basic_auth': frozenset({'username'}),
    'apikey': frozenset({'header_name'}),
    'bearer': frozenset(),
    'digest': frozenset({'username'}),
    'ntlm': frozenset({'username'}),
    'oauth2': frozenset({'token_url', 'client_id', 'scopes', 'audience', 'token_extra', 'client_auth'}),
    'mtls': frozenset({'client_cert', 'key_password'}),
    'wss': frozenset({'username', 'password_type', 'timestamp_ttl'}),
}
_SEC_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    'apikey': {'header_name': 'X-API-Key'},
    'oauth2': {'client_auth': 'basic'},
    'wss': {'password_type': 'text'},
}
_SETTING_USERS: dict[str, list[str]] = {
    setting: [sec_type for sec_type, used in _SEC_TYPE_SETTINGS.items() if setting in used]
    for setting in sorted(set().union(*_SEC_TYPE_SETTINGS.values()))
}
# Settings kept encrypted at rest. Of these, client_cert is no secret, only shown as its summary.
ENCRYPTED_SETTINGS = ('secret', 'key_password', 'client_cert')
SECRET_SETTINGS = ('secret', 'key_password')

DEFAULT_TIMEOUT = 10.0
MAX_NAME_LENGTH = 200
MASK = '******'

# RFC 9110 token characters: what a header name may be made of.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_MEDIA_TYPE = re.compile(r'^[!#$%&\'*+\-.^_`|~0-9A-Za-z]+/[!#$%&\'*+\-.^_`|~0-9A-Za-z]+(\s*;.*)?$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')

Template = TypeVar('Template', bound='_Template')


def _check_name(value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError('name', 'is required')
    if value != value.strip():
        raise ConfigError('name', 'must not start or end with whitespace')
    if len(value) > MAX_NAME_LENGTH:
        raise ConfigError('name', f'must be at most {MAX_NAME_LENGTH} characters long')
    if _CONTROL.search(value):
        raise ConfigError('name', 'must not contain control characters')


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(name, f'must be one of {", ".join(choices)}; got {value!r}')


def _check_header_name(name: str, value: object, *, optional: bool) -> None:
    if optional and value == '':
        return
    # fullmatch: with match, '$' would also let a trailing line break through.
    if not isinstance(value, str) or not _HEADER_NAME.fullmatch(value):
        raise ConfigError(name, f'must be an HTTP header name (letters, digits and -); got {value!r}')


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, f'must be true or false; got {value!r}')


def _check_url(name: str, value: object, *, allow_query: bool = False) -> SplitResult:
    """An http(s) URL with a host and no credentials; the one check of every URL setting.

    A URL is repeated in a message only if it cannot hold a password: any '@' in it (however the
    rest is mangled) keeps it out of every message.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(name, 'is required')
    shown = repr(value) if '@' not in value else 'a URL with an @ in it (not shown)'
    if _CONTROL.search(value) or ' ' in value:
        raise ConfigError(name, 'must not contain spaces or control characters')
    parts = urlsplit(value)
    if '@' in value.split('?', 1)[0].split('#', 1)[0]:
        raise ConfigError(name, 'must not contain a username or password; use a security definition')
    if parts.scheme not in ('http', 'https'):
        raise ConfigError(name, f'must be a URL starting with http:// or https://; got {shown}')
    if not parts.hostname:
        raise ConfigError(name, f'must name a host, as in https://example.com:8080; got {shown}')
    try:
        _ = parts.port  # reading it validates it
    except ValueError:
        raise ConfigError(name, f'has an invalid port; got {shown}') from None
    if parts.fragment or (parts.query and not allow_query):
        raise ConfigError(name, 'must not contain a query string or fragment' if not allow_query
                          else 'must not contain a fragment (#)')
    return parts


@dataclass(frozen=True)
class _Template:
    """Shared behaviour: build from loose input, such as CLI options or form fields."""

    # Fields whose input may arrive as text and must be coerced, by the type they hold.
    _floats: ClassVar[tuple[str, ...]] = ()
    _ints: ClassVar[tuple[str, ...]] = ()
    _bools: ClassVar[tuple[str, ...]] = ()
    _optional: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    @classmethod
    def from_input(cls: type[Template], raw: Mapping[str, Any]) -> Template:
        """Build from loose input: text is coerced to each field's type, unknown fields refused."""
        known = set(cls.field_names())
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(unknown[0], f'is not a setting; known settings are {", ".join(sorted(known))}')
        for item in fields(cls):
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING \
                    and item.name not in raw:
                raise ConfigError(item.name, 'is required')
        return cls(**{key: cls._coerce(key, value) for key, value in raw.items()})

    def with_changes(self: Template, changes: Mapping[str, Any]) -> Template:
        """A validated copy with these changes applied (loose input, as in ``from_input``)."""
        merged = {item.name: getattr(self, item.name) for item in fields(self)}
        merged.update(changes)
        return type(self).from_input(merged)

    @classmethod
    def _coerce(cls, key: str, value: Any) -> Any:
        if key in cls._optional and (value is None or value == ''):
            return None
        if not isinstance(value, str):
            return value
        text = value.strip()
        if key in cls._floats:
            try:
                return float(text)
            except ValueError:
                raise ConfigError(key, f'must be a number of seconds; got {value!r}') from None
        if key in cls._ints:
            try:
                return int(text)
            except ValueError:
                raise ConfigError(key, f'must be a whole number; got {value!r}') from None
        if key in cls._bools:
            lowered = text.lower()
            if lowered in ('true', 'yes', 'on', '1'):
                return True
            if lowered in ('false', 'no', 'off', '0'):
                return False
            raise ConfigError(key, f'must be true or false; got {value!r}')
        return value


@dataclass(frozen=True)
class OutconnConfig(_Template):
    """The template of one outgoing connection (plain HTTP or SOAP)."""

    name: str
    host: str
    transport: str = 'plain_http'
    url_path: str = '/'
    security: str | None = None
    is_active: bool = True
    connect_timeout: float = DEFAULT_TIMEOUT
    read_timeout: float = DEFAULT_TIMEOUT
    pool_size: int = 20
    ping_method: str = 'HEAD'
    data_format: str = 'json'
    content_type: str | None = None
    validate_tls: bool = True
    ca_bundle: str | None = field(default=None, repr=False)
    proxy: str | None = None
    follow_redirects: bool = False
    max_redirects: int = 10
    # The X-Zato headers can be renamed per connection; an empty name switches that header off.
    cid_header: str = 'X-Zato-CID'
    component_header: str = 'X-Zato-Component'
    msg_ts_header: str = 'X-Zato-Msg-TS'
    # SOAP only. wsdl is a URL or the WSDL document itself, kept in the database.
    soap_version: str = '1.1'
    soap_action: str | None = None
    wsdl: str | None = field(default=None, repr=False)
    wsdl_service: str | None = None
    wsdl_port: str | None = None

    _floats = ('connect_timeout', 'read_timeout')
    _ints = ('pool_size', 'max_redirects')
    _bools = ('is_active', 'validate_tls', 'follow_redirects')
    _optional = ('security', 'content_type', 'ca_bundle', 'proxy', 'soap_action', 'wsdl', 'wsdl_service',
                 'wsdl_port')
    _soap_only = ('soap_action', 'wsdl', 'wsdl_service', 'wsdl_port')

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_choice('transport', self.transport, TRANSPORTS)
        host = _check_url('host', self.host)
        if host.path not in ('', '/'):
            raise ConfigError('host', f'must not contain a path; put {host.path!r} in url_path instead')
        # Normalise so that host + url_path never doubles or drops a slash.
        object.__setattr__(self, 'host', urlunsplit((host.scheme, host.netloc, '', '', '')))

        if not isinstance(self.url_path, str):
            raise ConfigError('url_path', 'must be text')
        try:
            PathTemplate.parse(self.url_path)
        except TemplateError as error:
            raise ConfigError('url_path', str(error)) from None

        if self.security is not None:
            _check_name_field('security', self.security)
        for name in self._bools:
            _check_bool(name, getattr(self, name))
        for name in self._floats:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or value <= 0:
                raise ConfigError(name, f'must be a positive number of seconds; got {value!r}')
            object.__setattr__(self, name, float(value))
        _check_int('pool_size', self.pool_size, 1, 1000)
        _check_int('max_redirects', self.max_redirects, 1, 100)

        if isinstance(self.ping_method, str):
            object.__setattr__(self, 'ping_method', self.ping_method.upper())
        _check_choice('ping_method', self.ping_method, HTTP_METHODS)
        _check_choice('data_format', self.data_format, DATA_FORMATS)

        if self.content_type is not None and (
                not isinstance(self.content_type, str) or not _MEDIA_TYPE.match(self.content_type)
                or _CONTROL.search(self.content_type)):
            raise ConfigError('content_type', f'must be a media type such as application/xml; '
                                              f'got {self.content_type!r}')
        if self.ca_bundle is not None:
            _check_ca_bundle(self.ca_bundle)
        if self.proxy is not None:
            _check_url('proxy', self.proxy)
        for name in ('cid_header', 'component_header', 'msg_ts_header'):
            _check_header_name(name, getattr(self, name), optional=True)
        self._check_soap()

    def _check_soap(self) -> None:
        _check_choice('soap_version', self.soap_version, SOAP_VERSIONS)
        if self.transport != 'soap':
            for name in self._soap_only:
                if getattr(self, name) is not None:
                    raise ConfigError(name, 'is used by soap connections only')
            if self.soap_version != SOAP_VERSIONS[0]:
                raise ConfigError('soap_version', 'is used by soap connections only')
            return
        if self.soap_action is not None and (
                not isinstance(self.soap_action, str) or '"' in self.soap_action
                or _CONTROL.search(self.soap_action)):
            raise ConfigError('soap_action', f'must be text without quotes or control characters; '
                                             f'got {self.soap_action!r}')
        if self.wsdl is not None:
            _check_wsdl(self.wsdl)
        for name in ('wsdl_service', 'wsdl_port'):
            value = getattr(self, name)
            if value is not None:
                if self.wsdl is None:
                    raise ConfigError(name, 'needs a wsdl to pick from; set wsdl too')
                _check_name_field(name, value)

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` as requests takes it."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def address(self) -> str:
        return self.host + self.url_path


@dataclass(frozen=True)
class SecurityConfig(_Template):
    """A security definition: how requests authenticate.

    ``secret`` is the password, key, token, client secret or private key, as the type needs (see
    ``_SEC_TYPE_SETTINGS``). Secrets never appear in ``repr`` and are kept encrypted at rest.
    """

    name: str
    sec_type: str
    username: str | None = None
    header_name: str | None = None
    secret: str | None = field(default=None, repr=False)
    password_type: str | None = None
    timestamp_ttl: int | None = None
    token_url: str | None = None
    client_id: str | None = None
    scopes: str | None = None
    audience: str | None = None
    token_extra: str | None = None
    client_auth: str | None = None
    client_cert: str | None = field(default=None, repr=False)
    key_password: str | None = field(default=None, repr=False)

    _ints = ('timestamp_ttl',)
    _optional = ('username', 'header_name', 'secret', 'password_type', 'timestamp_ttl', 'token_url', 'client_id',
                 'scopes', 'audience', 'token_extra', 'client_auth', 'client_cert', 'key_password')

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_choice('sec_type', self.sec_type, SEC_TYPES)
        used = _SEC_TYPE_SETTINGS[self.sec_type]
        for setting, users in _SETTING_USERS.items():
            if setting not in used and getattr(self, setting) is not None:
                raise ConfigError(setting, f'is used by {" and ".join(users)} only, not by {self.sec_type}')
        for setting, default in _SEC_TYPE_DEFAULTS.get(self.sec_type, {}).items():
            if getattr(self, setting) is None:
                object.__setattr__(self, setting, default)

        if 'username' in used:
            if not self.username or not isinstance(self.username, str):
                raise ConfigError('username', f'is required for {self.sec_type}')
            if ':' in self.username or _CONTROL.search(self.username):
                raise ConfigError('username', 'must not contain a colon or control characters')
        if 'header_name' in used:
            _check_header_name('header_name', self.header_name, optional=False)
        if 'password_type' in used:
            _check_choice('password_type', self.password_type, ('text', 'digest'))
        if self.timestamp_ttl is not None:
            _check_int('timestamp_ttl', self.timestamp_ttl, 1, 86400)
        if self.sec_type == 'oauth2':
            self._check_oauth2()
        for name in ENCRYPTED_SETTINGS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(name, 'must be text')
        # A PEM key spans lines; every other secret goes into a header or a form, where they cannot.
        if self.secret is not None and self.sec_type not in ('basic_auth', 'mtls') and _CONTROL.search(self.secret):
            raise ConfigError('secret', 'must not contain control characters or line breaks')
        # An API key or token goes into a header as it is, and header values are Latin-1.
        if self.secret is not None and self.sec_type in ('apikey', 'bearer'):
            try:
                self.secret.encode('latin-1')
            except UnicodeEncodeError:
                raise ConfigError('secret', f'of {self.sec_type} goes into an HTTP header as it is, so it must '
                                            'be ASCII or Latin-1 text') from None
        if self.sec_type == 'mtls':
            self._check_mtls()

    def _check_oauth2(self) -> None:
        if self.token_url is None:
            raise ConfigError('token_url', 'is required for oauth2: the token endpoint of the authorisation server')
        _check_url('token_url', self.token_url, allow_query=True)
        if not self.client_id or not isinstance(self.client_id, str) or _CONTROL.search(self.client_id):
            raise ConfigError('client_id', 'is required for oauth2 and must be one line of text')
        if self.scopes is not None:
            if not isinstance(self.scopes, str) or _CONTROL.search(self.scopes) or '"' in self.scopes:
                raise ConfigError('scopes', 'must be scope names separated by spaces')
            # One canonical spelling, so that the same scopes share one cached token.
            object.__setattr__(self, 'scopes', ' '.join(self.scopes.replace(',', ' ').split()) or None)
        if self.audience is not None and (not isinstance(self.audience, str) or _CONTROL.search(self.audience)):
            raise ConfigError('audience', 'must be one line of text')
        if self.token_extra is not None:
            try:
                pairs = parse_qsl(self.token_extra, keep_blank_values=True, strict_parsing=True)
            except (ValueError, TypeError):
                raise ConfigError('token_extra', 'must be form fields such as resource=api&tenant=acme') from None
            reserved = {'grant_type', 'client_id', 'client_secret', 'scope', 'audience'} & {key for key, _ in pairs}
            if reserved:
                raise ConfigError('token_extra', f'must not set {", ".join(sorted(reserved))}; '
                                                 'those come from their own settings')
        _check_choice('client_auth', self.client_auth, ('basic', 'body'))

    def _check_mtls(self) -> None:
        if not self.client_cert:
            raise ConfigError('client_cert', 'is required for mtls: the client certificate in PEM')
        # A masked value stands for a stored one that is not being shown, and so not checked here.
        if self.client_cert != MASK:
            _check_client_cert(self.client_cert)
            if self.secret and self.secret != MASK:
                _check_private_key(self.secret, self.key_password, self.client_cert)

    def public(self) -> dict[str, Any]:
        """Everything but the secrets, which show only as set or not, and the certificate as a summary."""
        values = dataclasses.asdict(self)
        for name in SECRET_SETTINGS:
            values[name] = MASK if getattr(self, name) else None
        if self.client_cert:
            values['client_cert'] = describe_certificate(self.client_cert)
        return values


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


def _check_client_cert(pem: str) -> None:
    from cryptography import x509

    try:
        x509.load_pem_x509_certificates(pem.encode('ascii'))
    except (ValueError, UnicodeEncodeError):
        raise ConfigError('client_cert', 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)') from None


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


def _check_name_field(name: str, value: object) -> None:
    try:
        _check_name(value)
    except ConfigError as error:
        raise ConfigError(name, error.rule) from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(name, f'must be a whole number from {low} to {high}; got {value!r}')


def _check_ca_bundle(value: object) -> None:
    from cryptography import x509

    if not isinstance(value, str) or '-----BEGIN CERTIFICATE-----' not in value:
        raise ConfigError('ca_bundle', 'must be PEM text with one or more certificates '
                                       '(-----BEGIN CERTIFICATE-----)')
    try:
        x509.load_pem_x509_certificates(value.encode('ascii'))
    except (ValueError, UnicodeEncodeError) as error:
        raise ConfigError('ca_bundle', f'is not valid PEM certificate text ({error})') from None



WSDL_NAMESPACE = 'http://schemas.xmlsoap.org/wsdl/'


def _check_wsdl(value: object) -> None:
    """A WSDL is either an http(s) URL, or a WSDL 1.1 document given as text."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError('wsdl', 'must be an http(s) URL or the WSDL document itself')
    if not value.lstrip().startswith('<'):
        # Not a document, so a URL; the connection's security definition applies to its download.
        _check_url('wsdl', value, allow_query=True)
        return

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(value.encode('utf-8'), parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ConfigError('wsdl', f'is not well-formed XML ({error})') from None
    if root.tag != f'{{{WSDL_NAMESPACE}}}definitions':
        raise ConfigError('wsdl', f'must be a WSDL 1.1 document (a {{{WSDL_NAMESPACE}}}definitions root); '
                                  f'got {root.tag}')
