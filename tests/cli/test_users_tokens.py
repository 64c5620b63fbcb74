"""``zato-outconn users`` and ``tokens``, run as a user runs them: real processes on a real SQLite file.

Passwords go in on stdin and tokens come out once; neither may show up in any output, error or the
database file afterwards.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import update

from zato_outconn import Store
from zato_outconn.store.models import APIToken, utc_now

from tests.support.cli_runner import CLI, DEFAULT_DB, LOG_LEVEL_ENV, Result, assert_one_error_line

PASSWORD = 'Adm1n-pa55-4e1c'
NEW_PASSWORD = 'N3w-adm1n-77b0'
OPERATOR_PASSWORD = 'Op3rator-pw-91d2'


def stored_bytes(folder: Path) -> bytes:
    return b''.join(path.read_bytes() for path in folder.glob(DEFAULT_DB + '*') if not path.name.endswith('.key'))


def printed_token(result: Result) -> str:
    """The token a create printed: stdout is that one line and nothing else."""
    lines = result.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith('zoc_'), str(result)
    return lines[0]


# ---------------------------------------------------------------------- users


def test_users_are_created_listed_changed_and_deleted(cli: CLI, store: Store) -> None:
    created = cli.ok('users', 'create', 'alice', '--role', 'admin', '--password-stdin', input=PASSWORD + '\n')
    assert created.out.strip() == "Created admin user 'alice' (admin)"
    cli.ok('users', 'create', 'bob', '--role', 'operator', '--password-stdin', input=OPERATOR_PASSWORD + '\n')

    table, listed = cli.many([('users', 'list'), ('users', 'list', '--format', 'json')])
    assert table.code == 0 and listed.code == 0, f'{table}\n{listed}'
    header, *rows = table.out.splitlines()
    assert header.split() == ['NAME', 'ROLE', 'CREATED', 'UPDATED']
    assert [row.split()[:2] for row in rows] == [['alice', 'admin'], ['bob', 'operator']]
    assert [(item['name'], item['role']) for item in listed.json] == [('alice', 'admin'), ('bob', 'operator')]
    assert set(listed.json[0]) == {'id', 'name', 'role', 'created_at', 'updated_at'}

    role = cli.ok('users', 'set-role', 'bob', 'admin')
    assert role.out.strip() == "Admin user 'bob' now has the role admin"
    password = cli.ok('users', 'set-password', 'alice', '--password-stdin', input=NEW_PASSWORD + '\n')
    assert password.out.strip() == "Changed the password of admin user 'alice'"
    assert store.check_password('alice', PASSWORD) is None
    checked = store.check_password('alice', NEW_PASSWORD)
    assert checked is not None and checked.role == 'admin'

    deleted = cli.ok('users', 'delete', 'alice')
    assert deleted.out.strip() == "Deleted admin user 'alice'"
    assert [(user.name, user.role) for user in store.list_users()] == [('bob', 'admin')]
    assert cli.ok('users', 'list', '--format', 'json').json[0]['name'] == 'bob'


def test_user_failures_are_one_line_and_change_nothing(cli: CLI, store: Store) -> None:
    cli.ok('users', 'create', 'alice', '--role', 'admin', '--password-stdin', input=PASSWORD + '\n')
    cli.ok('users', 'create', 'viewer1', '--role', 'viewer', '--password-stdin', input=OPERATOR_PASSWORD + '\n')
    results = cli.many([
        {'args': ('users', 'create', 'bob', '--role', 'viewer', '--password-stdin'), 'input': 'sh0rt-pw\n'},
        {'args': ('users', 'create', 'Robert-Smith', '--role', 'viewer', '--password-stdin'),
         'input': 'robert-SMITH\n'},
        {'args': ('users', 'create', 'bob', '--role', 'root', '--password-stdin'), 'input': PASSWORD + '\n'},
        {'args': ('users', 'create', 'alice', '--role', 'viewer', '--password-stdin'),
         'input': NEW_PASSWORD + '\n'},
        ('users', 'create', 'bob', '--role', 'viewer'),
        {'args': ('users', 'create', 'bob', '--role', 'viewer', '--password-stdin'), 'input': '\n'},
        ('users', 'delete', 'alice'),
        ('users', 'set-role', 'alice', 'operator'),
        ('users', 'set-role', 'alice', 'superuser'),
        ('users', 'delete', 'nobody'),
        {'args': ('users', 'set-password', 'nobody', '--password-stdin'), 'input': NEW_PASSWORD + '\n'},
        {'args': ('users', 'set-password', 'alice', '--password-stdin'), 'input': 'alice\n'},
        ('users', 'create', 'bob', '--role', 'viewer', '--password', PASSWORD),
    ])
    (short, same_as_name, bad_role, duplicate, no_flag, empty, last_delete, last_demote, bad_new_role,
     missing_delete, missing_password, weak_new, password_option) = results

    assert_one_error_line(short, 'password: must be at least 10 characters')
    assert_one_error_line(same_as_name, 'password: must not be the user name')
    assert_one_error_line(bad_role, '--role', 'viewer', 'operator', 'admin')
    assert_one_error_line(duplicate, "name: an admin user named 'alice' already exists")
    assert_one_error_line(no_flag, 'no password given', '--password-stdin')
    assert_one_error_line(empty, 'password is empty')
    assert_one_error_line(last_delete, "'alice' is the last admin and cannot be deleted")
    assert_one_error_line(last_demote, "role: 'alice' is the last admin")
    assert_one_error_line(bad_new_role, 'superuser')
    assert_one_error_line(missing_delete, "No admin user named 'nobody'")
    assert_one_error_line(missing_password, "No admin user named 'nobody'")
    assert_one_error_line(weak_new, 'password: must be at least 10 characters')
    assert_one_error_line(password_option, '--password')
    for result in results:
        assert result.out == '', str(result)
        for password in ('sh0rt-pw', 'robert-SMITH', PASSWORD, NEW_PASSWORD):
            assert password not in result.err, str(result)

    assert [(user.name, user.role) for user in store.list_users()] == [('alice', 'admin'), ('viewer1', 'viewer')]
    assert store.check_password('alice', PASSWORD) is not None


# ---------------------------------------------------------------------- tokens


def test_a_token_is_printed_once_and_works_until_revoked(cli: CLI, store: Store) -> None:
    created = cli.ok('tokens', 'create', 'ci', '--role', 'operator', '--expires-days', '30')
    token = printed_token(created)
    digest = hashlib.sha256(token.encode()).hexdigest()
    note = created.err.strip()
    assert "'ci'" in note and 'operator' in note and 'will not be shown again' in note
    assert token not in note and len(created.err.splitlines()) == 1
    assert printed_token(cli.ok('tokens', 'create', 'deploy', '--role', 'viewer')) != token

    checked = store.check_token(token)
    assert checked is not None and checked.role == 'operator'

    table, listed = cli.many([('tokens', 'list'), ('tokens', 'list', '--format', 'json')])
    assert table.code == 0 and listed.code == 0, f'{table}\n{listed}'
    header, *rows = table.out.splitlines()
    assert header.split() == ['NAME', 'ROLE', 'CREATED', 'EXPIRES', 'LAST', 'USED']
    assert [row.split()[:2] for row in rows] == [['ci', 'operator'], ['deploy', 'viewer']]
    assert rows[1].rstrip().endswith('-')  # deploy: never used
    items = {item['name']: item for item in listed.json}
    assert set(items['ci']) == {'id', 'name', 'role', 'created_at', 'expires_at', 'last_used_at'}
    assert items['ci']['expires_at'] is not None and items['ci']['last_used_at'] is not None
    assert items['deploy']['expires_at'] is None and items['deploy']['last_used_at'] is None
    for result in (table, listed):
        assert token not in result.out + result.err and digest not in result.out + result.err

    revoked = cli.ok('tokens', 'revoke', 'ci')
    assert revoked.out.strip() == "Revoked API token 'ci'"
    assert store.check_token(token) is None
    again = cli.run('tokens', 'revoke', 'ci')
    assert_one_error_line(again, "No API token named 'ci'")
    assert [item['name'] for item in cli.ok('tokens', 'list', '--format', 'json').json] == ['deploy']


def test_token_failures_are_one_line_and_print_no_token(cli: CLI, store: Store) -> None:
    printed_token(cli.ok('tokens', 'create', 'ci', '--role', 'viewer'))
    results = cli.many([
        ('tokens', 'create', 'ci', '--role', 'admin'),
        ('tokens', 'create', 'other', '--role', 'root'),
        ('tokens', 'create', 'other', '--role', 'viewer', '--expires-days', '0'),
        ('tokens', 'create', 'other', '--role', 'viewer', '--expires-days', '3651'),
        ('tokens', 'create', 'other', '--role', 'viewer', '--expires-days', 'soon'),
        ('tokens', 'create', 'other'),
        ('tokens', 'revoke', 'nobody'),
    ])
    duplicate, bad_role, zero_days, too_many_days, not_a_number, no_role, missing = results

    assert_one_error_line(duplicate, "name: an API token named 'ci' already exists")
    assert_one_error_line(bad_role, '--role', 'root')
    assert_one_error_line(zero_days, 'expires_days: must be a whole number from 1 to 3650')
    assert_one_error_line(too_many_days, 'expires_days', '3651')
    assert_one_error_line(not_a_number, '--expires-days')
    assert_one_error_line(no_role, '--role')
    assert_one_error_line(missing, "No API token named 'nobody'")
    for result in results:
        assert result.out == '' and 'zoc_' not in result.err, str(result)
    assert [(record.name, record.role) for record in store.list_tokens()] == [('ci', 'viewer')]


def test_an_expired_token_shows_as_expired(cli: CLI, store: Store) -> None:
    token = printed_token(cli.ok('tokens', 'create', 'ci', '--role', 'viewer', '--expires-days', '1'))
    with store.engine.begin() as connection:
        connection.execute(update(APIToken).values(expires_at=utc_now().replace(year=2020)))

    assert store.check_token(token) is None
    row = cli.ok('tokens', 'list').out.splitlines()[1]
    assert row.startswith('ci') and '2020-' in row and '(expired)' in row


# ---------------------------------------------------------------------- nothing secret anywhere


def test_no_password_or_token_in_any_output_log_or_the_database(cli: CLI, tmp_path: Path) -> None:
    cli.set_env(**{LOG_LEVEL_ENV: 'DEBUG'})
    session = [
        cli.ok('users', 'create', 'alice', '--role', 'admin', '--password-stdin', input=PASSWORD + '\n'),
        cli.ok('users', 'create', 'bob', '--role', 'operator', '--password-stdin', input=OPERATOR_PASSWORD + '\n'),
        cli.ok('users', 'set-password', 'alice', '--password-stdin', input=NEW_PASSWORD + '\n'),
        cli.ok('tokens', 'create', 'ci', '--role', 'admin', '--expires-days', '7'),
        cli.ok('tokens', 'create', 'old', '--role', 'viewer'),
    ]
    token, old_token = printed_token(session[3]), printed_token(session[4])
    session.append(cli.ok('tokens', 'revoke', 'old'))
    session += cli.many([
        ('users', 'list'), ('users', 'list', '--format', 'json'), ('tokens', 'list'),
        ('tokens', 'list', '--format', 'json'), ('users', 'set-role', 'bob', 'viewer'),
    ])
    assert all(result.code == 0 for result in session), '\n'.join(map(str, session))
    failures = cli.many([
        ('users', 'delete', 'alice'),
        {'args': ('users', 'create', 'alice', '--role', 'viewer', '--password-stdin'), 'input': PASSWORD + '\n'},
        {'args': ('users', 'create', 'carol_admin', '--role', 'viewer', '--password-stdin'),
         'input': 'CAROL_ADMIN\n'},
    ])
    assert all(result.code == 1 for result in failures), '\n'.join(map(str, failures))
    session += failures

    secrets = [PASSWORD, NEW_PASSWORD, OPERATOR_PASSWORD, 'CAROL_ADMIN']
    # Each token is printed once, by its own create, and appears nowhere else.
    everything = '\n'.join(result.out + result.err for result in session)
    for secret in secrets:
        assert secret not in everything, f'{secret!r} appeared in the output'
    for printed in (token, old_token):
        assert everything.count(printed) == 1
        assert hashlib.sha256(printed.encode()).hexdigest() not in everything
    listed = json.loads(session[9].out)
    assert [item['name'] for item in listed] == ['ci']

    stored = stored_bytes(tmp_path)
    assert b'alice' in stored and b'ci' in stored  # the file is the database, and plain text is findable in it
    for secret in [*secrets, token, old_token, token[4:]]:
        assert secret.encode() not in stored, f'{secret!r} is stored in plain text'
