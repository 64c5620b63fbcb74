"""Services and the runtime that invokes them: a service calls a connection by name, and each call has a cid."""

from __future__ import annotations

from typing import Any

from zato_outconn import OutconnConfig, Runtime, SecurityConfig, Service


class GetCustomer(Service):
    def handle(self) -> None:
        crm = self.outgoing.plain_http.get('CRM Customer Profile')
        response = crm.conn.get(self.cid, {'cust_id': self.request.payload['cust_id'], 'type_id': 2})
        self.response.payload = response.json()


def test_service_calls_a_connection_by_name(runtime: Runtime, http_server: Any) -> None:
    runtime.store.create_security(SecurityConfig(name='crm-creds', sec_type='basic_auth', username='alice',
                                                 secret='s3cret'))
    runtime.store.create_outconn(OutconnConfig(name='CRM Customer Profile', host=http_server.url,
                                               url_path='/customers/{cust_id}', security='crm-creds'))
    payload = runtime.invoke(GetCustomer, payload={'cust_id': 1}, cid='cid-svc')
    assert payload['path'] == '/customers/1?type_id=2'
    assert payload['headers']['X-Zato-CID'] == 'cid-svc'
    assert payload['headers']['Authorization'].startswith('Basic ')


def test_invoke_generates_a_cid(runtime: Runtime) -> None:
    class Echo(Service):
        def handle(self) -> None:
            self.response.payload = {'cid': self.cid, 'payload': self.request.payload,
                                     'logger': self.logger.name}

    first, second = runtime.invoke(Echo, {'a': 1}), runtime.invoke(Echo)
    assert len(first['cid']) == 32 and first['cid'] != second['cid']
    assert first['payload'] == {'a': 1} and second['payload'] is None
    assert first['logger'].endswith('Echo')
