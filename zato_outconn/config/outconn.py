"""The template of one outgoing connection, plain HTTP or SOAP."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlunsplit

from pydantic import Field, model_validator

from zato_outconn.config.base import ConfigModel, Problems, checked
from zato_outconn.config.checks import (
    CONTROL,
    MAX_CHOICE_LENGTH,
    MAX_KIND_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SECONDS,
    MAX_URL_LENGTH,
    check_bool,
    check_ca_bundle,
    check_choice,
    check_header_name,
    check_int,
    check_media_type,
    check_name,
    check_seconds,
    check_soap_action,
    check_url,
    check_url_text,
    check_wsdl,
)
from zato_outconn.config.path_template import PathTemplate, TemplateError
from zato_outconn.exceptions import ConfigError

TRANSPORTS = ('plain_http', 'soap')
SOAP_VERSIONS = ('1.1', '1.2')
HTTP_METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')
DATA_FORMATS = ('json', 'form', 'none')

DEFAULT_TIMEOUT = 10.0
# A call's whole time, unless total_timeout says otherwise: this many times its connect and read
# timeouts together, so that a body trickled a byte at a time still ends.
TOTAL_TIMEOUT_FACTOR = 3
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
MAX_RESPONSE_SIZE_LIMIT = 2 ** 40
# The one column shorter than the kinds of choice: '1.1' or '1.2'.
MAX_SOAP_VERSION_LENGTH = 8
MAX_RETRIES = 100
MAX_BREAKER_THRESHOLD = 10_000
MAX_RATE_LIMIT = 1_000_000
DEFAULT_RETRY_ON_STATUS = '429,502,503,504'
# The idempotent methods: sending one of them twice does what sending it once does.
DEFAULT_RETRY_METHODS = 'GET,HEAD,PUT,DELETE,OPTIONS'
SOAP_ONLY = ('soap_action', 'wsdl', 'wsdl_service', 'wsdl_port')

Transport = Literal['plain_http', 'soap']
HTTPMethod = Literal['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
DataFormat = Literal['json', 'form', 'none']
SOAPVersion = Literal['1.1', '1.2']


def _check_host(field: str, value: object) -> str:
    host = check_url(field, value)
    if host.path not in ('', '/'):
        raise ConfigError(field, f'must not contain a path; put {host.path!r} in url_path instead')
    # Normalised, so that host + url_path never doubles or drops a slash.
    return urlunsplit((host.scheme, host.netloc, '', '', ''))


def _check_url_path(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(field, 'must be text')
    control = CONTROL.search(value)
    if control is not None:
        # Sent percent-encoded, but shown raw wherever the template is listed: almost surely a slip.
        raise ConfigError(field, f'must not contain control characters (a line break, a tab); got {control.group()!r} '
                                 f'at position {control.start()}: percent-encode it ({quote(control.group())}) if the '
                                 'server needs it')
    try:
        PathTemplate.parse(value)
    except TemplateError as error:
        raise ConfigError(field, str(error)) from None
    return value


def _check_method(field: str, value: object) -> str:
    return check_choice(field, value.upper() if isinstance(value, str) else value, HTTP_METHODS)


def _check_statuses(field: str, value: object) -> str:
    """HTTP status codes separated by commas or spaces, kept as one canonical text: 429,502,503,504."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif isinstance(value, list | tuple | set | frozenset):
        value = ','.join(str(item) for item in value)
    if not isinstance(value, str):
        raise ConfigError(field, f'must be HTTP status codes separated by commas, e.g. 429,503; got {value!r}')
    codes = set()
    for item in value.replace(',', ' ').split():
        # Only errors: retrying a success or a redirect would repeat what the server has done already.
        if not (item.isascii() and item.isdigit()) or not 400 <= int(item) <= 599:
            raise ConfigError(field, f'must be HTTP error status codes (400-599) separated by commas, e.g. 429,503; '
                                     f'got {item!r}')
        codes.add(int(item))
    return ','.join(str(code) for code in sorted(codes))


def _check_methods(field: str, value: object) -> str:
    """HTTP methods separated by commas or spaces, kept in one canonical order: GET,HEAD,PUT..."""
    if isinstance(value, list | tuple | set | frozenset):
        value = ','.join(str(item) for item in value)
    if not isinstance(value, str):
        raise ConfigError(field, f'must be HTTP methods separated by commas, e.g. GET,PUT; got {value!r}')
    methods = {item.upper() for item in value.replace(',', ' ').split()}
    unknown = sorted(methods - set(HTTP_METHODS))
    if unknown:
        raise ConfigError(field, f'must be HTTP methods from {", ".join(HTTP_METHODS)} separated by commas; '
                                 f'got {unknown[0]!r}')
    return ','.join(method for method in HTTP_METHODS if method in methods)


