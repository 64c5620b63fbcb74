"""Imports of thousands of items: written in bulk, each with its history row and change, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from zato_outconn import Conflict, Runtime, StoreError
from zato_outconn.store import Store
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.transfer import BATCH_SIZE, FORMAT, FORMAT_VERSION
from zato_outconn.sync.changes import CHANNEL

from tests.support.cli_runner import basic_token
from tests.support.servers import RecordingServer

# More than one batch of each kind, so that the batches' seams are crossed.
COUNT = BATCH_SIZE + 250


def document(count: int = COUNT, host: str = 'http://127.0.0.1:9', prefix: str = '') -> dict[str, Any]:
    security = [{'name': f'{prefix}creds-{n}', 'sec_type': 'basic_auth', 'username': f'user{n}',
                 'secret': f'pw-{n}-S3CRET'} for n in range(count)]
    outconns = [{'name': f'{prefix}Conn {n}', 'host': host, 'url_path': f'/api/{n}/{{cust_id}}',
                 'security': f'{prefix}creds-{n}'} for n in range(count)]
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': security, 'outconns': outconns}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def test_every_item_gets_its_history_row_and_change(store: Store, engine: Engine) -> None:
    told: list[tuple[int, int]] = []
    report = store.import_document(document(), progress=lambda done, total: told.append((done, total)))
    assert report.written and report.counts() == {'create': 2 * COUNT}

    assert store.last_change() == 2 * COUNT
    rows = store.changes_since(0)
    assert [row.change for row in rows] == list(range(1, 2 * COUNT + 1))
    assert {(row.kind, row.action, row.version) for row in rows} == {('security', 'create', 1),
                                                                       ('outconn', 'create', 1)}
    definition, connection = store.get_security('creds-7'), store.find_outconn('Conn 7')
    assert {row.object_id for row in rows if row.kind == 'security'} >= {definition.id}
    (created,) = store.outconn_history('Conn 7')
    assert (created.version, created.action, created.changed_by) == (1, 'create', store.current_actor())
    assert created.settings['security'] == 'creds-7' and created.settings['url_path'] == '/api/7/{cust_id}'
    assert connection.version == 1 and connection.config.security == 'creds-7'
    (defined,) = store.history('security', definition.id)
    assert defined.changes['secret'] == 'changed' and 'S3CRET' not in json.dumps(defined.as_dict())
    with engine.connect() as connection_:
        stored = connection_.execute(text('SELECT secret FROM security_definition')).scalars().all()
    assert len(stored) == COUNT and not any('S3CRET' in token for token in stored)

    # Told as the items were written, a batch at a time, up to every item.
    assert told[-1] == (2 * COUNT, 2 * COUNT) and 1 < len(told) <= 2 * COUNT // BATCH_SIZE + 2
    assert [done for done, _ in told] == sorted({done for done, _ in told})


def test_imported_connections_call_with_their_own_secrets(store: Store, db_url: str) -> None:
    with RecordingServer() as server:
        store.import_document(document(count=3, host=server.url))
        with Runtime(db_url, sync=False) as runtime:
            for number in (2, 0):
                runtime.outgoing.plain_http[f'Conn {number}'].conn.get('cid-1', {'cust_id': 5})
        sent = [(request.path, request.headers['Authorization']) for request in server.recorder.requests]
    assert sent == [(f'/api/{n}/5', f'Basic {basic_token(f"user{n}", f"pw-{n}-S3CRET")}') for n in (2, 0)]


def _refuse_one_row(engine: Engine, name: str) -> None:
    """A trigger that fails the insert of one connection, as a database failing mid-import would."""
    with engine.begin() as connection:
        if engine.dialect.name == 'sqlite':
            connection.execute(text(f"CREATE TRIGGER refuse_one BEFORE INSERT ON outgoing_connection "
                                    f"WHEN NEW.name = '{name}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
            return
        connection.execute(text("CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                                f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                                "RETURN NEW; END $$ LANGUAGE plpgsql"))
        connection.execute(text('CREATE TRIGGER refuse_one BEFORE INSERT ON outgoing_connection '
                                'FOR EACH ROW EXECUTE FUNCTION refuse_one()'))


def test_a_failure_mid_batch_writes_nothing(store: Store, engine: Engine) -> None:
    store.import_document(document(count=2))
    before = (store.export_document(), store.last_change(), store.changes_since(0))
    # Past the first batch of connections, after every definition has been written.
    _refuse_one_row(engine, f'new Conn {BATCH_SIZE + 100}')
    with pytest.raises((StoreError, Conflict), match='refused by the test'):
        store.import_document(document(prefix='new '))
    assert (store.export_document(), store.last_change(), store.changes_since(0)) == before
    # The store is fine afterwards, and the counter goes on from where it was.
    report = store.import_document(document(count=5), on_conflict='skip')
    assert report.counts() == {'skip': 4, 'create': 6} and store.last_change() == before[1] + 6


@pytest.mark.parametrize('empty_db_url', ['postgresql'], indirect=True)
def test_one_notification_per_import_naming_its_last_change(store: Store) -> None:
    url = store.engine.url.set(drivername='postgresql').render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f'LISTEN {CHANNEL}')
        store.import_document(document(count=300))
        payloads = [notify.payload for notify in listener.notifies(timeout=1)]
    assert len(payloads) == 1
    last = json.loads(payloads[0])
    assert set(last) == {'change', 'kind', 'id', 'version', 'action'} and last['change'] == store.last_change() == 600
    assert 'S3CRET' not in payloads[0]
