"""The registry as service code sees it, and changes reaching the registry.

Services and ``Runtime.invoke`` have tests of their own in ``tests/runtime/``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from zato_outconn import NotFound, OutconnConfig, Runtime, SecretsError, SecurityConfig
from zato_outconn.store.secret_box import KEYS_ENV


def test_get_returns_none_and_brackets_raise_naming_it(runtime: Runtime) -> None:
    assert runtime.outgoing.plain_http.get('Nope') is None
    with pytest.raises(KeyError) as raised:
        runtime.outgoing.plain_http['Nope']
    assert isinstance(raised.value, NotFound)
    assert str(raised.value) == "No plain_http connection named 'Nope'"


def test_item_config_is_read_only(make_conn: Any) -> None:
    item = make_conn(read_timeout=3)
    assert item.config.read_timeout == 3.0 and item.config.name == 'CRM'
    with pytest.raises(AttributeError):
        item.config.read_timeout = 1  # type: ignore[misc]


def test_edits_reach_the_registry_at_once(runtime: Runtime, make_conn: Any, http_server: Any) -> None:
    old = make_conn(url_path='/v1')
    runtime.store.edit_outconn('plain_http', 'CRM', {'url_path': '/v2', 'name': 'CRM v2'})
    assert runtime.outgoing.plain_http.get('CRM') is None
    runtime.outgoing.plain_http['CRM v2'].conn.get('cid-1')
    assert http_server.recorder.last.path == '/v2'
    # The old item's session was closed once it had no calls in flight.
    assert old.conn._opened is None

    runtime.store.delete_outconn('plain_http', 'CRM v2')
    assert 'CRM v2' not in runtime.outgoing.plain_http and len(runtime.outgoing.plain_http) == 0


def test_session_is_lazy_and_sized_by_pool_size(make_conn: Any) -> None:
    item = make_conn(pool_size=7)
    assert item.conn._opened is None
    adapter = item.conn.session.get_adapter('http://x')
    assert adapter._pool_maxsize == 7 and adapter._pool_block is True
    assert item.conn.session.trust_env is False


def test_connection_retired_mid_call_finishes_the_call(runtime: Runtime, make_conn: Any) -> None:
    item = make_conn(url_path='/sleep/0.3')
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(item.conn.get('cid-1').status_code))
    worker.start()
    while item.conn._inflight == 0:
        threading.Event().wait(0.01)
    runtime.store.edit_outconn('plain_http', 'CRM', {'read_timeout': 5})
    worker.join()
    assert results == [200]
    assert item.conn._opened is None
    assert runtime.outgoing.plain_http['CRM'].config.read_timeout == 5.0


def test_soap_and_plain_http_are_separate(runtime: Runtime, http_server: Any) -> None:
    for transport in ('plain_http', 'soap'):
        runtime.store.create_outconn(OutconnConfig(name='Same', host=http_server.url, transport=transport))
    assert runtime.outgoing.plain_http['Same'].config.transport == 'plain_http'
    assert runtime.outgoing.soap['Same'].config.transport == 'soap'


def test_undecryptable_secret_fails_only_its_connections(sqlite_url: str, http_server: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    with Runtime(sqlite_url) as runtime:
        runtime.store.create_security(SecurityConfig(name='tok', sec_type='bearer', secret='T'))
        runtime.store.create_outconn(OutconnConfig(name='Secured', host=http_server.url, security='tok'))
        runtime.store.create_outconn(OutconnConfig(name='Open', host=http_server.url))

    monkeypatch.setenv(KEYS_ENV, Fernet.generate_key().decode())
    with Runtime(sqlite_url) as runtime:
        assert runtime.outgoing.plain_http['Open'].conn.get('cid-1').status_code == 200
        with pytest.raises(SecretsError, match="'Secured'"):
            runtime.outgoing.plain_http['Secured'].conn.get('cid-1')
    assert len(http_server.recorder.requests) == 1


def test_an_item_replaced_before_its_first_use_still_calls_then_closes(runtime: Runtime, http_server: Any) -> None:
    runtime.store.create_outconn(OutconnConfig(name='CRM', host=http_server.url, url_path='/old'))
    held = runtime.outgoing.plain_http['CRM']
    runtime.store.edit_outconn('plain_http', 'CRM', {'url_path': '/new'})
    # Service code that looked the item up before the edit still gets its call through, on the old
    # settings, and the connection closes its session after it, as a retired one does.
    assert held.conn.get('cid-1').status_code == 200
    assert held.conn._opened is None
    runtime.outgoing.plain_http['CRM'].conn.get('cid-2')
    assert [request.path for request in http_server.recorder.requests] == ['/old', '/new']


def test_threads_using_an_item_first_at_once_share_one_connection(runtime: Runtime, http_server: Any) -> None:
    runtime.store.create_security(SecurityConfig(name='basic', sec_type='basic_auth', username='u', secret='pw-1'))
    runtime.store.create_outconn(OutconnConfig(name='CRM', host=http_server.url, security='basic'))
    item = runtime.outgoing.plain_http['CRM']
    start = threading.Barrier(16)
    seen: list[int] = []

    def first_use() -> None:
        start.wait()
        seen.append(id(item.conn))
        item.conn.get('cid-1')

    workers = [threading.Thread(target=first_use) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(seen) == 16 and len(set(seen)) == 1
    assert {request.headers['Authorization'] for request in http_server.recorder.requests} == {'Basic dTpwdy0x'}
