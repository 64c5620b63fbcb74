"""SOAP connections against a real spyne server: envelopes, headers, faults, charsets, WS-Security."""

from __future__ import annotations

import base64
import codecs
import copy
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import text

from zato_outconn import (
    ConfigError,
    NotSOAPResponse,
    OutconnConfig,
    RequestError,
    Runtime,
    SecurityConfig,
    SOAPFault,
    Store,
)
from zato_outconn.security.wsse import UsernameToken
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.schema import upgrade

from tests.support.soap_fixtures import PATHS
from tests.support.soap_server import SOAP_NS, TNS, WSSE, WSU, SeenRequest, SOAPServer

Make = Callable[..., Any]

SOAP11, SOAP12 = SOAP_NS['1.1'], SOAP_NS['1.2']
PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
BASE64_BINARY = ('http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0'
                 '#Base64Binary')
NON_ASCII = 'Zażółć gęślą jaźń ✓'
VERSIONS = pytest.mark.parametrize('version', ['1.1', '1.2'])


def echo(text: str = 'hi', times: int = 1) -> str:
    return f'<echo xmlns="{TNS}"><text>{text}</text><times>{times}</times></echo>'


def echoed(result: etree._Element | None) -> str | None:
    assert result is not None and result.tag == f'{{{TNS}}}echoResponse'
    return result.findtext(f'{{{TNS}}}echoResult')


def c14n(element: etree._Element | bytes | str) -> bytes:
    """Canonical XML; for an element inside a document, exclusive, so that only what it uses counts."""
    if not isinstance(element, etree._Element):
        element = etree.fromstring(element.encode() if isinstance(element, str) else element)
    return etree.tostring(element, method='c14n', exclusive=element.getparent() is not None)


def security_of(seen: SeenRequest, version: str) -> etree._Element:
    security = seen.envelope.find(f'{{{SOAP_NS[version]}}}Header/{{{WSSE}}}Security')
    assert security is not None, seen.body
    return security


def wss(password_type: str = 'digest', **settings: Any) -> dict[str, Any]:
    return {'name': 'partner-wss', 'sec_type': 'wss', 'username': 'alice', 'secret': 'Zażółć s3cret',
            'password_type': password_type, **settings}


def envelope_text(version: str, body: str) -> str:
    return f'<soap:Envelope xmlns:soap="{SOAP_NS[version]}"><soap:Body>{body}</soap:Body></soap:Envelope>'


def signed(token: UsernameToken, version: str = '1.1', body: str | None = None) -> bytes:
    """A whole envelope carrying the UsernameToken, as a client with frozen time would send it."""
    envelope = etree.fromstring(envelope_text(version, body or echo()))
    token.apply(envelope, version)
    return etree.tostring(envelope)


# ---------------------------------------------------------------------- the server is strict


@pytest.mark.parametrize(('path', 'headers', 'status'), [
    ('/soap11', {'Content-Type': 'application/soap+xml; charset=utf-8', 'SOAPAction': '""'}, 415),
    ('/soap11', {'Content-Type': 'text/xml; charset=utf-8', 'SOAPAction': 'urn:echo'}, 400),
    ('/soap11', {'Content-Type': 'text/xml; charset=utf-8'}, 400),
    ('/soap12', {'Content-Type': 'text/xml; charset=utf-8', 'SOAPAction': '""'}, 415),
    ('/soap12', {'Content-Type': 'application/soap+xml; charset=utf-8; action="None"'}, 400),
    ('/soap12', {'Content-Type': 'application/soap+xml; charset=utf-8; action=None'}, 400),
])
def test_server_refuses_what_a_strict_server_would(soap_server: SOAPServer, path: str,
                                                  headers: dict[str, str], status: int) -> None:
    # The header tests below mean something only if the server tells right from wrong.
    version = '1.1' if path == '/soap11' else '1.2'
    with requests.post(soap_server.url + path, data=envelope_text(version, echo()).encode(),
                       headers=headers, timeout=5) as response:
        assert response.status_code == status and b'Envelope' not in response.content
    headers = {**headers, 'Content-Type': {'1.1': 'text/xml', '1.2': 'application/soap+xml'}[version],
               'SOAPAction': '"x"'}
    with requests.post(soap_server.url + path, data=envelope_text(version, echo()).encode(),
                       headers=headers, timeout=5) as response:
        assert response.status_code == 200 and b'echoResult' in response.content


