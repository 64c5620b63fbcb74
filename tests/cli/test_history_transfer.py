"""History, rollback, export and import as a user runs them, through the installed command."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import yaml

from zato_outconn import Store

from tests.cli.conftest import upgraded_sqlite
from tests.support.cli_runner import CLI, assert_one_error_line

PASSWORD = 'cli-S3CRET-pw'
NAME = 'CRM Customer Profile'


def create(cli: CLI) -> None:
    cli.ok('security', 'create', 'basic_auth', 'crm-basic', '--username', 'bob', '--password-stdin',
           input=f'{PASSWORD}\n')
    cli.ok('outconn', 'create', 'plain_http', NAME, '--host', 'http://crm.example.com',
           '--url-path', '/customers/{cust_id}', '--security', 'crm-basic')


def test_edit_history_and_rollback(cli: CLI, store: Store) -> None:
    create(cli)
    cli.ok('outconn', 'edit', NAME, '--read-timeout', '5')
    table = cli.ok('outconn', 'history', NAME).out.splitlines()
    assert table[0].split() == ['VERSION', 'CHANGED', 'AT', 'BY', 'ACTION', 'CHANGES']
    assert table[1].split()[0] == '1' and 'created' in table[1] and f'cli:{getpass.getuser()}' in table[1]
    assert table[2].split()[0] == '2' and 'read_timeout: 10.0 -> 5.0' in table[2]

    rolled = cli.ok('outconn', 'rollback', NAME, '--to-version', '1')
    assert 'version 3' in rolled.out
    assert store.get_outconn('plain_http', NAME).config.read_timeout == 10.0
    history = cli.ok('outconn', 'history', NAME, '--format', 'json').json
    assert [(item['version'], item['action']) for item in history] == [(1, 'create'), (2, 'edit'), (3, 'rollback')]
    assert history[2]['changes'] == {'read_timeout': [5.0, 10.0]}

    cli.ok('outconn', 'delete', NAME)
    assert_one_error_line(cli.run('outconn', 'history', NAME), 'No outgoing connection named')
    deleted = cli.ok('outconn', 'history', NAME, '--deleted', '--format', 'json').json
    assert [item['action'] for item in deleted][-1] == 'delete'


def test_rollback_refusals_say_why(cli: CLI) -> None:
    create(cli)
    cli.ok('outconn', 'edit', NAME, '--no-security')
    cli.ok('security', 'delete', 'crm-basic')
    assert_one_error_line(cli.run('outconn', 'rollback', NAME, '--to-version', '1'),
                          "'crm-basic'", 'no longer exists')
    assert_one_error_line(cli.run('outconn', 'rollback', NAME, '--to-version', '9'), 'no version 9')


def test_export_then_import_elsewhere(cli: CLI, tmp_path: Path) -> None:
    create(cli)
    exported = cli.ok('export', '--output', 'outconns.json')
    assert 'Exported 1 security definitions and 1 connections' in exported.err
    document = json.loads((tmp_path / 'outconns.json').read_text())
    as_yaml = yaml.safe_load(cli.ok('export', '--format', 'yaml').out)
    assert as_yaml == document == cli.ok('export').json

    other = f'sqlite:///{upgraded_sqlite(tmp_path / "prod.db").removeprefix("sqlite:///")}'
    plan = cli.ok('--db', other, 'import', 'outconns.json', '--dry-run')
    assert plan.out.splitlines() == ["create     security[0] 'crm-basic'",
                                     f"create     outconns[0] plain_http {NAME!r}",
                                     'Would import: 2 create (nothing written)']
    assert Store(other).list_outconns() == []
    imported = cli.ok('--db', other, 'import', 'outconns.json')
    assert imported.out.splitlines()[-1] == 'Imported: 2 create (written)'

    again = cli.run('--db', other, 'import', 'outconns.json')
    assert_one_error_line(again, 'import refused, nothing was written', 'exists already')
    assert again.out.splitlines()[-1] == 'Refused: 2 error (nothing written)'

    document['outconns'][0]['read_timeout'] = 30
    (tmp_path / 'changed.yaml').write_text(yaml.safe_dump(document))
    overwritten = cli.ok('--db', other, 'import', 'changed.yaml', '--on-conflict', 'overwrite')
    assert f"update     outconns[0] plain_http {NAME!r}: read_timeout 10.0 -> 30.0" in overwritten.out
    history = cli.ok('--db', other, 'outconn', 'history', NAME, '--format', 'json').json
    assert [item['action'] for item in history] == ['create', 'edit']

    # The definition came without its secret: calls fail until it is set.
    ping = cli.run('--db', other, 'outconn', 'ping', NAME)
    assert_one_error_line(ping, 'set-password')

    outputs = [exported, plan, imported, again, overwritten, ping]
    files = [tmp_path / 'outconns.json', tmp_path / 'changed.yaml', tmp_path / 'zato-outconn.db', tmp_path / 'prod.db']
    for text in [result.out + result.err for result in outputs] + [path.read_bytes().decode('latin-1')
                                                                     for path in files]:
        assert PASSWORD not in text


def test_an_import_with_a_bad_item_names_it_and_writes_nothing(cli: CLI, tmp_path: Path, store: Store) -> None:
    document = {'format': 'zato-outconn', 'format_version': 1, 'security': [], 'outconns': [
        {'name': 'Good', 'host': 'http://good.example.com'},
        {'name': 'Bad', 'host': 'http://bad.example.com', 'pool_size': 0}]}
    (tmp_path / 'bad.json').write_text(json.dumps(document))
    result = cli.run('import', 'bad.json')
    assert_one_error_line(result, "outconns[1] plain_http 'Bad': pool_size", 'from 1 to 1000')
    assert store.list_outconns() == [] and store.last_change() == 0
    assert_one_error_line(cli.run('import', 'missing.json'), 'missing.json')
