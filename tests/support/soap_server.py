"""A real SOAP server on 127.0.0.1 for the tests: spyne behind a checking, recording WSGI layer.

spyne serves one small application as SOAP 1.1 at ``/soap11`` and as SOAP 1.2 at ``/soap12``
(``?wsdl`` on each; ``/wsdl/soap11`` and ``/wsdl/soap12`` serve WSDLs that give a wrong address).
In front of it, ``SOAPLayer`` records every request, refuses what a strict server would refuse
(a Content-Type or SOAPAction that does not fit the version), verifies a WS-Security
UsernameToken when a test asks for one, and answers a canned body when told to.
"""

from __future__ import annotations

import hashlib
import io
import ssl
import threading
import warnings
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_loader
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from xml.sax.saxutils import escape

from lxml import etree
from requests.structures import CaseInsensitiveDict

from tests.support.servers import BackgroundServer

# spyne 2.14 bundles six 1.14 and imports cgi; both warn on import under Python 3.11.
with warnings.catch_warnings():
    warnings.filterwarnings('ignore', category=ImportWarning, message=r'_SixMetaPathImporter')
    warnings.filterwarnings('ignore', category=DeprecationWarning, message=r"'cgi' is deprecated")
    from spyne import Application, Fault, Integer, ServiceBase, Unicode, rpc
    from spyne.interface.wsdl import Wsdl11
    from spyne.protocol.soap import Soap11, Soap12
    from spyne.server.wsgi import WsgiApplication
    from spyne.util import six as spyne_six