# ---------------------------------------------------------------------- envelopes and headers


@VERSIONS
def test_invoke_round_trips_through_spyne(make_soap: Make, soap_server: SOAPServer, version: str) -> None:
    item = make_soap(version=version, soap_action='urn:echo')
    result = item.conn.invoke('cid-1', echo('abc', 2))
    assert echoed(result) == 'abcabc'

    seen = soap_server.last
    assert (seen.method, seen.path) == ('POST', PATHS[version])
    body = seen.envelope.find(f'{{{SOAP_NS[version]}}}Body')
    assert seen.envelope.tag == f'{{{SOAP_NS[version]}}}Envelope' and body is not None
    assert c14n(body[0]) == c14n(echo('abc', 2))
    if version == '1.1':
        assert seen.headers['Content-Type'] == 'text/xml; charset=utf-8'
        assert seen.headers['SOAPAction'] == '"urn:echo"'
    else:
        assert seen.headers['Content-Type'] == 'application/soap+xml; charset=utf-8; action="urn:echo"'
        assert 'SOAPAction' not in seen.headers


@VERSIONS
def test_no_action_is_empty_quotes_or_no_parameter(make_soap: Make, soap_server: SOAPServer,
                                                   version: str) -> None:
    item = make_soap(version=version)
    assert echoed(item.conn.invoke('cid-1', echo())) == 'hi'
    headers = soap_server.last.headers
    if version == '1.1':
        assert headers['SOAPAction'] == '""'
    else:
        assert headers['Content-Type'] == 'application/soap+xml; charset=utf-8'
        assert 'None' not in headers['Content-Type'] and 'SOAPAction' not in headers


@VERSIONS
def test_per_call_action_overrides_the_template(make_soap: Make, soap_server: SOAPServer,
                                                version: str) -> None:
    item = make_soap(version=version, soap_action='urn:template')
    item.conn.post('cid-1', echo(), action='urn:per-call')
    headers = soap_server.last.headers
    if version == '1.1':
        assert headers['SOAPAction'] == '"urn:per-call"'
    else:
        assert headers['Content-Type'].endswith('; action="urn:per-call"')


