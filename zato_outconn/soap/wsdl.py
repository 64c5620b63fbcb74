"""WSDL calls through zeep, sent by the connection's own request pipeline.

zeep is given a transport that hands every request back to the connection, so that a zeep call
gets the same pool, timeouts, TLS settings, X-Zato headers, HTTP security and WS-Security as
``conn.post``. The template's address wins over the one in the WSDL.
"""

from __future__ import annotations

import io
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from lxml import etree

from zato_outconn.config import OutconnConfig
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import CallError, WSDLError
from zato_outconn.runtime.context import cid_in_progress, current_cid
from zato_outconn.wire.call import Call
from zato_outconn.wire.errors import map_error, map_wsdl_error


class SOAPCaller(Protocol):
    """What the zeep side needs of a SOAP connection."""

    name: str
    config: OutconnConfig

    @property
    def session(self) -> requests.Session: ...

    def request(self, method: str, cid: str, *, params: Any = None, data: Any = None, prefetch: bool = True,
                headers: Any = None, **kwargs: Any) -> requests.Response: ...

    def dispatch(self, request: OutgoingRequest) -> requests.Response: ...

    def check_soap_answer(self, response: requests.Response, cid: str) -> Any: ...


class ConnectionTransport:
    """A zeep transport (the load/get/post/post_xml/close interface zeep calls) sending through a
    connection.

    It is not built on zeep's own Transport, whose constructor would mount file:// on the session
    and rename its User-Agent: the connection's session and headers stay its own.
    """

    def __init__(self, conn: SOAPCaller) -> None:
        self.conn = conn

    @property
    def session(self) -> requests.Session:
        """The connection's own session, as zeep's transports expose theirs."""
        return self.conn.session

    def post_xml(self, address: str, envelope: etree._Element, headers: dict[str, str]) -> requests.Response:
        # zeep's headers carry the operation's own SOAPAction, so they win over the template's.
        cid = cid_in_progress()
        response = self.conn.request('POST', cid, data=envelope, headers=headers)
        if response.status_code >= 400:
            # zeep would read an HTML error page as an 'Unknown fault'; say what it is instead.
            self.conn.check_soap_answer(response, cid)
        return response

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        return self.conn.request('POST', cid_in_progress(), data=message, headers=headers)

    def get(self, address: str, params: dict[str, Any], headers: dict[str, str]) -> requests.Response:
        return self.conn.request('GET', cid_in_progress(), params=params, headers=headers)

    def load(self, url: str) -> bytes:
        """Fetch a WSDL or schema document; only over http(s), never from local files."""
        if urlsplit(url).scheme not in ('http', 'https'):
            raise WSDLError(f'refusing to load {url!r}: WSDL and schema documents are fetched over '
                            'http(s) only', name=self.conn.name)
        # The connection's credentials go only where the operator pointed it: its host and its WSDL's.
        # A document that the WSDL imports from anywhere else is fetched without them.
        trusted = _origin(url) in {_origin(self.conn.config.host), _origin(self.conn.config.wsdl or '')}
        response = self.conn.dispatch(OutgoingRequest('GET', url, cid_in_progress(),
                                                      extras={} if trusted else {'auth': None}))
        if response.status_code >= 400:
            raise WSDLError(f'fetching {url} gave HTTP {response.status_code}', name=self.conn.name,
                            method='GET', url=url)
        return response.content

    def close(self) -> None:
        """The session belongs to the connection, which closes it."""


class MappedClient(zeep.Client):
    """zeep's client, whose ``service`` operations raise the library's exceptions, not zeep's."""

    def __init__(self, conn: SOAPCaller, wsdl: Any, **kwargs: Any) -> None:
        self.conn = conn
        super().__init__(wsdl, **kwargs)

    @property
    def service(self) -> _MappedService:
        return _MappedService(super().service, self.conn)


class _MappedService:
    """Wraps a zeep ServiceProxy: each operation's zeep errors become the library's."""

    def __init__(self, proxy: Any, conn: SOAPCaller) -> None:
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
            cid = cid_in_progress()
            token = current_cid.set(cid)
            try:
                return operation(*args, **kwargs)
            except zeep.exceptions.Error as error:
                raise map_error(error, Call(conn.name, 'POST', conn.config.address, cid),
                                soap_version=conn.config.soap_version) from error
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


def build_client(conn: SOAPCaller) -> zeep.Client:
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
        client = MappedClient(conn, source, transport=ConnectionTransport(conn), settings=settings,
                              service_name=config.wsdl_service, port_name=config.wsdl_port)
        _check_names(client, conn)
    except WSDLError:
        raise
    except (CallError, zeep.exceptions.Error, etree.LxmlError, ValueError, KeyError, IndexError) as error:
        raise map_wsdl_error(error, name=conn.name, where=where) from error
    return client


def _check_names(client: zeep.Client, conn: SOAPCaller) -> None:
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
