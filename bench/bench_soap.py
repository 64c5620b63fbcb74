"""How much one SOAP call costs through zato-outconn's ``conn.invoke``, next to a bare zeep client.

Run from the project folder:

    python bench/bench_soap.py                  # 5000 calls per client, a table
    python bench/bench_soap.py --calls 20000 --json

It starts a local keep-alive HTTP server in a child process (see ``harness.LocalServer``) that
serves a hand-written WSDL on GET (``/bank?wsdl``, its soap:address pointing back at the server)
and answers every POST with the same SOAP 1.1 response of its one document/literal operation,
``GetBalance(account: string) -> balance: decimal``. The same call is then made two ways, in
interleaved rounds:

- ``zato-outconn``: ``conn.invoke(cid, body)`` on a soap connection created the way a user would
  (SQLite database, the operation's SOAPAction, all X-Zato headers on), with the GetBalance
  element as text: the body is parsed, wrapped in an envelope, posted, and the answer is parsed
  and checked for a Fault, which gives the GetBalanceResponse element;
- ``zeep``: ``client.service.GetBalance(account)`` on a ``zeep.Client`` built from the WSDL URL
  with zeep's own default transport (a requests session), which gives the balance as a Decimal.

For each it prints the median wall time per call and the client process's CPU time per call (taken
around each round of calls; the server's CPU is another process's and is not counted), the ratios
of zato-outconn to zeep for both, and whether zato-outconn costs less than zeep per call on both
(the target: each ratio below 1.0). Timings are not asserted: the exit status is 0 unless
something fails.
"""

from __future__ import annotations

import logging
import platform
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml
import requests
import zeep

from zato_outconn import OutconnConfig, Runtime
from zato_outconn.runtime.context import new_cid
from zato_outconn.soap.connection import SOAPConnection

from harness import (
    SERVER_URL_MARK,
    Client,
    LocalServer,
    Reply,
    Target,
    Timing,
    build_parser,
    fresh_runtime,
    measure,
    report,
)

TITLE = 'SOAP call: zato-outconn conn.invoke vs a zeep client'
CONNECTION = 'Bench Bank Balance'
NAMESPACE = 'http://example.com/bench/bank'
ACTION = f'{NAMESPACE}/GetBalance'
URL_PATH = '/bank'
ACCOUNT = 'ACC-0001-2345'
BALANCE = Decimal('1234.56')
XML = 'text/xml; charset=utf-8'

# What a caller of conn.invoke passes: the operation's element, which the connection wraps.
REQUEST = f'<b:GetBalance xmlns:b="{NAMESPACE}"><b:account>{ACCOUNT}</b:account></b:GetBalance>'

WSDL = Reply(f'''<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
                  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
                  xmlns:xsd="http://www.w3.org/2001/XMLSchema"
                  xmlns:tns="{NAMESPACE}"
                  targetNamespace="{NAMESPACE}" name="Bank">
  <wsdl:types>
    <xsd:schema targetNamespace="{NAMESPACE}" elementFormDefault="qualified">
      <xsd:element name="GetBalance">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="account" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="GetBalanceResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="balance" type="xsd:decimal"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="GetBalanceInput">
    <wsdl:part name="parameters" element="tns:GetBalance"/>
  </wsdl:message>
  <wsdl:message name="GetBalanceOutput">
    <wsdl:part name="parameters" element="tns:GetBalanceResponse"/>
  </wsdl:message>
  <wsdl:portType name="BankPortType">
    <wsdl:operation name="GetBalance">
      <wsdl:input message="tns:GetBalanceInput"/>
      <wsdl:output message="tns:GetBalanceOutput"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="BankBinding" type="tns:BankPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetBalance">
      <soap:operation soapAction="{ACTION}" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="BankService">
    <wsdl:port name="BankPort" binding="tns:BankBinding">
      <soap:address location="{SERVER_URL_MARK.decode('ascii')}{URL_PATH}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
'''.encode('utf-8'), content_type=XML)

ANSWER = Reply(f'''<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>\
<b:GetBalanceResponse xmlns:b="{NAMESPACE}"><b:balance>{BALANCE}</b:balance></b:GetBalanceResponse>\
</soap:Body></soap:Envelope>'''.encode('utf-8'), content_type=XML)

# Less than zeep per call, in wall time and in CPU time; 0.7 is where a profile stops paying off.
TARGETS = (
    Target(subject='zato-outconn', peer='zeep', limit=1.0, aim=0.7, strict=True),
    Target(subject='zato-outconn', peer='zeep', limit=1.0, aim=0.7, metric='cpu_median_us', strict=True),
)