def test_action_with_a_quote_is_refused_before_sending(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap()
    with pytest.raises(RequestError, match='action'):
        item.conn.post('cid-1', echo(), action='urn:"x"')
    assert soap_server.requests == []


def test_post_and_send_return_responses(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap()
    for call in (item.conn.post, item.conn.send):
        response = call('cid-1', echo('x'))
        assert isinstance(response, requests.Response) and response.status_code == 200
        assert b'<tns:echoResult>x</tns:echoResult>' in response.content
    assert [seen.method for seen in soap_server.requests] == ['POST', 'POST']


LATIN_1 = '<?xml version="1.0" encoding="ISO-8859-1"?>'
UTF_8 = '<?xml version="1.0" encoding="utf-8"?>'


@pytest.mark.parametrize(('body', 'sent'), [
    (echo(NON_ASCII), NON_ASCII),
    (echo(NON_ASCII).encode('utf-8'), NON_ASCII),
    # A declaration naming another encoding: a str is text already, bytes are read as declared.
    (LATIN_1 + echo(NON_ASCII), NON_ASCII),
    ((LATIN_1 + echo('Grüße aus Köln')).encode('latin-1'), 'Grüße aus Köln'),
    # Documents that open with a byte order mark, as editors on Windows write them.
    (codecs.BOM_UTF8 + (UTF_8 + echo(NON_ASCII)).encode('utf-8'), NON_ASCII),
    (('<?xml version="1.0" encoding="utf-16"?>' + echo(NON_ASCII)).encode('utf-16'), NON_ASCII),
    ('\ufeff' + echo(NON_ASCII), NON_ASCII),
], ids=['str', 'utf-8', 'declared-str', 'declared-latin-1', 'utf-8-bom', 'utf-16', 'bom-str'])
def test_non_ascii_arrives_intact_as_utf8(make_soap: Make, soap_server: SOAPServer, body: str | bytes,
                                          sent: str) -> None:
    item = make_soap()
    assert echoed(item.conn.invoke('cid-1', body)) == sent
    assert sent.encode('utf-8') in soap_server.last.body


@VERSIONS
@pytest.mark.parametrize('prologue', ['', '<?xml version="1.0" encoding="utf-8"?>\n', '<!-- generated -->\n',
                                      '<?xml version="1.0"?><!-- generated --><?app note?>'],
                         ids=['bare', 'declaration', 'comment', 'declaration-comment-pi'])
def test_whole_envelope_is_sent_unchanged(make_soap: Make, soap_server: SOAPServer, version: str,
                                          prologue: str) -> None:
    envelope = (f'<env:Envelope xmlns:env="{SOAP_NS[version]}" xmlns:h="urn:h"><env:Header>'
                f'<h:Trace id="7">kept</h:Trace></env:Header>'
                f'<env:Body>{echo("whole")}</env:Body></env:Envelope>')
    item = make_soap(version=version)
    assert echoed(item.conn.invoke('cid-1', prologue + envelope)) == 'whole'
    assert c14n(soap_server.last.body) == c14n(envelope)


def test_whole_envelope_keeps_its_own_version_and_headers(make_soap: Make, soap_server: SOAPServer) -> None:
    # A 1.1 template sent a 1.2 envelope: the headers describe what is sent, so the 1.2 endpoint takes it.
    item = make_soap(url_path='/soap12', soap_action='urn:a')
    assert echoed(item.conn.invoke('cid-1', envelope_text('1.2', echo('v')))) == 'v'
    assert soap_server.last.headers['Content-Type'] == 'application/soap+xml; charset=utf-8; action="urn:a"'


def test_element_body_is_wrapped_and_left_untouched(make_soap: Make, soap_server: SOAPServer) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret')
    element = etree.fromstring(echo(NON_ASCII))
    before = c14n(element)
    item = make_soap(security=wss())
    assert echoed(item.conn.invoke('cid-1', element)) == NON_ASCII
    assert c14n(element) == before and element.getparent() is None
    assert element.find(f'.//{{{WSSE}}}Security') is None


@pytest.mark.parametrize('body', [
    echo().replace('</text>', ''),
    'plain text, no XML',
    '<echo xmlns="urn:x">',
    b'<echo>\xff\xfe</echo>',
    '<?xml version="1.0"?><a/><b/>',
    '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
])
def test_malformed_body_is_refused_before_sending(make_soap: Make, soap_server: SOAPServer,
                                                  body: str | bytes) -> None:
    item = make_soap(security=wss())
    for call in (item.conn.post, item.conn.invoke):
        with pytest.raises(RequestError) as raised:
            call('cid-9', body)
        assert "'CRM SOAP'" in str(raised.value) and 'cid-9' in str(raised.value)
    assert soap_server.requests == []


@pytest.mark.parametrize('body', [{'a': 1}, 42, etree.ElementTree(etree.fromstring(echo()))])
def test_body_of_another_type_is_refused_before_sending(make_soap: Make, soap_server: SOAPServer,
                                                        body: object) -> None:
    with pytest.raises(RequestError, match='SOAP body must be'):
        make_soap().conn.post('cid-1', body)
    assert soap_server.requests == []


def test_zato_headers_on_soap_requests(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap()
    item.conn.invoke('cid-soap-1', echo())
    headers = soap_server.last.headers
    assert headers['X-Zato-CID'] == 'cid-soap-1'
    assert headers['X-Zato-Component'].startswith('parallel/esb1/')
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}', headers['X-Zato-Msg-TS'])


@pytest.mark.parametrize('ping_method', ['HEAD', 'POST'])
def test_basic_auth_applies_to_soap_as_to_plain_http(make_soap: Make, soap_server: SOAPServer,
                                                     ping_method: str) -> None:
    item = make_soap(ping_method=ping_method,
                     security={'name': 'basic', 'sec_type': 'basic_auth', 'username': 'bob', 'secret': 'pw'})
    item.conn.invoke('cid-1', echo())
    assert item.conn.ping('cid-2').ok
    expected = 'Basic ' + base64.b64encode(b'bob:pw').decode()
    assert [seen.headers['Authorization'] for seen in soap_server.requests] == [expected, expected]
    assert soap_server.requests[0].envelope.find(f'{{{SOAP11}}}Header') is None


def test_bearer_applies_to_soap(make_soap: Make, soap_server: SOAPServer) -> None:
    item = make_soap(security={'name': 'tok', 'sec_type': 'bearer', 'secret': 'eyJ.abc'})
    item.conn.post('cid-1', echo())
    assert soap_server.last.headers['Authorization'] == 'Bearer eyJ.abc'


# ---------------------------------------------------------------------- answers: faults and charsets


@VERSIONS
def test_spyne_fault_is_raised_with_its_parts(make_soap: Make, version: str) -> None:
    item = make_soap(version=version)
    with pytest.raises(SOAPFault) as raised:
        item.conn.invoke('cid-7', f'<fail xmlns="{TNS}"><why>no stock</why></fail>')
    fault = raised.value
    assert (fault.status_code, fault.version) == (500, version)
    assert fault.reason == 'cannot do that: no stock'
    assert fault.actor == 'urn:zato-outconn:test:greeter'
    assert fault.detail is not None and fault.detail.findtext('why') == 'no stock'
    if version == '1.1':
        assert fault.code.endswith(':Client.InvalidInput') and fault.subcode is None
    else:
        assert fault.code.endswith(':Sender') and fault.subcode == 'InvalidInput'
    assert (fault.name, fault.cid) == ('CRM SOAP', 'cid-7') and 'cannot do that' in str(fault)


FAULT_12 = f'''<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="{SOAP12}" xmlns:m="urn:crm:faults">
  <env:Body>
    <env:Fault>
      <env:Code><env:Value>env:Sender</env:Value>
        <env:Subcode><env:Value>m:InvalidCustomer</env:Value></env:Subcode></env:Code>
      <env:Reason><env:Text xml:lang="en">No customer 42 — ¿seguro?</env:Text></env:Reason>
      <env:Role>urn:crm:gateway</env:Role>
      <env:Detail><m:Problem><m:CustomerId>42</m:CustomerId></m:Problem></env:Detail>
    </env:Fault>
  </env:Body>
</env:Envelope>'''

FAULT_11 = f'''<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Body><soapenv:Fault>
  <faultcode>soapenv:Client</faultcode><faultstring>No customer 42</faultstring>
  <faultactor>urn:crm:gateway</faultactor><detail><CustomerId>42</CustomerId></detail>
</soapenv:Fault></soapenv:Body></soapenv:Envelope>'''


@pytest.mark.parametrize('status', [500, 400, 200])
def test_soap12_fault_with_subcode_role_and_detail(make_soap: Make, soap_server: SOAPServer,
                                                   status: int) -> None:
    soap_server.answer(status, FAULT_12.encode('utf-8'), 'application/soap+xml; charset=utf-8')
    item = make_soap(version='1.2')
    with pytest.raises(SOAPFault) as raised:
        item.conn.invoke('cid-1', echo())
    fault = raised.value
    assert (fault.version, fault.status_code) == ('1.2', status)
    assert (fault.code, fault.subcode) == ('env:Sender', 'm:InvalidCustomer')
    assert fault.reason == 'No customer 42 — ¿seguro?'
    assert fault.actor == 'urn:crm:gateway'
    assert fault.detail.findtext('{urn:crm:faults}Problem/{urn:crm:faults}CustomerId') == '42'


@pytest.mark.parametrize('status', [500, 400])
def test_soap11_fault_on_any_status(make_soap: Make, soap_server: SOAPServer, status: int) -> None:
    soap_server.answer(status, FAULT_11.encode(), 'text/xml; charset=utf-8')
    with pytest.raises(SOAPFault) as raised:
        make_soap().conn.invoke('cid-1', echo())
    fault = raised.value
    assert (fault.version, fault.status_code) == ('1.1', status)
    assert (fault.code, fault.subcode) == ('soapenv:Client', None)
    assert (fault.reason, fault.actor) == ('No customer 42', 'urn:crm:gateway')
    assert fault.detail.findtext('CustomerId') == '42'


@pytest.mark.parametrize('page', [
    b'<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><hr><p>nginx</p></body>'
    b'</html>',
    b'<html><body><h1>502 Bad Gateway</h1></body></html>',
])
def test_html_error_page_is_not_soap(make_soap: Make, soap_server: SOAPServer, page: bytes) -> None:
    soap_server.answer(502, page, 'text/html')
    with pytest.raises(NotSOAPResponse) as raised:
        make_soap().conn.invoke('cid-1', echo())
    assert raised.value.status_code == 502
    assert raised.value.body_start.startswith('<html>') and 'Bad Gateway' in raised.value.body_start
    assert '502' in str(raised.value)


@pytest.mark.parametrize('status', [200, 202])
def test_empty_answer_of_a_one_way_operation_is_none(make_soap: Make, soap_server: SOAPServer,
                                                     status: int) -> None:
    soap_server.answer(status, b'', 'text/xml; charset=utf-8')
    assert make_soap().conn.invoke('cid-1', echo()) is None


def test_latin1_answer_is_decoded_by_its_charset(make_soap: Make, soap_server: SOAPServer) -> None:
    greeting = 'Grüße aus Köln, señor'
    answer = envelope_text('1.1', f'<r:greeting xmlns:r="urn:r">{greeting}</r:greeting>').encode('latin-1')
    assert b'\xfc' in answer and not answer.startswith(b'<?xml')
    soap_server.answer(200, answer, 'text/xml; charset=iso-8859-1')
    result = make_soap().conn.invoke('cid-1', echo())
    assert result is not None and (result.tag, result.text) == ('{urn:r}greeting', greeting)


def test_unknown_charset_leaves_it_to_the_xml_declaration(make_soap: Make, soap_server: SOAPServer) -> None:
    answer = ('<?xml version="1.0" encoding="utf-8"?>' + envelope_text('1.1', '<r xmlns="urn:r">ż</r>'))
    soap_server.answer(200, answer.encode('utf-8'), 'text/xml; charset=unicode-1-1-utf-8')
    item = make_soap()
    result = item.conn.invoke('cid-1', echo())
    assert result is not None and result.text == 'ż'
    soap_server.answer(502, b'<html><body>Bad Gateway<br></body></html>', 'text/html; charset=x-unknown')
    with pytest.raises(NotSOAPResponse) as raised:
        item.conn.invoke('cid-2', echo())
    assert raised.value.status_code == 502 and 'Bad Gateway' in raised.value.body_start


# ---------------------------------------------------------------------- WS-Security


@VERSIONS
@pytest.mark.parametrize('password_type', ['text', 'digest'])
def test_username_token_on_every_soap_path(make_soap: Make, soap_server: SOAPServer, version: str,
                                           password_type: str) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret', password_type)
    item = make_soap(version=version, ping_method='POST', security=wss(password_type))
    conn = item.conn
    assert conn.post('cid-1', echo('a')).status_code == 200
    assert conn.send('cid-2', echo('b')).status_code == 200
    assert echoed(conn.invoke('cid-3', echo('c'))) == 'c'
    ping = conn.ping('cid-4')
    assert ping.ok, ping

    cids = [seen.headers['X-Zato-CID'] for seen in soap_server.requests]
    assert cids == ['cid-1', 'cid-2', 'cid-3', 'cid-4']
    ping_body = soap_server.last.envelope.find(f'{{{SOAP_NS[version]}}}Body')
    assert ping_body is not None and len(ping_body) == 0
    nonces = set()
    for seen in soap_server.requests:
        security = security_of(seen, version)
        assert security.get(f'{{{SOAP_NS[version]}}}mustUnderstand') == {'1.1': '1', '1.2': 'true'}[version]
        password = security.find(f'{{{WSSE}}}UsernameToken/{{{WSSE}}}Password')
        suffix = '#PasswordDigest' if password_type == 'digest' else '#PasswordText'
        assert password.get('Type') == PROFILE + suffix
        assert (password.text == 'Zażółć s3cret') is (password_type == 'text')
        nonce = security.findtext(f'{{{WSSE}}}UsernameToken/{{{WSSE}}}Nonce')
        assert len(base64.b64decode(nonce)) == 16
        nonces.add(nonce)
        created = datetime.fromisoformat(security.findtext(f'{{{WSSE}}}UsernameToken/{{{WSU}}}Created'))
        assert abs(datetime.now(timezone.utc) - created) < timedelta(seconds=30)
        assert security.find(f'{{{WSU}}}Timestamp') is None
    assert len(nonces) == 4


@VERSIONS
def test_wrong_password_is_refused_by_the_server(make_soap: Make, soap_server: SOAPServer,
                                                 version: str) -> None:
    soap_server.require_token('alice', 'another password', 'digest')
    item = make_soap(version=version, ping_method='POST', security=wss())
    with pytest.raises(SOAPFault) as raised:
        item.conn.invoke('cid-1', echo())
    assert raised.value.reason == 'wrong password'
    assert not item.conn.ping('cid-2').ok


def test_timestamp_has_the_configured_lifetime(make_soap: Make, soap_server: SOAPServer) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret', 'digest')
    item = make_soap(version='1.2', security=wss(timestamp_ttl=90))
    item.conn.invoke('cid-1', echo())
    security = security_of(soap_server.last, '1.2')
    timestamp = security.find(f'{{{WSU}}}Timestamp')
    assert timestamp is not None
    created = datetime.fromisoformat(timestamp.findtext(f'{{{WSU}}}Created'))
    expires = datetime.fromisoformat(timestamp.findtext(f'{{{WSU}}}Expires'))
    assert expires - created == timedelta(seconds=90)
    token_created = security.findtext(f'{{{WSSE}}}UsernameToken/{{{WSU}}}Created')
    assert timestamp.findtext(f'{{{WSU}}}Created') == token_created


FROZEN = datetime(2026, 11, 21, 7, 20, 1, 123456, tzinfo=timezone.utc)
NONCE = bytes(range(16))


@pytest.mark.parametrize(('version', 'must_understand'), [('1.1', '1'), ('1.2', 'true')])
@pytest.mark.parametrize('ttl', [None, 300])
def test_digest_matches_a_hand_computation(version: str, must_understand: str, ttl: int | None) -> None:
    config = SecurityConfig(**wss('digest', timestamp_ttl=ttl))
    token = UsernameToken(config, clock=lambda: FROZEN, nonce=lambda: NONCE)
    envelope = etree.fromstring(signed(token, version))

    created = '2026-11-21T07:20:01.123Z'
    digest = base64.b64encode(hashlib.sha1(NONCE + created.encode() + 'Zażółć s3cret'.encode()).digest())
    digest = digest.decode()
    timestamp = ('<wsu:Timestamp><wsu:Created>2026-11-21T07:20:01.123Z</wsu:Created>'
                 '<wsu:Expires>2026-11-21T07:25:01.123Z</wsu:Expires></wsu:Timestamp>') if ttl else ''
    expected = f'''<soap:Envelope xmlns:soap="{SOAP_NS[version]}"><soap:Header>
      <wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="{must_understand}">{timestamp}
        <wsse:UsernameToken>
          <wsse:Username>alice</wsse:Username>
          <wsse:Password Type="{PROFILE}#PasswordDigest">{digest}</wsse:Password>
          <wsse:Nonce EncodingType="{BASE64_BINARY}">AAECAwQFBgcICQoLDA0ODw==</wsse:Nonce>
          <wsu:Created>{created}</wsu:Created>
        </wsse:UsernameToken>
      </wsse:Security></soap:Header><soap:Body>{echo()}</soap:Body></soap:Envelope>'''
    parsed = etree.fromstring(expected, etree.XMLParser(remove_blank_text=True))
    assert c14n(envelope) == c14n(parsed)
    assert c14n(envelope.find(f'.//{{{WSSE}}}Security')) == c14n(parsed.find(f'.//{{{WSSE}}}Security'))


def test_password_text_token_by_hand() -> None:
    token = UsernameToken(SecurityConfig(**wss('text')), clock=lambda: FROZEN, nonce=lambda: NONCE)
    security = etree.fromstring(signed(token)).find(f'.//{{{WSSE}}}Security')
    password = security.find(f'{{{WSSE}}}UsernameToken/{{{WSSE}}}Password')
    assert (password.get('Type'), password.text) == (f'{PROFILE}#PasswordText', 'Zażółć s3cret')
    assert security.findtext(f'{{{WSSE}}}UsernameToken/{{{WSSE}}}Nonce') == 'AAECAwQFBgcICQoLDA0ODw=='


def frozen_token(moment: datetime, nonce: bytes) -> UsernameToken:
    return UsernameToken(SecurityConfig(**wss('digest')), clock=lambda: moment, nonce=lambda: nonce)


def test_replayed_nonce_is_refused(make_soap: Make, soap_server: SOAPServer) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret', 'digest')
    item = make_soap()  # no wss: the envelopes arrive signed already, and go as they are
    now = datetime.now(timezone.utc)
    message = signed(frozen_token(now, b'\x01' * 16))
    assert echoed(item.conn.invoke('cid-1', message)) == 'hi'
    with pytest.raises(SOAPFault) as raised:
        item.conn.invoke('cid-2', message)
    assert raised.value.reason == 'the nonce was used before'
    assert raised.value.code == 'wsse:FailedAuthentication'
    # The same moment with a fresh nonce is accepted: it was the nonce that was refused.
    assert echoed(item.conn.invoke('cid-3', signed(frozen_token(now, b'\x02' * 16)))) == 'hi'
    assert c14n(soap_server.requests[0].body) == c14n(message)


@pytest.mark.parametrize(('shift', 'reason'), [
    (timedelta(minutes=-10), 'Created is stale'),
    (timedelta(minutes=10), 'Created is in the future'),
])
def test_stale_or_future_created_is_refused(make_soap: Make, soap_server: SOAPServer, shift: timedelta,
                                            reason: str) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret', 'digest')
    item = make_soap(version='1.2')
    moment = datetime.now(timezone.utc) + shift
    with pytest.raises(SOAPFault) as raised:
        item.conn.invoke('cid-1', signed(frozen_token(moment, b'\x03' * 16), '1.2'))
    assert (raised.value.reason, raised.value.subcode) == (reason, 'wsse:FailedAuthentication')
    fresh = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert echoed(item.conn.invoke('cid-2', signed(frozen_token(fresh, b'\x04' * 16), '1.2'))) == 'hi'


@VERSIONS
def test_must_understand_of_the_other_version_is_refused(make_soap: Make, soap_server: SOAPServer,
                                                         version: str) -> None:
    soap_server.require_token('alice', 'Zażółć s3cret')
    message = etree.fromstring(signed(frozen_token(datetime.now(timezone.utc), b'\x05' * 16), version))
    wrong = copy.deepcopy(message)
    wrong.find(f'.//{{{WSSE}}}Security').set(f'{{{SOAP_NS[version]}}}mustUnderstand',
                                             {'1.1': 'true', '1.2': '1'}[version])
    item = make_soap(version=version)
    with pytest.raises(SOAPFault, match='mustUnderstand'):
        item.conn.invoke('cid-1', etree.tostring(wrong))
    # The same token with the version's own spelling passes: the nonce was not used up by the refusal.
    assert echoed(item.conn.invoke('cid-2', etree.tostring(message))) == 'hi'


def test_wss_is_refused_on_plain_http(runtime: Any, soap_server: SOAPServer) -> None:
    runtime.store.create_security(SecurityConfig(**wss()))
    with pytest.raises(ConfigError) as raised:
        runtime.store.create_outconn(OutconnConfig(name='REST', host=soap_server.url, security='partner-wss'))
    assert raised.value.field == 'security' and 'soap' in str(raised.value)
    runtime.store.create_outconn(OutconnConfig(name='REST', host=soap_server.url))
    with pytest.raises(ConfigError) as raised:
        runtime.store.edit_outconn('plain_http', 'REST', {'security': 'partner-wss'})
    assert raised.value.field == 'security'
    assert runtime.outgoing.plain_http['REST'].config.security is None


# ---------------------------------------------------------------------- migration


def test_rows_from_before_soap_settings_load_as_soap_11(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    try:
        upgrade(engine, '0001')
        now = datetime.now(timezone.utc)
        with engine.begin() as connection:
            connection.execute(text(
                'INSERT INTO outgoing_connection (transport, name, host, url_path, is_active, '
                'connect_timeout, read_timeout, pool_size, ping_method, data_format, validate_tls, '
                'follow_redirects, max_redirects, cid_header, component_header, msg_ts_header, version, '
                'created_at, updated_at) '
                "VALUES ('soap', 'Old SOAP', 'http://127.0.0.1:1', '/ws', :yes, 10.0, 10.0, 20, 'HEAD', "
                "'json', :yes, :no, 10, 'X-Zato-CID', 'X-Zato-Component', 'X-Zato-Msg-TS', 1, :now, :now)"),
                {'yes': True, 'no': False, 'now': now})
        upgrade(engine)
    finally:
        engine.dispose()

    store = Store(empty_db_url)
    try:
        config = store.get_outconn('soap', 'Old SOAP').config
        assert (config.transport, config.soap_version) == ('soap', '1.1')
        assert (config.soap_action, config.wsdl) == (None, None)
        (template,) = store.load_templates(transport='soap')
        assert template.config == config
    finally:
        store.close()


# ---------------------------------------------------------------------- action= of one call


@pytest.mark.parametrize('action', ['urn:a\nb', 'urn:"a"', 'urn:a\x00b', 'urn:a\rX-Evil: 1'])
def test_a_bad_action_is_refused_as_a_bad_soap_action_is(runtime: Runtime, http_server: Any, action: str) -> None:
    runtime.store.create_outconn(OutconnConfig(name='Bank', transport='soap', host=http_server.url))
    conn = runtime.outgoing.soap['Bank'].conn
    with pytest.raises(RequestError) as raised:
        conn.post('cid-1', '<a/>', action=action)
    assert raised.value.name == 'Bank' and raised.value.cid == 'cid-1'
    assert 'action: must be text without quotes or control characters' in raised.value.message
    assert http_server.recorder.requests == []
    # The template's soap_action is held to the same rule.
    with pytest.raises(ConfigError) as info:
        OutconnConfig(name='Bank', transport='soap', host=http_server.url, soap_action=action)
    assert info.value.rule.split(';')[0] == 'must be text without quotes or control characters'


def test_a_good_action_of_one_call_is_sent(runtime: Runtime, http_server: Any) -> None:
    runtime.store.create_outconn(OutconnConfig(name='Bank', transport='soap', host=http_server.url,
                                               soap_action='urn:Template'))
    runtime.outgoing.soap['Bank'].conn.post('cid-1', '<a/>', action='urn:Call')
    assert http_server.recorder.last.headers['SOAPAction'] == '"urn:Call"'
