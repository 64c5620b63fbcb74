"""What the server receives is the same on both send paths: each header's name as set, and its value."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.servers import RecordingServer

_CREDENTIALS = {'name': 'crm-creds', 'sec_type': 'basic_auth', 'username': 'alice', 'secret': 'alice-pw'}


def test_every_header_arrives_named_as_it_was_set(make_conn: Any, http_server: RecordingServer) -> None:
    item = make_conn(security=_CREDENTIALS)
    # A caller's header in a case of its own, one that replaces a default in another case, and one removed.
    response = item.conn.get('cid-1', headers={'X-Trace-ID': 'abc', 'accept': 'application/json',
                                               'Connection': None})
    assert response.status_code == 200
    seen = http_server.recorder.last.headers
    assert seen['X-Trace-ID'] == 'abc'
    assert seen['X-Zato-CID'] == 'cid-1'
    assert seen['Authorization'] == 'Basic ' + base64.b64encode(b'alice:alice-pw').decode()
    assert {name.lower() for name in seen} == {
        'host', 'user-agent', 'accept', 'accept-encoding', 'x-zato-cid', 'x-zato-component', 'x-zato-msg-ts',
        'authorization', 'x-trace-id'}
    # The caller's spelling wins over the default's, and nothing is sent twice.
    assert [name for name in seen if name.lower() == 'accept'] == ['accept']
    assert seen['accept'] == 'application/json'


def test_a_body_is_sent_with_its_length(make_conn: Any, http_server: RecordingServer) -> None:
    item = make_conn(data_format='none', content_type='text/plain')
    item.conn.post('cid-2', 'hello')
    assert http_server.recorder.last.headers['Content-Length'] == '5'
    assert http_server.recorder.last.body == b'hello'
    assert 'Transfer-Encoding' not in http_server.recorder.last.headers