@dataclass(frozen=True)
class Contenders:
    """The two ways of making the call, ready to call the server."""

    zato: SOAPConnection
    zeep: zeep.Client
    wsdl_url: str

    def clients(self) -> list[Client]:
        cid, zato, client = new_cid(), self.zato, self.zeep
        return [
            Client('zato-outconn', lambda: zato.invoke(cid, REQUEST)),
            Client('zeep', lambda: client.service.GetBalance(ACCOUNT)),
        ]


def main() -> None:
    options = build_parser(TITLE).parse_args()
    logging.basicConfig(level=logging.WARNING)
    with ExitStack() as stack:
        # GET is the WSDL; every POST, whatever it asks, gets the GetBalance answer.
        server = stack.enter_context(LocalServer(ANSWER, {'GET': WSDL}))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix='zato-outconn-bench-')))
        contenders = stack.enter_context(open_contenders(server, folder))
        check(contenders, server)
        timings = measure(contenders.clients(), calls=options.calls, round_size=options.round_size,
                          warmup=options.warmup, cpu=True)
    details = _details(contenders.wsdl_url, timings, options.round_size)
    report(TITLE, timings, TARGETS, as_json=options.json, details=details)


@contextmanager
def open_contenders(server: LocalServer, folder: Path) -> Iterator[Contenders]:
    """Both clients, pointed at ``server``; both are closed on the way out."""
    with ExitStack() as stack:
        runtime = stack.enter_context(create_runtime(folder, server.url))
        conn = runtime.outgoing.soap[CONNECTION].conn
        assert isinstance(conn, SOAPConnection)
        wsdl_url = f'{server.url}{URL_PATH}?wsdl'
        client = stack.enter_context(zeep.Client(wsdl_url))
        yield Contenders(conn, client, wsdl_url)


def create_runtime(folder: Path, host: str) -> Runtime:
    """A runtime on a new SQLite database holding the benchmark's SOAP connection."""

    def create(runtime: Runtime) -> None:
        runtime.store.create_outconn(OutconnConfig(name=CONNECTION, transport='soap', host=host,
                                                   url_path=URL_PATH, soap_action=ACTION))

    return fresh_runtime(folder, create)


def check(contenders: Contenders, server: LocalServer) -> None:
    """Fail before timing anything unless both clients post the same operation and read the same balance."""
    cid = new_cid()
    address = server.url + URL_PATH

    element = contenders.zato.invoke(cid, REQUEST)
    text = element.findtext(f'{{{NAMESPACE}}}balance') if element is not None else None
    if element is None or element.tag != f'{{{NAMESPACE}}}GetBalanceResponse' or text is None:
        raise RuntimeError(f'zato-outconn did not read a GetBalanceResponse with a balance: {element!r}')
    zato_balance = Decimal(text)

    # What zeep sends, seen through a hook on its own session for this one call.
    seen: list[requests.Response] = []

    def keep(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        seen.append(response)

    hooks = contenders.zeep.transport.session.hooks['response']
    hooks.append(keep)
    try:
        zeep_balance = contenders.zeep.service.GetBalance(ACCOUNT)
    finally:
        hooks.remove(keep)
    if not zato_balance == zeep_balance == BALANCE:
        raise RuntimeError(f'zato-outconn read {zato_balance!r}, zeep {zeep_balance!r}; both should read '
                           f'{BALANCE!r}')

    sent_by_zato = contenders.zato.post(cid, REQUEST)
    requests_sent = [('zato-outconn', sent_by_zato), *(('zeep', response) for response in seen)]
    if len(requests_sent) != 2:
        raise RuntimeError(f'zeep made {len(seen)} requests for one call; it should make one')
    for name, response in requests_sent:
        sent = response.request
        if sent.method != 'POST' or response.url != address or response.status_code != 200:
            raise RuntimeError(f'{name} sent {sent.method} {response.url} (HTTP {response.status_code}); '
                               f'both should POST to {address}')
        if sent.headers.get('SOAPAction') != f'"{ACTION}"':
            raise RuntimeError(f'{name} sent SOAPAction {sent.headers.get("SOAPAction")!r}; '
                               f'both should send "{ACTION}"')
        if ACCOUNT.encode('ascii') not in (sent.body or b''):
            raise RuntimeError(f'{name} did not send the account number in its request')
    if sent_by_zato.request.headers.get('X-Zato-CID') != cid:
        raise RuntimeError('zato-outconn did not send the X-Zato-CID header the benchmark is about')


def _details(wsdl_url: str, timings: list[Timing], round_size: int) -> dict[str, object]:
    return {'wsdl': wsdl_url, 'calls_per_client': timings[0].calls, 'round_size': round_size,
            'cpu': 'client process CPU time per call (user + system), median of the rounds',
            'python': platform.python_version(), 'zeep': zeep.__version__, 'lxml': lxml.__version__,
            'requests': requests.__version__}


if __name__ == '__main__':
    main()