def _check_wait(field: str, value: object) -> float:
    """Seconds that may also be 0 (no wait)."""
    if value == 0 and not isinstance(value, bool):
        return 0.0
    return check_seconds(field, value)


def _choice(choices: tuple[str, ...]) -> Any:
    return checked(check_choice, choices)


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), checked(check_name)]
OptionalName = Annotated[Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)] | None,
                         checked(check_name, nullable=True)]
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False), checked(check_seconds)]
Switch = Annotated[bool, checked(check_bool)]
Wait = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False), checked(_check_wait)]


def _header(optional: bool) -> Any:
    return checked(check_header_name, optional=optional)


class OutconnConfig(ConfigModel):
    """The template of one outgoing connection (plain HTTP or SOAP)."""

    name: Name = Field(description='Name of the connection, unique per transport.')
    host: Annotated[str, checked(_check_host)] = Field(
        max_length=MAX_URL_LENGTH,
        description='Base URL: scheme, host and port, no path (http://crm.example.com:8080).')
    transport: Annotated[Transport, _choice(TRANSPORTS)] = Field(
        'plain_http', max_length=MAX_KIND_LENGTH, description='plain_http or soap.')
    url_path: Annotated[str, checked(_check_url_path)] = Field(
        '/', max_length=MAX_URL_LENGTH,
        description='Path with {placeholders} filled from params, e.g. /customers/{cust_id}.')
    security: OptionalName = Field(
        None, max_length=MAX_NAME_LENGTH, description='Name of the security definition to use.')
    is_active: Switch = Field(True, description='Whether the connection may be called.')
    connect_timeout: Seconds = Field(DEFAULT_TIMEOUT, description='Seconds to wait for a connection.')
    read_timeout: Seconds = Field(DEFAULT_TIMEOUT, description='Seconds to wait for an answer.')
    total_timeout: Annotated[Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)] | None,
                             checked(check_seconds, nullable=True)] = Field(
        None, description='Seconds a whole call may take, from connecting to the last byte of a prefetched body; '
                          f'unset, {TOTAL_TIMEOUT_FACTOR} times the connect and read timeouts together.')
    max_response_size: Annotated[int, Field(ge=1, le=MAX_RESPONSE_SIZE_LIMIT),
                                 checked(check_int, 1, MAX_RESPONSE_SIZE_LIMIT)] = Field(
        DEFAULT_MAX_RESPONSE_SIZE, description='Bytes a prefetched body may have; more raises ResponseTooLarge.')
    # The policies, all off or neutral unless set (see conn.retry, conn.breaker, conn.rate_limit).
    max_retries: Annotated[int, Field(ge=0, le=MAX_RETRIES), checked(check_int, 0, MAX_RETRIES)] = Field(
        0, description=f'Extra attempts, 0-{MAX_RETRIES}, after a connect error, or after a read timeout or a status '
                       'in retry_on_status of a method in retry_methods; all within total_timeout.')
    retry_on_status: Annotated[str, checked(_check_statuses)] = Field(
        DEFAULT_RETRY_ON_STATUS, max_length=MAX_NAME_LENGTH,
        description='HTTP error statuses (400-599) that are retried, separated by commas.')
    retry_methods: Annotated[str, checked(_check_methods)] = Field(
        DEFAULT_RETRY_METHODS, max_length=MAX_NAME_LENGTH,
        description='HTTP methods whose read timeouts and retry_on_status answers are retried, separated by '
                    'commas; connect errors are retried for every method, nothing having been sent.')
    retry_backoff: Wait = Field(
        0.5, description='Base seconds of the exponential backoff between attempts (with full jitter).')
    retry_after_max: Wait = Field(
        30.0, description="Most seconds waited between two attempts: the backoff's cap, and the longest "
                          "Retry-After honoured (a longer one ends the retries).")
    breaker_threshold: Annotated[int, Field(ge=0, le=MAX_BREAKER_THRESHOLD),
                                 checked(check_int, 0, MAX_BREAKER_THRESHOLD)] = Field(
        0, description='Consecutive failures (transport errors or 5xx) that open the circuit, after which calls '
                       'raise CircuitOpen at once; 0 = off.')
    breaker_reset: Seconds = Field(30.0, description='Seconds an open circuit waits before one trial call.')
    rate_limit: Annotated[int, Field(ge=0, le=MAX_RATE_LIMIT), checked(check_int, 0, MAX_RATE_LIMIT)] = Field(
        0, description='Calls per second for this connection in each process; callers beyond it wait within '
                       'total_timeout, then RateLimited; 0 = off.')
    pool_size: Annotated[int, Field(ge=1, le=1000), checked(check_int, 1, 1000)] = Field(
        20, description='Most sockets open to the remote end at once, 1-1000; callers beyond that wait '
                        'for one, for the connect timeout at most.')
    ping_method: Annotated[HTTPMethod, checked(_check_method)] = Field(
        'HEAD', max_length=MAX_CHOICE_LENGTH, description='HTTP method ping uses.')
    data_format: Annotated[DataFormat, _choice(DATA_FORMATS)] = Field(
        'json', max_length=MAX_CHOICE_LENGTH,
        description=f'How dict and list bodies are sent: {", ".join(DATA_FORMATS)}.')
    content_type: Annotated[str | None, checked(check_media_type, nullable=True)] = Field(
        None, max_length=MAX_NAME_LENGTH, description="Content-Type of request bodies, overriding the data format's.")
    validate_tls: Switch = Field(True, description='Verify the server certificate.')
    ca_bundle: Annotated[str | None, checked(check_ca_bundle, nullable=True)] = Field(
        None, repr=False, description='PEM CA certificates to trust instead of the system ones.')
    proxy: Annotated[str | None, checked(check_url_text, nullable=True)] = Field(
        None, max_length=MAX_URL_LENGTH, description='Proxy URL, http:// or https://, without credentials.')
    follow_redirects: Switch = Field(False, description='Follow redirects.')
    max_redirects: Annotated[int, Field(ge=1, le=100), checked(check_int, 1, 100)] = Field(
        10, description='Most redirects followed when following them.')
    # The X-Zato headers can be renamed per connection; an empty name switches that header off.
    cid_header: Annotated[str, _header(True)] = Field(
        'X-Zato-CID', max_length=MAX_NAME_LENGTH,
        description='Name of the correlation ID header; empty to leave it out.')
    component_header: Annotated[str, _header(True)] = Field(
        'X-Zato-Component', max_length=MAX_NAME_LENGTH,
        description='Name of the component header; empty to leave it out.')
    msg_ts_header: Annotated[str, _header(True)] = Field(
        'X-Zato-Msg-TS', max_length=MAX_NAME_LENGTH, description='Name of the timestamp header; empty to leave it out.')
    # SOAP only. wsdl is a URL or the WSDL document itself, kept in the database.
    soap_version: Annotated[SOAPVersion, _choice(SOAP_VERSIONS)] = Field(
        '1.1', max_length=MAX_SOAP_VERSION_LENGTH, description='SOAP version, 1.1 or 1.2 (soap).')
    soap_action: Annotated[str | None, checked(check_soap_action, nullable=True)] = Field(
        None, max_length=MAX_URL_LENGTH,
        description='SOAPAction (1.1) or action parameter (1.2) of posted bodies (soap).')
    wsdl: Annotated[str | None, checked(check_wsdl, nullable=True)] = Field(
        None, repr=False, description='URL of the WSDL for conn.client, or the WSDL document itself (soap).')
    wsdl_service: OptionalName = Field(
        None, max_length=MAX_NAME_LENGTH, description='Service of the WSDL to use, if it has several (soap).')
    wsdl_port: OptionalName = Field(
        None, max_length=MAX_NAME_LENGTH, description='Port of the WSDL service to use, if it has several (soap).')

    @model_validator(mode='after')
    def _check_soap(self) -> OutconnConfig:
        problems = Problems()
        if self.transport != 'soap':
            for name in SOAP_ONLY:
                if getattr(self, name) is not None:
                    problems.add(name, 'is used by soap connections only')
            if self.soap_version != SOAP_VERSIONS[0]:
                problems.add('soap_version', 'is used by soap connections only')
        else:
            for name in ('wsdl_service', 'wsdl_port'):
                if getattr(self, name) is not None and self.wsdl is None:
                    problems.add(name, 'needs a wsdl to pick from; set wsdl too')
        problems.raise_any()
        return self

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` as requests takes it."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def deadline(self) -> float:
        """Seconds a whole call may take: total_timeout, or its default from the other timeouts."""
        return self.total_of(self.connect_timeout, self.read_timeout)

    def total_of(self, connect: float, read: float) -> float:
        """Seconds a whole call with these socket timeouts may take: total_timeout, or its default
        from them (a call given its own timeout= has its default total follow it)."""
        if self.total_timeout is not None:
            return self.total_timeout
        return float(TOTAL_TIMEOUT_FACTOR * (connect + read))

    @property
    def retry_statuses(self) -> frozenset[int]:
        return frozenset(int(code) for code in self.retry_on_status.split(',') if code)

    @property
    def retried_methods(self) -> frozenset[str]:
        return frozenset(method for method in self.retry_methods.split(',') if method)

    @property
    def address(self) -> str:
        return self.host + self.url_path

    @property
    def path_template(self) -> PathTemplate:
        """The parsed url_path (parsed once per text, when the config was checked)."""
        return PathTemplate.parse(self.url_path)
