"""A bulk import reaches every following process, as every single change does."""

from __future__ import annotations

from zato_outconn import Store

from tests.store.test_bulk_import import COUNT, document
from tests.support.cli_runner import basic_token
from tests.support.servers import RecordingServer
from tests.sync.test_follow import NodeProcess


def test_a_bulk_import_reaches_a_following_process(store: Store, db_url: str, http_server: RecordingServer) -> None:
    store.import_document(document(count=2, prefix='warm '))
    node = NodeProcess(db_url)
    try:
        node.until(lambda answer: answer['host'] is not None, get='warm Conn 1')
        imported = document(host=http_server.url)
        for item in imported['outconns']:
            item['url_path'] = '/bulk'
        store.import_document(imported)
        latest = store.last_change()
        assert latest == 2 * 2 + 2 * COUNT
        for name in ('Conn 0', f'Conn {COUNT - 1}'):
            node.until(lambda answer: answer['host'] == http_server.url, get=name)
        answer = node.until(lambda answer: answer['applied'] == latest, get='Conn 0')
        assert answer['applied'] == latest
        # Its secret came along too, decrypted by the other process on the connection's first call.
        called = node.ask(call=f'Conn {COUNT - 1}')
        assert called['status'] == 200
        last = COUNT - 1
        assert called['json']['headers']['Authorization'] == f'Basic {basic_token(f"user{last}", f"pw-{last}-S3CRET")}'
    finally:
        node.close()
