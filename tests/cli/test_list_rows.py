"""The rows ``outconn list`` prints, read over SQLAlchemy Core: the same as the store's, or none at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from zato_outconn import OutconnConfig, SecurityConfig, Store
from zato_outconn.cli.outconn_command import _table_row
from zato_outconn.store import listing
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition

from tests.conftest import upgraded
from tests.support.cli_runner import CLI


def _fill(store: Store) -> None:
    store.create_security(SecurityConfig(name='crm-creds', sec_type='basic_auth', username='u', secret='s3cret'))
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', url_path='/c/{id}',
                                       security='crm-creds'))
    store.create_outconn(OutconnConfig(name='Billing', host='https://billing.example.com:8443', is_active=False))
    store.create_outconn(OutconnConfig(name='CRM', transport='soap', host='http://soap.example.com',
                                       url_path='/ws'))
    store.edit_outconn('plain_http', 'Billing', {'read_timeout': 3})


@pytest.mark.usefixtures('secret_key')
def test_the_rows_are_the_stores_on_both_databases(db_url: str) -> None:
    store = Store(db_url)
    try:
        _fill(store)
        for transport in (None, 'plain_http', 'soap'):
            expected = [_table_row(record) for record in store.list_outconns(transport)]
            rows = listing.outconn_rows(db_url, transport)
            assert rows is not None
            assert [list(row) for row in rows] == expected
            assert len(expected) == {None: 3, 'plain_http': 2, 'soap': 1}[transport]
    finally:
        store.close()


def test_the_columns_read_are_the_tables_own() -> None:
    for light, model in ((listing._OUTCONNS, OutgoingConnection), (listing._DEFINITIONS, SecurityDefinition)):
        table = model.__table__
        assert light.name == table.name
        for column in light.c:
            assert column.name in table.c, column.name
            assert column.type._type_affinity is table.c[column.name].type._type_affinity, column.name


def test_what_it_cannot_read_it_leaves_to_the_store(tmp_path: Path) -> None:
    (tmp_path / 'empty.db').touch()
    assert listing.outconn_rows(f'sqlite:///{tmp_path / "missing.db"}') is None
    assert not (tmp_path / 'missing.db').exists()
    assert listing.outconn_rows(f'sqlite:///{tmp_path / "empty.db"}') is None  # no schema
    assert listing.outconn_rows(f'sqlite:///{tmp_path}') is None  # a folder
    assert listing.outconn_rows('sqlite://') is None  # in memory: nothing stored
    assert listing.outconn_rows('nosuchdb://x') is None
    assert listing.outconn_rows('postgresql://nobody@127.0.0.1:1/none') is None


def test_a_database_behind_its_schema_is_explained_by_the_store(cli: CLI, tmp_path: Path) -> None:
    url = f'sqlite:///{tmp_path / "old.db"}'
    upgraded(url)
    with sqlite3.connect(tmp_path / 'old.db') as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    result = cli.run('--db', url, 'outconn', 'list')
    assert result.code == 1
    assert result.err.startswith('error: ') and 'db upgrade' in result.err and 'Traceback' not in result.err