def _modernise_six_importer() -> None:
    """Give spyne's six importer the PEP 451 methods that six 1.16 added.

    The importer stays in ``sys.meta_path`` for the rest of the run; without ``find_spec`` every
    later import that earlier finders miss (``import msvcrt`` in a try block, say) would warn, and
    warnings are errors in the tests of every module, not only in these.
    """
    importer = spyne_six._SixMetaPathImporter
    if hasattr(importer, 'find_spec'):
        return

    def find_spec(self: Any, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        return spec_from_loader(fullname, self) if fullname in self.known_modules else None

    importer.find_spec = find_spec
    importer.create_module = lambda self, spec: self.load_module(spec.name)
    importer.exec_module = lambda self, module: None


_modernise_six_importer()

TNS = 'urn:zato-outconn:test'
SOAP_NS = {'1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
           '1.2': 'http://www.w3.org/2003/05/soap-envelope'}
ENDPOINTS = {'/soap11': '1.1', '/soap12': '1.2'}
MEDIA_TYPES = {'1.1': 'text/xml', '1.2': 'application/soap+xml'}
WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'
WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'
MUST_UNDERSTAND = {'1.1': '1', '1.2': 'true'}
# Where the WSDLs served at /wsdl/soap11 and /wsdl/soap12 say the service is: not where it is.
DECOY_PATH = '/not-the-endpoint'


class Greeter(ServiceBase):
    @rpc(Unicode, Integer, _returns=Unicode)
    def echo(ctx: Any, text: str, times: int | None) -> str:
        return text * (times or 1)

    @rpc(Unicode, _returns=Unicode)
    def hello(ctx: Any, name: str) -> str:
        return f'Hello, {name}!'

    @rpc(Unicode)
    def fail(ctx: Any, why: str) -> None:
        raise Fault(faultcode='Client.InvalidInput', faultstring=f'cannot do that: {why}',
                    faultactor='urn:zato-outconn:test:greeter', detail={'why': why})


def application(version: str) -> Application:
    protocol = Soap11 if version == '1.1' else Soap12
    return Application([Greeter], TNS, name='Greeter', in_protocol=protocol(validator='lxml'),
                       out_protocol=protocol())


def wsdl_text(version: str, address: str) -> str:
    """The service's WSDL for one SOAP version, saying the service lives at ``address``."""
    app = application(version)
    # What a spyne server sets on the application it serves; zeep skips ports of other transports.
    app.transport = 'http://schemas.xmlsoap.org/soap/http'
    document = Wsdl11(app.interface)
    document.build_interface_document(address)
    return document.get_interface_document().decode('utf-8')


@dataclass
class SeenRequest:
    """One request as it arrived."""

    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes

    @property
    def envelope(self) -> etree._Element:
        return etree.fromstring(self.body)


@dataclass(frozen=True)
class Canned:
    """An answer to give instead of asking spyne."""

    status: int
    body: bytes
    content_type: str


@dataclass
class RequiredToken:
    """The UsernameToken credentials the server insists on, and how old a token may be."""

    username: str
    password: str
    password_type: str | None = None
    max_age: timedelta = timedelta(minutes=5)
    seen_nonces: set[bytes] = field(default_factory=set)


class Refused(Exception):
    """A request refused at the HTTP level, with a status and a plain-text reason, no SOAP."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class AuthenticationFailed(Exception):
    """A UsernameToken that does not pass: answered with a wsse:FailedAuthentication Fault."""


class SOAPLayer:
    """The WSGI application in front of spyne."""

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self.canned: Canned | None = None
        self.token: RequiredToken | None = None
        self._lock = threading.Lock()
        self._spyne = {version: WsgiApplication(application(version)) for version in MEDIA_TYPES}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        path, query = environ.get('PATH_INFO', ''), environ.get('QUERY_STRING', '')
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict({
            key[5:].replace('_', '-'): value for key, value in environ.items() if key.startswith('HTTP_')})
        for key in ('CONTENT_TYPE', 'CONTENT_LENGTH'):
            if environ.get(key):
                headers[key.replace('_', '-').title()] = environ[key]
        method = environ['REQUEST_METHOD']
        with self._lock:
            self.requests.append(SeenRequest(method, path + (f'?{query}' if query else ''), headers, body))

        base = f'{environ["wsgi.url_scheme"]}://{environ["HTTP_HOST"]}'
        if path.startswith('/wsdl/') and path[5:] in ENDPOINTS:
            decoy = wsdl_text(ENDPOINTS[path[5:]], base + DECOY_PATH)
            return _answer(start_response, 200, decoy.encode(), 'text/xml')
        version = ENDPOINTS.get(path)
        if version is None:
            return _answer(start_response, 404, b'no such endpoint', 'text/plain')
        if method == 'GET' and query.lower() == 'wsdl':
            return _answer(start_response, 200, wsdl_text(version, base + path).encode(), 'text/xml')
        if method == 'HEAD':
            return _answer(start_response, 200, b'', 'text/plain')
        if method != 'POST':
            return _answer(start_response, 405, b'POST a SOAP envelope', 'text/plain')
        try:
            envelope = self._check(version, headers, body)
        except Refused as error:
            return _answer(start_response, error.status, str(error).encode(), 'text/plain')
        except AuthenticationFailed as error:
            content_type = f'{MEDIA_TYPES[version]}; charset=utf-8'
            return _answer(start_response, 500, fault(version, str(error)), content_type)
        if self.canned is not None:
            return _answer(start_response, self.canned.status, self.canned.body, self.canned.content_type)
        soap_body = envelope.find(f'{{{SOAP_NS[version]}}}Body')
        if soap_body is not None and len(soap_body) == 0:
            # An empty Body is a ping: answer an empty envelope.
            empty = f'<soap:Envelope xmlns:soap="{SOAP_NS[version]}"><soap:Body/></soap:Envelope>'.encode()
            return _answer(start_response, 200, empty, f'{MEDIA_TYPES[version]}; charset=utf-8')
        environ['wsgi.input'] = io.BytesIO(body)
        return self._spyne[version](environ, start_response)

    def _check(self, version: str, headers: CaseInsensitiveDict[str], body: bytes) -> etree._Element:
        """The request's envelope, if it is a well-formed request for this SOAP version."""
        media_type, *parameters = [part.strip() for part in headers.get('Content-Type', '').split(';')]
        if media_type.lower() != MEDIA_TYPES[version]:
            raise Refused(415, f'SOAP {version} needs {MEDIA_TYPES[version]}, not {media_type!r}')
        if version == '1.1':
            action = headers.get('SOAPAction')
            if action is None or len(action) < 2 or not (action[0] == action[-1] == '"'):
                raise Refused(400, f'SOAP 1.1 needs a quoted SOAPAction header; got {action!r}')
        elif any(parameter.lower() in ('action=none', 'action="none"') for parameter in parameters):
            raise Refused(400, 'the action parameter says None')
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as error:
            raise Refused(400, f'not well-formed XML: {error}') from None
        if envelope.tag != f'{{{SOAP_NS[version]}}}Envelope':
            raise Refused(400, f'this endpoint takes SOAP {version} envelopes; got {envelope.tag}')
        if self.token is not None:
            self._verify_token(version, envelope)
        return envelope

    def _verify_token(self, version: str, envelope: etree._Element) -> None:
        required = self.token
        assert required is not None
        security = envelope.find(f'{{{SOAP_NS[version]}}}Header/{{{WSSE}}}Security')
        if security is None:
            raise AuthenticationFailed('no wsse:Security header')
        must_understand = security.get(f'{{{SOAP_NS[version]}}}mustUnderstand')
        if must_understand != MUST_UNDERSTAND[version]:
            raise AuthenticationFailed(f'mustUnderstand is {must_understand!r}')
        token = security.find(f'{{{WSSE}}}UsernameToken')
        if token is None:
            raise AuthenticationFailed('no UsernameToken')
        username, password = token.findtext(f'{{{WSSE}}}Username'), token.find(f'{{{WSSE}}}Password')
        nonce, created = token.findtext(f'{{{WSSE}}}Nonce') or '', token.findtext(f'{{{WSU}}}Created') or ''
        if username != required.username or password is None:
            raise AuthenticationFailed('unknown user')
        digest = password.get('Type', '').endswith('#PasswordDigest')
        if required.password_type is not None and digest != (required.password_type == 'digest'):
            raise AuthenticationFailed(f'the password must be of type {required.password_type}')
        try:
            raw_nonce, moment = b64decode(nonce, validate=True), datetime.fromisoformat(created)
        except ValueError:
            raise AuthenticationFailed('the Nonce or Created is malformed') from None
        if len(raw_nonce) < 16 or moment.utcoffset() != timedelta(0):
            raise AuthenticationFailed('the Nonce is short or Created is not in UTC')
        expected = required.password
        if digest:
            expected = b64encode(hashlib.sha1(raw_nonce + created.encode() + required.password.encode())
                                 .digest()).decode()
        if password.text != expected:
            raise AuthenticationFailed('wrong password')
        now = datetime.now(timezone.utc)
        if moment > now + timedelta(seconds=1):
            raise AuthenticationFailed('Created is in the future')
        if now - moment > required.max_age:
            raise AuthenticationFailed('Created is stale')
        with self._lock:
            if raw_nonce in required.seen_nonces:
                raise AuthenticationFailed('the nonce was used before')
            required.seen_nonces.add(raw_nonce)


def fault(version: str, reason: str) -> bytes:
    """A SOAP Fault saying that authentication failed."""
    namespace, reason = SOAP_NS[version], escape(reason)
    if version == '1.1':
        inner = (f'<faultcode xmlns:wsse="{WSSE}">wsse:FailedAuthentication</faultcode>'
                 f'<faultstring>{reason}</faultstring>')
    else:
        inner = (f'<soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode>'
                 f'<soap:Value xmlns:wsse="{WSSE}">wsse:FailedAuthentication</soap:Value></soap:Subcode>'
                 f'</soap:Code><soap:Reason><soap:Text xml:lang="en">{reason}</soap:Text></soap:Reason>')
    return (f'<soap:Envelope xmlns:soap="{namespace}"><soap:Body><soap:Fault>{inner}</soap:Fault>'
            f'</soap:Body></soap:Envelope>').encode()


def _answer(start_response: Callable[..., Any], status: int, body: bytes, content_type: str) -> list[bytes]:
    start_response(f'{status} {"OK" if status < 400 else "Error"}',
                   [('Content-Type', content_type), ('Content-Length', str(len(body)))])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        # wsgiref says text/plain when a request has no Content-Type; the tests want what was sent.
        if self.headers.get('Content-Type') is None:
            environ.pop('CONTENT_TYPE', None)
        return environ


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class SOAPServer(BackgroundServer):
    """Serves ``SOAPLayer`` in a thread while the context is open; ``url`` is its base address.

    With an ``ssl_context`` holding a certificate, it serves HTTPS instead of HTTP.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.layer = SOAPLayer()
        super().__init__(make_server('127.0.0.1', 0, self.layer, server_class=_ThreadingWSGIServer,
                                     handler_class=_QuietHandler), ssl_context)

    @property
    def requests(self) -> list[SeenRequest]:
        return self.layer.requests

    @property
    def last(self) -> SeenRequest:
        return self.layer.requests[-1]

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        """Answer every SOAP request that passes the checks with this, instead of asking spyne."""
        self.layer.canned = Canned(status, body, content_type)

    def require_token(self, username: str, password: str, password_type: str | None = None) -> None:
        """Accept only envelopes with a valid, fresh, unreplayed UsernameToken for these credentials."""
        self.layer.token = RequiredToken(username, password, password_type)
