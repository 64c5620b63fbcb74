"""WSDL calls through zeep: they go out through the connection's own pipeline, to the template's address."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Callable
from typing import Any

import pytest
import trustme
import zeep.exceptions

from zato_outconn import NotSOAPResponse, OutconnConfig, ReadTimeout, Runtime, Service, SOAPFault, WSDLError

from tests.support.servers import RecordingServer, refused_port
from tests.support.soap_fixtures import PATHS
from tests.support.soap_server import DECOY_PATH, SOAP_NS, TNS, WSSE, SOAPServer, wsdl_text

Make = Callable[..., Any]
VERSIONS = pytest.mark.parametrize('version', ['1.1', '1.2'])
WSS = {'name': 'partner-wss', 'sec_type': 'wss', 'username': 'alice', 'secret': 'Zażółć s3cret',
       'password_type': 'digest'}


def decoy_wsdl(server: SOAPServer, version: str) -> str:
    """The URL of a WSDL that says the service lives at DECOY_PATH, where it does not."""
    return f'{server.url}/wsdl{PATHS[version]}'


def unreachable_wsdl(version: str = '1.1') -> str:
    return wsdl_text(version, f'http://127.0.0.1:{refused_port()}/elsewhere')


@VERSIONS
def test_zeep_call_goes_through_the_connection(make_soap: Make, soap_server: SOAPServer,
                                               version: str) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret', 'digest')
    item = make_soap(version=version, wsdl=decoy_wsdl(soap_server, version), security=WSS)
    assert item.conn.client.service.echo('Zażółć ✓', 2) == 'Zażółć ✓Zażółć ✓'

    wsdl_get, call = soap_server.requests
    assert (wsdl_get.method, wsdl_get.path) == ('GET', f'/wsdl{PATHS[version]}')
    # The WSDL says DECOY_PATH; the template's url_path wins.
    assert (call.method, call.path) == ('POST', PATHS[version])
    port = item.conn.client.wsdl.services['Greeter'].ports['Greeter']
    assert port.binding_options['address'] == soap_server.url + DECOY_PATH
    for seen in (wsdl_get, call):
        assert re.fullmatch(r'[0-9a-f]{32}', seen.headers['X-Zato-CID'])
        assert seen.headers['X-Zato-Component'].startswith('parallel/esb1/')
        assert 'X-Zato-Msg-TS' in seen.headers
    security = call.envelope.find(f'{{{SOAP_NS[version]}}}Header/{{{WSSE}}}Security')
    assert security is not None
    assert security.get(f'{{{SOAP_NS[version]}}}mustUnderstand') == {'1.1': '1', '1.2': 'true'}[version]
    if version == '1.1':
        assert call.headers['SOAPAction'] == '"echo"'
    else:
        assert call.headers['Content-Type'] == 'application/soap+xml; charset=utf-8; action="echo"'
    # The token is fresh on every call: a second call is not a replay.
    assert item.conn.client.service.hello('Zoë') == 'Hello, Zoë!'


def test_zeep_shares_session_and_http_security(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'),
                     security={'name': 'basic', 'sec_type': 'basic_auth', 'username': 'bob', 'secret': 'pw'})
    client = item.conn.client
    assert client.transport.session is item.conn.session
    assert client.service.hello('Bob') == 'Hello, Bob!'
    assert [seen.headers.get('Authorization') for seen in soap_server.requests] == ['Basic Ym9iOnB3'] * 2


def test_zeep_call_keeps_the_template_timeout(runtime: Runtime, http_server: RecordingServer) -> None:
    # The recording server sleeps a second before answering anything under /sleep/1/.
    runtime.store.create_outconn(OutconnConfig(name='Slow', transport='soap', host=http_server.url,
                                               url_path='/sleep/1/soap', read_timeout=0.2,
                                               wsdl=unreachable_wsdl()))
    item = runtime.outgoing.soap['Slow']
    with pytest.raises(ReadTimeout) as raised:
        item.conn.client.service.hello('x')
    assert raised.value.name == 'Slow' and raised.value.url.endswith('/sleep/1/soap')
    assert http_server.recorder.last.headers['Content-Type'] == 'text/xml; charset=utf-8'


def test_wsdl_and_calls_use_the_template_tls_settings(runtime: Runtime) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert('127.0.0.1').configure_cert(context)
    with SOAPServer(context) as server:
        settings = {'transport': 'soap', 'host': server.url, 'url_path': '/soap11',
                    'wsdl': f'{server.url}/wsdl/soap11'}
        runtime.store.create_outconn(OutconnConfig(name='Trusted', ca_bundle=ca.cert_pem.bytes().decode(),
                                                   **settings))
        runtime.store.create_outconn(OutconnConfig(name='Untrusted', **settings))
        assert runtime.outgoing.soap['Trusted'].conn.client.service.hello('TLS') == 'Hello, TLS!'
        with pytest.raises(WSDLError, match='certificate'):
            _ = runtime.outgoing.soap['Untrusted'].conn.client
        seen = [(seen.method, seen.path) for seen in server.requests]
        assert seen == [('GET', '/wsdl/soap11'), ('POST', '/soap11')]


def test_wsdl_stored_as_text(runtime: Runtime, make_soap: Make, soap_server: SOAPServer) -> None:
    text = unreachable_wsdl('1.2')
    item = make_soap(version='1.2', wsdl=text)
    assert runtime.store.get_outconn('soap', 'CRM SOAP').config.wsdl == text
    assert item.conn.client.service.hello('Zoë') == 'Hello, Zoë!'
    assert [(seen.method, seen.path) for seen in soap_server.requests] == [('POST', '/soap12')]


class CallGreeter(Service):
    def handle(self) -> None:
        client = self.outgoing.soap['CRM SOAP'].conn.client
        self.response.payload = client.service.hello(self.request.payload)


def test_zeep_call_in_a_service_carries_its_cid(runtime: Runtime, make_soap: Make,
                                                soap_server: SOAPServer) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'))
    assert runtime.invoke(CallGreeter, 'Ann', cid='service-cid-1') == 'Hello, Ann!'
    assert runtime.invoke(CallGreeter, 'Ben', cid='service-cid-2') == 'Hello, Ben!'
    assert [seen.headers['X-Zato-CID'] for seen in soap_server.requests] == [
        'service-cid-1', 'service-cid-1', 'service-cid-2']

    # Outside a service, each call gets a fresh cid of its own.
    item.conn.client.service.hello('x')
    item.conn.client.service.hello('y')
    outside = [seen.headers['X-Zato-CID'] for seen in soap_server.requests[-2:]]
    assert len(set(outside)) == 2 and not {'service-cid-1', 'service-cid-2'} & set(outside)


@pytest.mark.parametrize(('wsdl', 'message'), [
    (lambda servers: f'http://127.0.0.1:{refused_port()}/service?wsdl', 'cannot fetch'),
    (lambda servers: f'{servers[0].url}/no-such-service?wsdl', 'HTTP 404'),
    (lambda servers: f'{servers[1].url}/json-not-wsdl', 'cannot use'),
    (lambda servers: '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">'
                     '<wsdl:service name="S"><wsdl:port name="P" binding="tns:Missing"/></wsdl:service>'
                     '</wsdl:definitions>', 'cannot use'),
], ids=['unreachable', 'http-404', 'not-a-wsdl', 'broken-wsdl-text'])
def test_bad_wsdl_is_reported_and_stops_nothing_else(runtime: Runtime, make_soap: Make,
                                                      soap_server: SOAPServer, http_server: RecordingServer,
                                                      wsdl: Callable[..., str], message: str) -> None:
    broken = make_soap('Broken', wsdl=wsdl((soap_server, http_server)))
    working = make_soap('Working', wsdl=decoy_wsdl(soap_server, '1.1'))

    for _attempt in range(2):
        with pytest.raises(WSDLError) as raised:
            _ = broken.conn.client
        assert message in str(raised.value) and "'Broken'" in str(raised.value)
    ping = broken.conn.ping('cid-ping')
    assert not ping.ok and ping.status_code == 200 and 'WSDL' in ping and ping.error is not None

    runtime.outgoing.reload()
    assert runtime.outgoing.soap.names() == ['Broken', 'Working']
    assert runtime.outgoing.soap['Working'].conn.client.service.hello('ok') == 'Hello, ok!'
    assert runtime.outgoing.soap['Working'].conn.ping('cid-ping').ok
    assert working.conn.invoke('cid-1', f'<hello xmlns="{TNS}"><name>z</name></hello>') is not None


@pytest.mark.parametrize(('setting', 'message'), [
    ('wsdl_service', "wsdl_service 'NoSuchName' is not in the WSDL; it has Greeter"),
    ('wsdl_port', "wsdl_port 'NoSuchName' is not in service 'Greeter'; it has Greeter"),
])
def test_wrong_service_or_port_name(make_soap: Make, soap_server: SOAPServer, setting: str,
                                    message: str) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'), **{setting: 'NoSuchName'})
    with pytest.raises(WSDLError, match=message):
        _ = item.conn.client
    ping = item.conn.ping('cid-1')
    assert not ping.ok and 'WSDL' in ping and message in ping


def test_right_service_and_port_names(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'), wsdl_service='Greeter', wsdl_port='Greeter')
    assert item.conn.client.service.hello('named') == 'Hello, named!'


def test_client_is_built_once_per_template(runtime: Runtime, make_soap: Make,
                                           soap_server: SOAPServer) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'))
    clients: list[Any] = []
    threads = [threading.Thread(target=lambda: clients.append(item.conn.client)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 8 and all(client is item.conn.client for client in clients)
    assert [seen.method for seen in soap_server.requests] == ['GET']

    runtime.store.edit_outconn('soap', 'CRM SOAP', {'read_timeout': 5})
    edited = runtime.outgoing.soap['CRM SOAP']
    assert edited is not item and edited.config.read_timeout == 5
    assert edited.conn.client is not clients[0]
    assert edited.conn.client.service.hello('again') == 'Hello, again!'
    assert [seen.method for seen in soap_server.requests] == ['GET', 'GET', 'POST']


@VERSIONS
def test_zeep_faults_are_the_librarys_own(make_soap: Make, soap_server: SOAPServer, version: str) -> None:
    item = make_soap(version=version, wsdl=decoy_wsdl(soap_server, version))
    with pytest.raises(SOAPFault) as raised:
        item.conn.client.service.fail('because')
    fault = raised.value
    assert fault.name == item.config.name and fault.status_code is None and fault.version == version
    assert 'because' in fault.reason and isinstance(fault.__cause__, zeep.exceptions.Fault)


def test_zeep_non_soap_answer_is_the_librarys_own(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap(wsdl=decoy_wsdl(soap_server, '1.1'))
    item.conn.client  # noqa: B018 - the WSDL is fetched before the server turns to canned answers
    soap_server.answer(502, b'<html><body>Bad Gateway</body></html>', 'text/html')
    with pytest.raises(NotSOAPResponse) as raised:
        item.conn.client.service.hello('x')
    assert raised.value.status_code == 502 and 'Bad Gateway' in raised.value.body_start


def test_documents_from_other_hosts_get_no_credentials(make_soap: Make, soap_server: SOAPServer,
                                                       http_server: RecordingServer) -> None:
    # A stored WSDL importing a schema from another server: that server must not see the credentials.
    wsdl = f'''<?xml version="1.0"?>
        <definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
                     targetNamespace="urn:t">
          <types><xsd:schema targetNamespace="urn:t">
            <xsd:import namespace="urn:other" schemaLocation="{http_server.url}/other.xsd"/>
          </xsd:schema></types>
        </definitions>'''
    item = make_soap(wsdl=wsdl, security={'name': 'creds', 'sec_type': 'basic_auth', 'username': 'alice',
                                          'secret': 's3cret'})
    with pytest.raises(WSDLError):
        _ = item.conn.client
    seen = http_server.recorder.last
    assert seen.path == '/other.xsd' and 'Authorization' not in seen.headers

    # The connection's own host still gets them, for its WSDL and everything under it.
    trusted = make_soap('Trusted', wsdl=decoy_wsdl(soap_server, '1.1'), security={
        'name': 'creds2', 'sec_type': 'basic_auth', 'username': 'alice', 'secret': 's3cret'})
    _ = trusted.conn.client
    assert soap_server.requests[-1].headers['Authorization'].startswith('Basic ')
