"""SOAP connections: the plain-HTTP pipeline with an envelope, SOAP headers and WS-Security.

Callers pass only what goes inside the Body; ``SOAPConnection._encode`` is the one place that
wraps it, adds the SOAPAction or action parameter the version needs, and applies WS-Security.
Every SOAP path (post, send, invoke, ping, the zeep client) sends through it.
"""

from __future__ import annotations

import codecs
import threading
from typing import Any

import requests
from lxml import etree

from zato_outconn.config.checks import check_soap_action
from zato_outconn.conn.body import BodyError
from zato_outconn.conn.http import HTTPConnection
from zato_outconn.conn.ping import PingResult
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import ConfigError, NotSOAPResponse, SOAPFault, WSDLError
from zato_outconn.soap.envelope import (
    SOAP11_CONTENT_TYPE,
    SOAP12_CONTENT_TYPE,
    VERSIONS,
    Answer,
    NotSOAP,
    build_envelope,
    parse_body,
    read_answer,
    serialise,
)
from zato_outconn.wire.call import Call
from zato_outconn.wire.errors import BODY_START_LENGTH


class SOAPConnection(HTTPConnection):
    """``.conn`` of a SOAP connection: post/send wrap the body; invoke also reads the answer."""

    _keywords = HTTPConnection._keywords | {'action'}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Any = None
        self._client_lock = threading.Lock()

    def invoke(self, cid: str, body: Any, **kwargs: Any) -> etree._Element | None:
        """Post ``body`` in an envelope and return the first element of the answer's Body.

        A Fault, on any HTTP status, raises ``SOAPFault``; an answer that is no SOAP envelope raises
        ``NotSOAPResponse`` with its status and the start of its body. An empty 200 or 202, the
        answer to a one-way operation, returns None.
        """
        response = self.post(cid, body, **kwargs)
        if response.status_code in (200, 202) and not response.content.strip():
            return None
        answer = self.check_soap_answer(response, cid)
        if answer.fault is not None:
            context = Call(self.name, 'POST', response.url or self.config.address, cid).context()
            fault = answer.fault
            raise SOAPFault(code=fault.code, subcode=fault.subcode, reason=fault.reason, actor=fault.actor,
                            detail=fault.detail, status_code=response.status_code, version=fault.version,
                            **context)
        return answer.body

    def check_soap_answer(self, response: requests.Response, cid: str) -> Answer:
        """The answer read as SOAP, or NotSOAPResponse with its status and the start of its body."""
        try:
            return read_answer(response.content, _charset(response))
        except NotSOAP as error:
            start = response.content[:BODY_START_LENGTH].decode(_charset(response) or 'utf-8', 'replace')
            call = Call(self.name, 'POST', response.url or self.config.address, cid)
            raise NotSOAPResponse(str(error), status_code=response.status_code, body_start=start,
                                  **call.context()) from None

    def ping(self, cid: str) -> PingResult:
        """As for plain HTTP, and a connection with a WSDL is OK only if its WSDL loads too."""
        result = super().ping(cid)
        if not result.ok or not self.config.wsdl:
            return result
        try:
            _ = self.client  # building it is the check
        except WSDLError as error:
            return result.failed(f'the WSDL cannot be used: {error.message}')
        return result

    @property
    def client(self) -> Any:
        """A zeep client built from the template's WSDL, once, calling through this connection."""
        with self._client_lock:
            if self._client is None:
                # Imported here: zeep is loaded by processes whose connections have a WSDL only.
                from zato_outconn.soap.wsdl import build_client

                self._client = build_client(self)
            return self._client

    def _encode(self, request: OutgoingRequest) -> tuple[bytes | None, dict[str, str]]:
        data = request.data
        if request.method in ('GET', 'HEAD') and data in (None, '', b''):
            return None, {}
        config = self.config
        action = request.extras.get('action', config.soap_action)
        if action is not None:
            # The template's soap_action passed this check already; one call's action= passes it here.
            try:
                check_soap_action('action', action)
            except ConfigError as error:
                raise BodyError(str(error)) from None
        envelope = build_envelope(parse_body(data if data is not None else ''), config.soap_version)
        # A whole envelope passed in keeps its own version, and the headers must match it.
        version = VERSIONS[etree.QName(envelope).namespace]
        if self._plan.envelope is not None:
            self._plan.envelope.apply(envelope, version)
        if version == '1.1':
            headers = {'Content-Type': SOAP11_CONTENT_TYPE, 'SOAPAction': f'"{action or ""}"'}
        else:
            headers = {'Content-Type': SOAP12_CONTENT_TYPE + (f'; action="{action}"' if action else '')}
        return serialise(envelope), headers


def _charset(response: requests.Response) -> str | None:
    """The charset parameter of Content-Type, if any; requests' text/* fallback to Latin-1 is not one.

    A charset Python does not know counts as none, so that the XML declaration decides instead.
    """
    content_type = response.headers.get('Content-Type', '')
    for parameter in content_type.split(';')[1:]:
        key, _, value = parameter.strip().partition('=')
        if key.lower() == 'charset' and value:
            charset = value.strip('"\' ')
            try:
                codecs.lookup(charset)
            except LookupError:
                return None
            return charset
    return None
