"""Refusals of the command: bad option values name the field, stray arguments are never echoed,
and databases that cannot be used are one ``error:`` line that says why and what to do.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from zato_outconn import OutconnConfig, Store
from zato_outconn.cli import app

from tests.cli.test_cli import write_services
from tests.support.cli_runner import CLI, assert_one_error_line

SECRET = 'Secret123-typed-in'


def test_bad_ipv6_host_names_the_host(cli: CLI, store: Store) -> None:
    for args in (('outconn', 'create', 'plain_http', 'CRM', '--host', 'http://[::1'),
                 ('outconn', 'create', 'soap', 'CRM', '--host', 'http://[::1')):
        line = assert_one_error_line(cli.run(*args), 'host')
        assert 'unexpected' not in line
    assert store.list_outconns() == []


def test_value_error_escaping_a_command_names_the_option(db_file: Path, secret_key: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # A check that lets a bare ValueError through: the command still names the option, not a crash.
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ValueError('Invalid IPv6 URL')

    monkeypatch.setattr(Store, 'create_outconn', refuse)
    # main() sets the levels of these loggers for the process; this test runs it in the test's own.
    for name in ('zato_outconn.call', 'alembic'):
        monkeypatch.setattr(logging.getLogger(name), 'level', logging.getLogger(name).level)
    monkeypatch.setattr(sys, 'argv', ['zato-outconn', '--db', f'sqlite:///{db_file}', 'outconn', 'create',
                                      'plain_http', 'CRM', '--host', 'http://crm.example.com'])
    with pytest.raises(SystemExit) as info:
        app.main()
    assert info.value.code == 1
    assert capsys.readouterr().err.splitlines() == ['error: host: Invalid IPv6 URL']


@pytest.mark.parametrize('args', [
    ('security', 'create', 'basic_auth', 's', SECRET, '--username', 'u'),
    ('security', 'create', 'bearer', 's', SECRET),
    ('security', 'set-password', 's', SECRET),
    ('security', 'edit', 's', SECRET),
    ('users', 'create', 'bob', SECRET, '--role', 'admin'),
    ('users', 'set-password', 'bob', SECRET),
])
def test_stray_argument_of_a_secret_command_is_never_echoed(cli: CLI, store: Store, args: tuple[str, ...]) -> None:
    result = cli.run(*args)
    line = assert_one_error_line(result, 'unexpected extra argument (not shown', 'stdin', '--help')
    assert SECRET not in result.err + result.out
    if args[1] != 'edit':
        assert '--password-stdin' in line
    assert store.list_security() == [] and store.list_users() == []


def test_stray_arguments_of_any_command_are_never_echoed(cli: CLI) -> None:
    result = cli.run('outconn', 'list', SECRET, 'more')
    assert_one_error_line(result, 'unexpected extra argument (not shown', 'never taken as arguments')
    assert SECRET not in result.err


def test_read_only_database_is_one_line_saying_so(cli: CLI, db_file: Path, store: Store) -> None:
    result = cli.run('--db', f'sqlite:///file:{db_file}?mode=ro&uri=true', 'outconn', 'create', 'plain_http',
                     'CRM', '--host', 'http://crm.example.com')
    assert_one_error_line(result, 'is read-only', 'nothing was written')
    assert store.list_outconns() == []


def test_locked_database_is_one_line_saying_busy(cli: CLI, db_file: Path, store: Store) -> None:
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com'))
    cli.set_env(ZATO_OUTCONN_LOCK_TIMEOUT='0.3')
    holder = sqlite3.connect(db_file, isolation_level=None)
    try:
        holder.execute('BEGIN EXCLUSIVE')
        result = cli.run('outconn', 'edit', 'CRM', '--read-timeout', '3')
    finally:
        holder.execute('ROLLBACK')
        holder.close()
    assert_one_error_line(result, 'is busy', 'try again')
    assert store.get_outconn('plain_http', 'CRM').version == 1


@pytest.mark.parametrize('command', [('outconn', 'list'), ('db', 'upgrade')])
def test_unopenable_sqlite_paths_say_why(cli: CLI, tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / 'plain').write_text('not a folder')
    (tmp_path / 'folder').mkdir()
    through_file, folder, missing = cli.many([
        ('--db', f'sqlite:///{tmp_path / "plain" / "x.db"}', *command),
        ('--db', f'sqlite:///{tmp_path / "folder"}', *command),
        ('--db', f'sqlite:///{tmp_path / "nowhere" / "x.db"}', *command),
    ])
    assert_one_error_line(through_file, 'cannot be opened', 'plain is a file, not a folder')
    assert_one_error_line(folder, 'cannot be opened', 'is a folder, not a file')
    assert_one_error_line(missing, 'cannot be opened', f'the folder {tmp_path / "nowhere"} does not exist')
    assert not (tmp_path / 'nowhere').exists()
    for result in (through_file, folder, missing):
        assert 'run db upgrade' not in result.err or 'mkdir' in result.err


def test_a_cid_with_a_line_break_cannot_forge_a_line_of_output(cli: CLI, store: Store, http_server: Any,
                                                               tmp_path: Path) -> None:
    store.create_outconn(OutconnConfig(name='CRM Customer Profile', host=http_server.url))
    write_services(tmp_path)
    result = cli.run('invoke', 'mypackage.services:GetCustomer', '--cid', 'a\nFAKE: admin logged in')
    line = assert_one_error_line(result, 'the cid must be one line of text')
    assert 'a\\nFAKE' in line
    assert http_server.recorder.requests == []
