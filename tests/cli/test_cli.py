"""The ``zato-outconn`` command, run as a user runs it: a real process, real files, real servers.

Every test starts the installed console script in a subprocess with the working folder set to
``tmp_path`` and checks what it prints and how it exits. Independent commands of one test run
side by side to keep the file quick; each process costs about a second of start-up.
"""

from __future__ import annotations

import base64
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from zato_outconn import OutconnConfig, SecurityConfig, Store
from zato_outconn.store.engine import DB_ENV, create_db_engine
from zato_outconn.store.schema import head_revision, upgrade
from zato_outconn.store.secret_box import KEYS_ENV

from tests.cli.conftest import upgraded_sqlite
from tests.support.auth_servers import OAuth2Server
from tests.support.cli_runner import (
    CLI,
    DEFAULT_DB,
    LOG_LEVEL_ENV,
    Result,
    assert_one_error_line,
    basic_token,
    version_in,
)
from tests.support.servers import RecordingServer, refused_port


def write_services(folder: Path) -> None:
    package = folder / 'mypackage'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'services.py').write_text(textwrap.dedent('''
        from zato_outconn import Service


        class GetCustomer(Service):
            def handle(self):
                conn = self.outgoing.plain_http.get('CRM Customer Profile').conn
                response = conn.get(self.cid, self.request.payload)
                self.response.payload = response.json()


        class GetCustomerPath(Service):
            """Returns what the server saw, except its headers, which carry the credentials."""

            def handle(self):
                conn = self.outgoing.plain_http.get('CRM Customer Profile').conn
                seen = conn.get(self.cid, self.request.payload).json()
                authorised = 'Authorization' in seen['headers']
                self.response.payload = {'path': seen['path'], 'authorised': authorised}


        class CallDown(Service):
            def handle(self):
                self.outgoing.plain_http['Down'].conn.get(self.cid)
    '''))
    (package / 'broken.py').write_text("raise RuntimeError('boom at import')\n")


def add_crm(store: Store, host: str, *, name: str = 'CRM', security: str | None = 'crm-creds',
            password: str = 's3cret', **settings: Any) -> None:
    if security is not None:
        store.create_security(SecurityConfig(name=security, sec_type='basic_auth', username='alice',
                                             secret=password))
    store.create_outconn(OutconnConfig(name=name, host=host, url_path='/customers/{cust_id}',
                                       security=security, **settings))


# ---------------------------------------------------------------------- 1. the README walkthrough


def test_readme_walkthrough_in_a_fresh_folder(tmp_path: Path, http_server: RecordingServer) -> None:
    cli = CLI(tmp_path)  # no ZATO_OUTCONN_DB and no keys: the default SQLite file and a key file

    result = cli.ok('db', 'upgrade')
    head = head_revision()
    assert result.out.strip() == f'Database sqlite:///zato-outconn.db: created the schema at revision {head}'
    assert (tmp_path / DEFAULT_DB).is_file()
    assert cli.ok('db', 'upgrade').out.strip() == f'Database sqlite:///zato-outconn.db is up to date (revision {head})'

    result = cli.ok('security', 'create', 'basic_auth', 'crm-creds', '--username', 'alice',
                    '--password-stdin', input='s3cret\n')
    assert result.out.strip() == "Created basic_auth security definition 'crm-creds'"
    # The key file is announced once, on stderr, and readable by its owner only.
    key_file = tmp_path / 'zato-outconn.db.key'
    assert 'zato-outconn.db.key' in result.err and 'WARNING' in result.err
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    Fernet(key.encode())  # a usable Fernet key

    result = cli.ok('outconn', 'create', 'plain_http', 'CRM Customer Profile', '--host', http_server.url,
                    '--url-path', '/customers/{cust_id}', '--security', 'crm-creds')
    assert result.out.strip() == (f"Created plain_http connection 'CRM Customer Profile' -> "
                                  f'{http_server.url}/customers/{{cust_id}}')
    assert result.err == ''

    result = cli.ok('outconn', 'ping', 'CRM Customer Profile')
    assert result.out.startswith(f'OK HEAD {http_server.url}/customers/ -> 200 OK in '), str(result)
    assert result.err == ''
    seen = http_server.recorder.last
    assert (seen.method, seen.path) == ('HEAD', '/customers/')
    assert seen.headers['Authorization'] == f'Basic {basic_token("alice", "s3cret")}'

    write_services(tmp_path)
    result = cli.ok('invoke', 'mypackage.services:GetCustomer', '--payload', '{"cust_id": 1}')
    answer = result.json
    assert answer['method'] == 'GET'
    assert answer['path'] == '/customers/1'
    cid = answer['headers']['X-Zato-CID']
    assert len(cid) == 32 and int(cid, 16) >= 0
    assert http_server.recorder.last.headers['X-Zato-CID'] == cid
    assert answer['headers']['Authorization'] == f'Basic {basic_token("alice", "s3cret")}'

    # Later commands reuse the key file (the secret decrypted above) and say nothing more about it.
    assert key_file.read_text().strip() == key
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith('zato')) == [
        'zato-outconn.db', 'zato-outconn.db.key']


