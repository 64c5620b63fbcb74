"""The store's change feed on real SQLite and PostgreSQL: what subscribers are told, and when."""

from __future__ import annotations

import logging

import pytest

from zato_outconn import ConfigError, InUse, NotFound, Store
from zato_outconn.sync.changes import Change

from tests.support.configs import basic_auth, outconn


def test_subscriber_told_of_each_committed_change(store: Store, changes: list[Change]) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    store.edit_outconn('plain_http', 'CRM', {'name': 'CRM v2'})
    store.set_secret('CRM credentials', 'rotated')
    store.edit_outconn('plain_http', 'CRM v2', {'security': ''})
    store.delete_security('CRM credentials')
    store.delete_outconn('plain_http', 'CRM v2')
    assert changes == [
        Change('security', 'create', 'CRM credentials'),
        Change('outconn', 'create', 'CRM', 'plain_http'),
        Change('outconn', 'edit', 'CRM v2', 'plain_http', old_name='CRM'),
        Change('security', 'edit', 'CRM credentials', old_name='CRM credentials'),
        Change('outconn', 'edit', 'CRM v2', 'plain_http', old_name='CRM v2'),
        Change('security', 'delete', 'CRM credentials'),
        Change('outconn', 'delete', 'CRM v2', 'plain_http'),
    ]


def test_subscriber_sees_committed_data(store: Store, db_url: str) -> None:
    observed: list[int] = []

    def reload_from_another_store(change: Change) -> None:
        # A different engine, as another process would have: the write must already be committed.
        other = Store(db_url)
        try:
            observed.append(other.get_outconn('plain_http', change.name).version)
        finally:
            other.close()

    store.create_outconn(outconn())
    store.subscribe(reload_from_another_store)
    store.edit_outconn('plain_http', 'CRM', {'pool_size': 2})
    assert observed == [2]


def test_failing_write_notifies_nothing(store: Store, changes: list[Change]) -> None:
    store.create_security(basic_auth())
    store.create_outconn(outconn(security='CRM credentials'))
    changes.clear()
    with pytest.raises(ConfigError):
        store.create_outconn(outconn())
    with pytest.raises(ConfigError):
        store.create_outconn(outconn('New', security='Missing'))
    with pytest.raises(ConfigError):
        store.edit_outconn('plain_http', 'CRM', {'pool_size': -1})
    with pytest.raises(InUse):
        store.delete_security('CRM credentials')
    with pytest.raises(NotFound):
        store.delete_outconn('soap', 'CRM')
    assert changes == []


def test_unsubscribed_callback_not_called(store: Store, changes: list[Change]) -> None:
    store.unsubscribe(changes.append)
    store.create_outconn(outconn())
    assert changes == []


def test_failing_subscriber_does_not_undo_the_write(
        store: Store, changes: list[Change], caplog: pytest.LogCaptureFixture) -> None:
    def broken(change: Change) -> None:
        raise RuntimeError('subscriber bug')

    store.unsubscribe(changes.append)
    store.subscribe(broken)
    store.subscribe(changes.append)
    store.create_outconn(outconn())
    assert store.get_outconn('plain_http', 'CRM').version == 1
    assert changes == [Change('outconn', 'create', 'CRM', 'plain_http')]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert [str(r.exc_info[1]) for r in logged] == ['subscriber bug']
