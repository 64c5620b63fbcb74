"""WSDL calls through zeep, sent by the connection's own request pipeline.

zeep is given a transport that hands every request back to the connection, so that a zeep call
gets the same pool, timeouts, TLS settings, X-Zato headers, HTTP security and WS-Security as
``conn.post``. The template's address wins over the one in the WSDL.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from zato_outconn.envelope import BODY_START_LENGTH
from zato_outconn.exceptions import CallError, NotSOAPResponse, SOAPFault, WSDLError
from zato_outconn.headers import current_cid, new_cid

if TYPE_CHECKING:
    from zato_outconn.soap import SOAPConnection


def _cid() -> str:
    # zeep calls take no cid: use the one of the service invocation in progress, if any.
    return current_cid.get() or new_cid()


class ConnectionTransport(Transport):
    """zeep's transport, sending through a SOAPConnection."""

    def __init__(self, conn: SOAPConnection) -> None:
        # zeep's own __init__ would rename the session's User-Agent and mount file:// on it;
        # only the attributes zeep reads are set here.
        self.conn = conn
        self.cache = None
        self.load_timeout = conn.config.read_timeout
        self.operation_timeout = None
        self.logger = logging.getLogger(__name__)
        self._close_session = False

    @property
    def session(self) -> requests.Session:  # type: ignore[override]
        return self.conn.session

    def post_xml(self, address: str, envelope: etree._Element, headers: dict[str, str]) -> requests.Response:
        # zeep's headers carry the operation's own SOAPAction, so they win over the template's.
        cid = _cid()
        response = self.conn.request('POST', cid, data=envelope, headers=headers)
        if response.status_code >= 400:
            # zeep would read an HTML error page as an 'Unknown fault'; say what it is instead.
            self.conn.check_soap_answer(response, cid)
        return response

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        return self.conn.request('POST', _cid(), data=message, headers=headers)

    def get(self, address: str, params: dict[str, Any], headers: dict[str, str]) -> requests.Response:
        return self.conn.request('GET', _cid(), params=params, headers=headers)

    def load(self, url: str) -> bytes:
        """Fetch a WSDL or schema document; only over http(s), never from local files."""
        if urlsplit(url).scheme not in ('http', 'https'):
            raise WSDLError(f'refusing to load {url!r}: WSDL and schema documents are fetched over '
                            'http(s) only', name=self.conn.name)
        # The connection's credentials go only where the operator pointed it: its host and its WSDL's.
        # A document that the WSDL imports from anywhere else is fetched without them.
        trusted = _origin(url) in {_origin(self.conn.config.host), _origin(self.conn.config.wsdl or '')}
        response = self.conn._send('GET', url, _cid(), None, None, False, {} if trusted else {'auth': None})
        if response.status_code >= 400:
            raise WSDLError(f'fetching {url} gave HTTP {response.status_code}', name=self.conn.name,
                            method='GET', url=url)
        return response.content


class MappedClient(zeep.Client):
    """zeep's client, whose ``service`` operations raise the library's exceptions, not zeep's."""

    conn: SOAPConnection

    @property
    def service(self) -> _MappedService:  # type: ignore[override]
        return _MappedService(super().service, self.conn)


class _MappedService:
    """Wraps a zeep ServiceProxy: each operation maps zeep's Fault and TransportError."""

    def __init__(self, proxy: Any, conn: SOAPConnection) -> None:
        self._proxy = proxy
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return self._mapped(getattr(self._proxy, name))

    def __getitem__(self, name: str) -> Any:
        return self._mapped(self._proxy[name])

    def _mapped(self, operation: Any) -> Any:
        conn = self._conn

        def call(*args: Any, **kwargs: Any) -> Any:
            # One cid for the whole operation, so that an error names the cid its requests carried.
            cid = current_cid.get() or new_cid()
            context = {'name': conn.name, 'method': 'POST', 'url': conn.config.address, 'cid': cid}
            token = current_cid.set(cid)
            try:
                return operation(*args, **kwargs)
            except zeep.exceptions.Fault as fault:
                subcodes = fault.subcodes or []
                raise SOAPFault(code=str(fault.code or ''), subcode=str(subcodes[0]) if subcodes else None,
                                reason=str(fault.message or ''), actor=fault.actor, detail=fault.detail,
                                status_code=None, version=conn.config.soap_version, **context) from fault
            except zeep.exceptions.TransportError as error:
                start = (error.content or b'')[:BODY_START_LENGTH]
                text = start.decode('utf-8', 'replace') if isinstance(start, bytes) else str(start)
                raise NotSOAPResponse('the answer is no SOAP envelope', status_code=error.status_code,
                                      body_start=text, **context) from error
            finally:
                current_cid.reset(token)

        return call


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {'http': 80, 'https': 443}.get(parts.scheme)
    except ValueError:
        port = None
    return (parts.scheme, parts.hostname or '', port)


def build_client(conn: SOAPConnection) -> zeep.Client:
    """A zeep client for the connection's WSDL, checked to have the service and port it names."""
    config = conn.config
    if not config.wsdl:
        raise WSDLError('the connection has no wsdl; set one to use the client, or use post and invoke',
                        name=conn.name)
    is_text = config.wsdl.lstrip().startswith('<')
    source: Any = io.BytesIO(config.wsdl.encode('utf-8')) if is_text else config.wsdl
    where = 'the WSDL stored with the connection' if is_text else f'the WSDL at {config.wsdl}'
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, xml_huge_tree=False)
    try:
        client = MappedClient(source, transport=ConnectionTransport(conn), settings=settings,
                              service_name=config.wsdl_service, port_name=config.wsdl_port)
        client.conn = conn
        _check_names(client, conn)
    except WSDLError:
        raise
    except CallError as error:
        raise WSDLError(f'cannot fetch {where}: {error.message}', name=conn.name) from error
    except (zeep.exceptions.Error, etree.LxmlError, ValueError, KeyError, IndexError) as error:
        raise WSDLError(f'cannot use {where}: {type(error).__name__}: {error}', name=conn.name) from error
    return client


def _check_names(client: zeep.Client, conn: SOAPConnection) -> None:
    """Resolve the service and port now, so that a wrong name is reported here, with what there is."""
    config = conn.config
    services = client.wsdl.services
    if config.wsdl_service is not None and config.wsdl_service not in services:
        raise WSDLError(f'wsdl_service {config.wsdl_service!r} is not in the WSDL; it has '
                        f'{", ".join(sorted(services)) or "none"}', name=conn.name)
    service = services[config.wsdl_service] if config.wsdl_service else next(iter(services.values()), None)
    if service is None:
        raise WSDLError('the WSDL defines no service', name=conn.name)
    if config.wsdl_port is not None and config.wsdl_port not in service.ports:
        raise WSDLError(f'wsdl_port {config.wsdl_port!r} is not in service {service.name!r}; it has '
                        f'{", ".join(sorted(service.ports)) or "none"}', name=conn.name)
    client.bind(config.wsdl_service, config.wsdl_port)