# ---------------------------------------------------------------------- 2. output formats


def test_json_and_table_output(cli: CLI, store: Store, http_server: RecordingServer) -> None:
    add_crm(store, http_server.url)
    store.create_outconn(OutconnConfig(name='Billing', host='https://billing.example.com:8443',
                                       url_path='/invoices', read_timeout=3))
    (outconn_list, outconn_show, security_list, security_show,
     outconn_table, show_table, security_table) = cli.many([
        ('outconn', 'list', '--format', 'json'),
        ('outconn', 'show', 'CRM', '--format', 'json'),
        ('security', 'list', '--format', 'json'),
        ('security', 'show', 'crm-creds', '--format', 'json'),
        ('outconn', 'list'),
        ('outconn', 'show', 'Billing'),
        ('security', 'list'),
    ])
    for result in (outconn_list, outconn_show, security_list, security_show,
                   outconn_table, show_table, security_table):
        assert result.code == 0 and result.err == '', str(result)

    listed = outconn_list.json
    assert [(item['name'], item['transport'], item['host'], item['url_path'], item['security'])
            for item in listed] == [
        ('Billing', 'plain_http', 'https://billing.example.com:8443', '/invoices', None),
        ('CRM', 'plain_http', http_server.url, '/customers/{cust_id}', 'crm-creds')]
    assert listed[0]['read_timeout'] == 3.0 and listed[1]['read_timeout'] == 10.0

    shown = outconn_show.json
    assert shown == listed[1]
    assert {'id', 'version', 'created_at', 'updated_at', 'is_active', 'pool_size', 'ping_method',
            'cid_header'} <= set(shown)
    assert (shown['version'], shown['is_active'], shown['pool_size']) == (1, True, 20)
    assert shown['ping_method'] == 'HEAD'

    definitions = security_list.json
    assert len(definitions) == 1
    definition = security_show.json
    assert definition == definitions[0]
    assert (definition['name'], definition['sec_type'], definition['username']) == ('crm-creds', 'basic_auth',
                                                                                     'alice')
    assert definition['secret_set'] is True and definition['used_by'] == ['CRM']
    assert 'secret' not in definition

    lines = outconn_table.out.splitlines()
    assert lines[0].split() == ['NAME', 'TRANSPORT', 'ADDRESS', 'SECURITY', 'ACTIVE', 'VERSION']
    assert lines[1].split() == ['Billing', 'plain_http', 'https://billing.example.com:8443/invoices', '-',
                                'yes', '1']
    assert lines[2].split() == ['CRM', 'plain_http', f'{http_server.url}/customers/{{cust_id}}', 'crm-creds',
                                'yes', '1']
    assert len(lines) == 3

    fields = dict(line.split(None, 1) for line in show_table.out.splitlines())
    assert fields['name'] == 'Billing' and fields['read_timeout'] == '3.0' and fields['security'] == '-'

    lines = security_table.out.splitlines()
    assert lines[0].startswith('NAME') and 'USED BY' in lines[0] and 'SECRET' in lines[0]
    assert lines[1].split() == ['crm-creds', 'basic_auth', 'alice', '-', 'set', 'CRM', '1']


