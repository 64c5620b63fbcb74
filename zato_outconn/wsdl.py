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

from zato_outconn.exceptions import CallError, WSDLError
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
        return self.conn.request('POST', _cid(), data=envelope, headers=headers)

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        return self.conn.request('POST', _cid(), data=message, headers=headers)

    def get(self, address: str, params: dict[str, Any], headers: dict[str, str]) -> requests.Response:
        return self.conn.request('GET', _cid(), params=params, headers=headers)

    def load(self, url: str) -> bytes:
        """Fetch a WSDL or schema document; only over http(s), never from local files."""
        if urlsplit(url).scheme not in ('http', 'https'):
            raise WSDLError(f'refusing to load {url!r}: WSDL and schema documents are fetched over '
                            'http(s) only', name=self.conn.name)
        response = self.conn._send('GET', url, _cid(), None, None, False, {})
        if response.status_code >= 400:
            raise WSDLError(f'fetching {url} gave HTTP {response.status_code}', name=self.conn.name,
                            method='GET', url=url)
        return response.content


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
        client = zeep.Client(source, transport=ConnectionTransport(conn), settings=settings,
                             service_name=config.wsdl_service, port_name=config.wsdl_port)
        # Resolve the service and port now, so a wrong name is reported here and not at the first call.
        client.bind(config.wsdl_service, config.wsdl_port)
    except WSDLError:
        raise
    except CallError as error:
        raise WSDLError(f'cannot fetch {where}: {error.message}', name=conn.name) from error
    except (zeep.exceptions.Error, etree.LxmlError, ValueError, KeyError, IndexError) as error:
        raise WSDLError(f'cannot use {where}: {type(error).__name__}: {error}', name=conn.name) from error
    return client