# ---------------------------------------------------------------------- 3. failures


# Each case: id, args, stdin, what the one error line must say. All run side by side on one database
# that holds 'crm-creds' (used by 'CRM') and 'Down', a connection to a port where nothing listens.
FAILURES: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = [
    ('invalid-host', ('outconn', 'create', 'plain_http', 'Bad', '--host', 'ftp://crm.example.com'), '',
     ('error: host: ', 'http://', "'ftp://crm.example.com'")),
    ('pool-size', ('outconn', 'create', 'plain_http', 'Bad', '--host', 'http://x.example.com',
                   '--pool-size', '5000'), '', ('error: pool_size: ', '1 to 1000', '5000')),
    ('unknown-security', ('outconn', 'create', 'plain_http', 'Bad', '--host', 'http://x.example.com',
                          '--security', 'no-such-creds'), '',
     ('error: security: ', "'no-such-creds'", 'security create')),
    ('duplicate-outconn', ('outconn', 'create', 'plain_http', 'CRM', '--host', 'http://x.example.com'), '',
     ('error: name: ', "'CRM'", 'already exists')),
    ('duplicate-security', ('security', 'create', 'basic_auth', 'crm-creds', '--username', 'bob',
                            '--password-stdin'), 'other\n',
     ('error: name: ', "'crm-creds'", 'already exists')),
    ('show-missing', ('outconn', 'show', 'Missing'), '', ('Missing', 'No outgoing connection')),
    ('delete-in-use', ('security', 'delete', 'crm-creds'), '', ("'crm-creds'", "is used by 'CRM'")),
    ('ping-refused', ('outconn', 'ping', 'Down'), '', ("ping of 'Down' failed", 'cannot connect')),
    ('invoke-no-module', ('invoke', 'no_such_package.services:GetCustomer'), '',
     ('cannot load service', 'no_such_package')),
    ('invoke-broken-module', ('invoke', 'mypackage.broken:Anything'), '',
     ("cannot load service 'mypackage.broken:Anything'", 'RuntimeError: boom at import')),
    ('invoke-call-fails', ('invoke', 'mypackage.services:CallDown'), '',
     ("'Down' GET http://127.0.0.1:", 'cannot connect')),
    ('invoke-bad-payload', ('invoke', 'no_such_package.services:GetCustomer', '--payload', '{"cust_id": 1'),
     '', ('--payload is not valid JSON',)),
    ('invoke-deep-payload', ('invoke', 'no_such_package.services:GetCustomer', '--payload', '[' * 20000 + ']' * 20000),
     '', ('--payload is JSON nested too deeply',)),
    ('bad-format', ('outconn', 'list', '--format', 'xml'), '', ("'--format'", 'xml', 'outconn list --help')),
]

# Commands on a folder whose database has no schema yet: each must say to run db upgrade.
BEFORE_UPGRADE: list[tuple[str, tuple[str, ...], str]] = [
    ('outconn-list', ('outconn', 'list'), ''),
    ('security-create', ('security', 'create', 'bearer', 'tok', '--token-stdin'), 'abc\n'),
]


@pytest.fixture(scope='module')
def failure_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs every failing command once, side by side; the tests below check one each."""
    folder = tmp_path_factory.mktemp('failures')
    fresh = tmp_path_factory.mktemp('no-schema')
    key = Fernet.generate_key().decode()
    url = upgraded_sqlite(folder / DEFAULT_DB)
    write_services(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEYS_ENV, key)
        store = Store(url)
        try:
            add_crm(store, 'http://crm.example.com')
            store.create_outconn(OutconnConfig(name='Down', host=f'http://127.0.0.1:{refused_port()}'))
        finally:
            store.close()
        cli = CLI(folder, **{KEYS_ENV: key})
        calls = [{'args': args, 'input': stdin} for _, args, stdin, _ in FAILURES]
        calls += [{'args': args, 'input': stdin, 'cwd': fresh} for _, args, stdin in BEFORE_UPGRADE]
        results = cli.many(calls)
    ids = [case[0] for case in FAILURES] + [f'before-upgrade-{case[0]}' for case in BEFORE_UPGRADE]
    return {'url': url, 'key': key, **dict(zip(ids, results, strict=True))}


@pytest.mark.parametrize(('case', 'needles'), [(case[0], case[3]) for case in FAILURES],
                         ids=[case[0] for case in FAILURES])
def test_failure_is_one_clear_line(failure_results: dict[str, Any], case: str,
                                   needles: tuple[str, ...]) -> None:
    assert_one_error_line(failure_results[case], *needles)


def test_usage_errors_keep_their_exit_code(failure_results: dict[str, Any]) -> None:
    assert failure_results['bad-format'].code == 2, str(failure_results['bad-format'])
    assert failure_results['bad-format'].out == ''


def test_refused_ping_reports_fail_and_exits_1(failure_results: dict[str, Any]) -> None:
    result = failure_results['ping-refused']
    assert result.code == 1
    assert result.out.startswith('FAIL HEAD http://127.0.0.1:'), str(result)
    assert 'cannot connect' in result.out


def test_refused_deletes_and_duplicates_change_nothing(failure_results: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, failure_results['key'])
    store = Store(failure_results['url'])
    try:
        definition = store.get_security('crm-creds')
        assert (definition.config.username, definition.version, definition.used_by) == ('alice', 1, ('CRM',))
        assert [record.config.name for record in store.list_outconns()] == ['CRM', 'Down']
        assert store.get_outconn('plain_http', 'CRM').version == 1
        assert [record.config.name for record in store.list_security()] == ['crm-creds']
    finally:
        store.close()


@pytest.mark.parametrize('case', [case[0] for case in BEFORE_UPGRADE])
def test_commands_before_db_upgrade_say_to_run_it(failure_results: dict[str, Any], case: str) -> None:
    # The missing SQLite file is reported, not created empty.
    assert_one_error_line(failure_results[f'before-upgrade-{case}'], 'zato-outconn.db does not exist',
                          'create it with: zato-outconn --db sqlite:///zato-outconn.db db upgrade')


# ---------------------------------------------------------------------- 4. edits


def test_edit_changes_only_what_is_given(cli: CLI, store: Store, http_server: RecordingServer) -> None:
    add_crm(store, http_server.url)
    before = store.get_outconn('plain_http', 'CRM').as_dict()

    # Security left out of the edit: it stays.
    result = cli.ok('outconn', 'edit', 'CRM', '--read-timeout', '3')
    assert result.out.startswith("Updated plain_http connection 'CRM' (version ")
    after = store.get_outconn('plain_http', 'CRM').as_dict()
    assert version_in(result) == after['version'] > before['version']
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {'read_timeout', 'version', 'updated_at'}
    assert (after['read_timeout'], after['connect_timeout'], after['security']) == (3.0, 10.0, 'crm-creds')

    result = cli.ok('security', 'edit', 'crm-creds', '--username', 'bob', '--name', 'crm-main')
    assert result.out.strip() == "Updated security definition 'crm-main' (version 2)"
    result = cli.ok('security', 'set-password', 'crm-main', '--password-stdin', input='n3w-pass\n')
    assert result.out.strip() == "Changed the secret of 'crm-main' (version 3)"
    assert 'n3w-pass' not in result.out + result.err
    definition = store.get_security('crm-main')
    assert (definition.config.username, definition.version, definition.used_by) == ('bob', 3, ('CRM',))
    assert store.get_outconn('plain_http', 'CRM').config.security == 'crm-main'

    # The new user name and password are what reach the server.
    cli.ok('outconn', 'ping', 'CRM')
    assert http_server.recorder.last.headers['Authorization'] == f'Basic {basic_token("bob", "n3w-pass")}'

    result = cli.ok('outconn', 'edit', 'CRM', '--inactive', '--name', 'CRM v2')
    assert result.out.startswith("Updated plain_http connection 'CRM v2' (version ")
    record = store.get_outconn('plain_http', 'CRM v2')
    assert version_in(result) == record.version > after['version']
    assert (record.config.is_active, record.config.read_timeout, record.config.security) == (False, 3.0,
                                                                                            'crm-main')
    assert [item.config.name for item in store.list_outconns()] == ['CRM v2']

    requests_before = len(http_server.recorder.requests)
    assert_one_error_line(cli.run('outconn', 'ping', 'CRM v2'), "'CRM v2'", 'inactive')
    assert len(http_server.recorder.requests) == requests_before  # an inactive connection sends nothing

    result = cli.ok('outconn', 'edit', 'CRM v2', '--no-security', '--active')
    assert result.out.startswith("Updated plain_http connection 'CRM v2' (version ")
    assert version_in(result) == store.get_outconn('plain_http', 'CRM v2').version > record.version
    assert store.get_security('crm-main').used_by == ()
    assert store.get_outconn('plain_http', 'CRM v2').config.read_timeout == 3.0

    # No longer in use, the definition can go; the connection now calls without credentials.
    ping, delete = cli.many([('outconn', 'ping', 'CRM v2'), ('security', 'delete', 'crm-main')])
    assert ping.code == 0, str(ping)
    assert 'Authorization' not in http_server.recorder.last.headers
    assert delete.out.strip() == "Deleted security definition 'crm-main'", str(delete)
    assert store.list_security() == []


def test_one_edit_bumps_the_version_by_one(store: Store) -> None:
    # Once seen as "(version 3)": a query inside the edit flushed the changes as a second UPDATE.
    add_crm(store, 'http://crm.example.com')
    assert store.edit_outconn('plain_http', 'CRM', {'read_timeout': '3'}).version == 2


# ---------------------------------------------------------------------- 5. secrets never appear


def test_secrets_never_appear_in_output_logs_or_database(tmp_path: Path,
                                                         http_server: RecordingServer) -> None:
    password, new_password = 'Pa55-w0rd-7f3a91', 'N3w-s3cret-c0e5d2'
    forbidden = [password, new_password, basic_token('alice', password), basic_token('alice', new_password),
                 base64.b64encode(password.encode()).decode(),
                 base64.b64encode(new_password.encode()).decode()]
    # Verbose logs, and the key file on the default SQLite database, for as much output as there is.
    cli = CLI(tmp_path, **{LOG_LEVEL_ENV: 'DEBUG'})
    write_services(tmp_path)
    session: list[Result] = [
        cli.ok('db', 'upgrade'),
        cli.ok('security', 'create', 'basic_auth', 'crm-creds', '--username', 'alice', '--password-stdin',
               input=password + '\n'),
        cli.ok('outconn', 'create', 'plain_http', 'CRM Customer Profile', '--host', http_server.url,
               '--url-path', '/customers/{cust_id}', '--security', 'crm-creds'),
    ]
    session += cli.many([
        ('security', 'list'), ('security', 'show', 'crm-creds', '--format', 'json'),
        ('outconn', 'show', 'CRM Customer Profile'), ('outconn', 'list', '--format', 'json'),
        ('outconn', 'ping', 'CRM Customer Profile', '--format', 'json'),
        # A failure with the secret on stdin: the error must not echo it.
        {'args': ('security', 'create', 'basic_auth', 'crm-creds', '--username', 'alice', '--password-stdin'),
         'input': password + '\n'},
    ])
    assert all(result.code == 0 for result in session[:-1]), '\n'.join(map(str, session))
    # With DEBUG logs on, the error line is the last of several.
    duplicate = session[-1]
    assert duplicate.code == 1 and duplicate.err.splitlines()[-1].startswith('error: name: '), str(duplicate)
    assert http_server.recorder.last.headers['Authorization'] == f'Basic {basic_token("alice", password)}'

    session.append(cli.ok('security', 'set-password', 'crm-creds', '--password-stdin',
                          input=new_password + '\n'))
    invoked = cli.ok('invoke', 'mypackage.services:GetCustomerPath', '--payload', '{"cust_id": 7}')
    session.append(invoked)
    assert invoked.json == {'path': '/customers/7', 'authorised': True}
    assert http_server.recorder.last.headers['Authorization'] == f'Basic {basic_token("alice", new_password)}'
    assert any(line.startswith('DEBUG:') for result in session for line in result.err.splitlines())

    everything = '\n'.join(result.out + result.err for result in session)
    for secret in forbidden:
        assert secret not in everything, f'{secret!r} appeared in the output'

    stored = b''.join(path.read_bytes() for path in tmp_path.glob(DEFAULT_DB + '*')
                      if not path.name.endswith('.key'))
    assert b'crm-creds' in stored  # the file is the database, and plain text is findable in it
    for secret in forbidden:
        assert secret.encode() not in stored, f'{secret!r} is stored in plain text'


# ---------------------------------------------------------------------- 6. choosing the database


def test_db_option_and_env_choose_the_database(tmp_path: Path, secret_key: str) -> None:
    env_url = upgraded_sqlite(tmp_path / 'from-env.db')
    option_url = upgraded_sqlite(tmp_path / 'from-option.db')
    cli = CLI(tmp_path, **{KEYS_ENV: secret_key, DB_ENV: 'sqlite:///from-env.db'})
    from_env, from_option = cli.many([
        ('outconn', 'create', 'plain_http', 'A', '--host', 'http://a.example.com'),
        ('--db', 'sqlite:///from-option.db', 'outconn', 'create', 'plain_http', 'B', '--host',
         'http://b.example.com'),
    ])
    for result in (from_env, from_option):
        assert result.code == 0 and result.err == '', str(result)

    # --db wins over the environment; neither touches the default file.
    for url, names in ((env_url, ['A']), (option_url, ['B'])):
        store = Store(url)
        try:
            assert [record.config.name for record in store.list_outconns()] == names
        finally:
            store.close()
    assert not (tmp_path / DEFAULT_DB).exists()

    cli.set_env(**{DB_ENV: None})
    result = cli.run('outconn', 'list')
    assert_one_error_line(result, 'zato-outconn.db does not exist', 'sqlite:///zato-outconn.db')


@pytest.mark.postgres
def test_walkthrough_on_postgresql(tmp_path: Path, pg_database: str, http_server: RecordingServer) -> None:
    # As a user writes it: plain postgresql://, which the command maps to the installed driver.
    url = pg_database.replace('postgresql+psycopg://', 'postgresql://')
    cli = CLI(tmp_path)

    assert cli.ok('--db', url, 'db', 'upgrade').out.strip() == \
        f'Database {url}: created the schema at revision {head_revision()}'
    # PostgreSQL has no key file: without ZATO_OUTCONN_SECRET_KEYS a secret cannot be stored.
    result = cli.run('--db', url, 'security', 'create', 'bearer', 'crm-token', '--token-stdin', input='t0k\n')
    assert_one_error_line(result, KEYS_ENV)

    cli.set_env(**{KEYS_ENV: Fernet.generate_key().decode()})
    cli.ok('--db', url, 'security', 'create', 'bearer', 'crm-token', '--token-stdin', input='t0k-pg-1\n')
    cli.ok('--db', url, 'outconn', 'create', 'plain_http', 'CRM Customer Profile', '--host', http_server.url,
           '--url-path', '/customers/{cust_id}', '--security', 'crm-token')
    result = cli.ok('--db', url, 'outconn', 'ping', 'CRM Customer Profile', '--format', 'json')
    report = result.json
    assert (report['ok'], report['status_code'], report['method']) == (True, 200, 'HEAD')
    assert report['url'] == f'{http_server.url}/customers/'
    assert http_server.recorder.last.headers['Authorization'] == 'Bearer t0k-pg-1'
    assert not list(tmp_path.iterdir())  # nothing written to the working folder


# ---------------------------------------------------------------------- 7. reading secrets


def test_secret_input_rules_and_each_security_type(cli: CLI, store: Store,
                                                   http_server: RecordingServer) -> None:
    no_flag, no_flag_token, empty, apikey, bearer = cli.many([
        ('security', 'create', 'basic_auth', 'no-flag', '--username', 'alice'),
        {'args': ('security', 'create', 'bearer', 'no-flag-token'), 'input': 'tok\n'},
        {'args': ('security', 'create', 'basic_auth', 'empty', '--username', 'alice', '--password-stdin'),
         'input': '\n'},
        {'args': ('security', 'create', 'apikey', 'crm-key', '--header-name', 'X-Custom-Key', '--key-stdin'),
         'input': 'key-123\r\nsecond line ignored\n'},
        {'args': ('security', 'create', 'bearer', 'crm-bearer', '--token-stdin'), 'input': 'tok-789\n'},
    ])
    # stdin is a pipe, not a terminal: no prompt, and no silent read without the flag.
    assert_one_error_line(no_flag, 'no password given', '--password-stdin')
    assert_one_error_line(no_flag_token, 'no token given', '--token-stdin')
    assert_one_error_line(empty, 'the password is empty')
    for result in (apikey, bearer):
        assert result.code == 0 and result.err == '', str(result)
    assert apikey.out.strip() == "Created apikey security definition 'crm-key'"
    assert bearer.out.strip() == "Created bearer security definition 'crm-bearer'"
    assert sorted(record.config.name for record in store.list_security()) == ['crm-bearer', 'crm-key']

    names = ('crm-key', 'crm-bearer')
    for name in names:
        store.create_outconn(OutconnConfig(name=name, host=http_server.url, url_path=f'/{name}',
                                           security=name))
    pings = cli.many([('outconn', 'ping', name) for name in names])
    assert all(result.code == 0 for result in pings), '\n'.join(map(str, pings))
    seen = {request.path: request.headers for request in http_server.recorder.requests}
    # Only the first line of stdin is the key; its line break (CRLF here) is not part of it.
    assert seen['/crm-key']['X-Custom-Key'] == 'key-123'
    assert 'X-API-Key' not in seen['/crm-key'] and 'Authorization' not in seen['/crm-key']
    assert seen['/crm-bearer']['Authorization'] == 'Bearer tok-789'

    # set-password names the secret by the definition's type; a refusal keeps the old one.
    no_flag_key, new_token = cli.many([
        ('security', 'set-password', 'crm-key'),
        {'args': ('security', 'set-password', 'crm-bearer', '--token-stdin'), 'input': 'tok-new\n'},
    ])
    assert_one_error_line(no_flag_key, 'no key given', '--key-stdin')
    assert new_token.out.strip() == "Changed the secret of 'crm-bearer' (version 2)", str(new_token)
    secrets = {template.config.name: template.security.secret for template in store.load_templates()
               if template.security is not None}
    assert secrets == {'crm-key': 'key-123', 'crm-bearer': 'tok-new'}


# ---------------------------------------------------------------------- SOAP and the other security types


def test_soap_connection_with_wss_from_the_command_line(cli: CLI, http_server: RecordingServer) -> None:
    cli.ok('security', 'create', 'wss', 'bank-wss', '--username', 'bob', '--password-type', 'digest',
           '--timestamp-ttl', '300', '--password-stdin', input='wss-s3cret\n')
    created = cli.run('outconn', 'create', 'soap', 'Balance', '--host', http_server.url, '--url-path', '/bank',
                      '--soap-version', '1.2', '--soap-action', 'urn:GetBalance', '--security', 'bank-wss',
                      '--ping-method', 'POST', '--wsdl', f'http://127.0.0.1:{refused_port()}/bank?wsdl')
    # Saved, with a warning: the WSDL's server may simply be down for now.
    assert created.code == 0 and created.out.startswith("Created soap connection 'Balance'"), str(created)
    assert created.err.startswith('warning: saved, but the WSDL cannot be used yet') and 'refused' in created.err

    shown = cli.ok('outconn', 'show', 'Balance', '--format', 'json').json
    assert (shown['soap_version'], shown['soap_action'], shown['security']) == ('1.2', 'urn:GetBalance', 'bank-wss')
    cli.ok('outconn', 'edit', 'Balance', '--no-security', '--wsdl', '')  # drop the unreachable WSDL
    cli.ok('outconn', 'edit', 'Balance', '--security', 'bank-wss')

    ping = cli.ok('outconn', 'ping', 'Balance')
    assert ping.out.startswith('OK POST ') and '/bank -> 200' in ping.out
    seen = http_server.recorder.last
    assert seen.headers['Content-Type'] == 'application/soap+xml; charset=utf-8; action="urn:GetBalance"'
    assert b'PasswordDigest' in seen.body and b'wsu:Timestamp' in seen.body and b'wss-s3cret' not in seen.body

    refused = cli.run('outconn', 'create', 'plain_http', 'Plain', '--host', http_server.url, '--security', 'bank-wss')
    assert_one_error_line(refused, 'security:', 'soap connections only')


def test_oauth2_definition_from_the_command_line(cli: CLI, tmp_path: Path) -> None:
    with OAuth2Server({'zato-client': 'cl1ent-s3cret'}) as server:
        cli.ok('security', 'create', 'oauth2', 'partner', '--token-url', server.token_url, '--client-id',
               'zato-client', '--scopes', 'read,write', '--client-auth', 'body', '--secret-stdin',
               input='cl1ent-s3cret\n')
        cli.ok('outconn', 'create', 'plain_http', 'Partner', '--host', server.url, '--url-path', '/api',
               '--security', 'partner')
        ping = cli.ok('outconn', 'ping', 'Partner')
        assert ping.out.startswith('OK HEAD ') and '/api -> 200' in ping.out
        (request,) = server.issuer.requests
        assert (request.client_auth, request.form['scope']) == ('body', ['read write'])

        shown = cli.ok('security', 'show', 'partner', '--format', 'json')
        assert shown.json['scopes'] == 'read write' and shown.json['secret_set'] is True
        assert 'cl1ent-s3cret' not in shown.out

        cli.ok('security', 'set-password', 'partner', '--secret-stdin', input='wrong\n')
        failed = cli.run('outconn', 'ping', 'Partner')
        assert failed.code == 1 and failed.out.startswith('FAIL HEAD ')
        assert "'partner'" in failed.out and 'invalid_client' in failed.out and '401' in failed.out
        assert 'wrong' not in failed.out + failed.err


def test_db_upgrade_says_from_which_revision_it_upgraded(tmp_path: Path) -> None:
    url = f'sqlite:///{tmp_path / "old.db"}'
    engine = create_db_engine(url)
    try:
        upgrade(engine, '0008')
    finally:
        engine.dispose()
    result = CLI(tmp_path).ok('--db', url, 'db', 'upgrade')
    assert result.out.strip() == f'Database {url}: upgraded the schema from revision 0008 to {head_revision()}'


def test_a_log_level_that_is_none_is_one_error_line(tmp_path: Path) -> None:
    result = CLI(tmp_path, **{LOG_LEVEL_ENV: 'bogus'}).run('--help')
    assert_one_error_line(result, LOG_LEVEL_ENV, 'DEBUG, INFO, WARNING', "'bogus'")
    assert 'Traceback' not in result.err
    assert CLI(tmp_path, **{LOG_LEVEL_ENV: 'info'}).ok('--help').out.startswith('Usage:')


@pytest.mark.parametrize(('url', 'says'), [('mysql://x/y', "got a 'mysql' URL"),
                                           ('notaurl', 'got text that is no URL')])
def test_a_database_url_of_no_supported_kind_is_one_error_line(tmp_path: Path, url: str, says: str) -> None:
    for command in (('outconn', 'list'), ('db', 'upgrade')):
        result = CLI(tmp_path).run('--db', url, *command)
        assert_one_error_line(result, 'database URL: must be sqlite:///FILE or postgresql://', says)
        assert 'unexpected' not in result.err
