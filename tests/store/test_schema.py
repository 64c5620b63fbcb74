"""Migrations on real SQLite and PostgreSQL: they build exactly the models, and go down and up again."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from zato_outconn import InUse, OutconnConfig, SchemaError, SecurityConfig, Store
from zato_outconn.store.engine import create_db_engine
from zato_outconn.store.models import Base, OutgoingConnection, SecurityDefinition
from zato_outconn.store.schema import check_current, downgrade, head_revision, upgrade

TABLES = {'outgoing_connection', 'security_definition', 'history', 'change_counter', 'admin_user', 'api_token', 'node'}


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_on_empty_database_matches_models(engine: Engine) -> None:
    upgrade(engine)
    assert differences(engine) == []
    assert TABLES <= tables(engine)  # noqa: SIM300 - a subset check, not a Yoda condition


def test_upgrade_reaches_head(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert head_revision() is not None
    assert current_revision(engine) == head_revision()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert differences(engine) == []


def test_downgrade_to_base_removes_tables(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine)
    assert not TABLES & tables(engine)
    assert current_revision(engine) is None


def test_upgrade_after_downgrade_works(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, 'base')
    upgrade(engine)
    assert differences(engine) == []
    assert current_revision(engine) == head_revision()


def test_store_works_after_downgrade_and_upgrade(engine: Engine, empty_db_url: str) -> None:
    upgrade(engine)
    downgrade(engine)
    upgrade(engine)
    store = Store(empty_db_url)
    try:
        store.create_outconn(OutconnConfig(name='CRM', host='https://crm.example.com'))
        assert [record.config.name for record in store.list_outconns()] == ['CRM']
    finally:
        store.close()


def test_check_current_fails_before_upgrade(engine: Engine) -> None:
    with pytest.raises(SchemaError, match='has no zato-outconn schema yet') as info:
        check_current(engine)
    assert 'db upgrade' in str(info.value)


def test_check_current_passes_after_upgrade(engine: Engine) -> None:
    upgrade(engine)
    assert check_current(engine) is None


def test_check_current_fails_after_downgrade(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine)
    with pytest.raises(SchemaError, match='db upgrade'):
        check_current(engine)


@pytest.mark.postgres
def test_schema_error_never_shows_the_password(pg_database: str) -> None:
    # The test server trusts local connections, so any password gets in.
    url = make_url(pg_database).set(password='not-the-password')
    engine = create_db_engine(url.render_as_string(hide_password=False))
    try:
        with pytest.raises(SchemaError, match='db upgrade') as info:
            check_current(engine)
    finally:
        engine.dispose()
    assert 'not-the-password' not in str(info.value)


def test_every_outconn_setting_is_a_column_of_the_same_name() -> None:
    columns = set(OutgoingConnection.__table__.columns.keys())
    settings = set(OutconnConfig.field_names()) - {'security'}
    assert settings <= columns
    assert 'security_id' in columns


def test_every_security_setting_but_secret_is_a_column_of_the_same_name() -> None:
    columns = set(SecurityDefinition.__table__.columns.keys())
    settings = set(SecurityConfig.field_names()) - {'secret'}
    assert settings <= columns
    assert 'secret' in columns


def test_no_column_without_a_setting() -> None:
    bookkeeping = {'id', 'version', 'created_at', 'updated_at'}
    assert set(OutgoingConnection.__table__.columns.keys()) == (
        set(OutconnConfig.field_names()) - {'security'} | {'security_id'} | bookkeeping)
    assert set(SecurityDefinition.__table__.columns.keys()) == set(SecurityConfig.field_names()) | bookkeeping


def test_required_settings_are_not_null() -> None:
    nullable = {name for name, column in OutgoingConnection.__table__.columns.items() if column.nullable}
    # Exactly the settings the config class treats as optional may be NULL.
    assert nullable == set(OutconnConfig._nullable) - {'security'} | {'security_id'}


def down_and_up(url: str, revision: str) -> None:
    """The database taken down to ``revision`` and up to the head again, its rows kept."""
    engine = create_db_engine(url)
    try:
        downgrade(engine, revision)
        upgrade(engine)
        check_current(engine)
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_keep_rows_that_refer_to_each_other(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.create_security(SecurityConfig(name='creds', sec_type='basic_auth', username='alice', secret='pw'))
        store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', security='creds'))
    finally:
        store.close()
    # Each of these rebuilds tables that other rows point at.
    down_and_up(db_url, '0001')
    store = Store(db_url)
    try:
        (template,) = store.load_templates()
        assert template.config.security == 'creds' and template.security.secret == 'pw'
        with pytest.raises(InUse):
            store.delete_security('creds')
    finally:
        store.close()


def test_a_source_checkout_finds_its_migrations_without_being_installed() -> None:
    # No site (so no editable install), the checkout first and the dependencies after it.
    checkout = Path(__file__).resolve().parents[2]
    path = os.pathsep.join([str(checkout), sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']])
    code = ('import zato_outconn, zato_outconn.store.schema as schema; '
            'print(zato_outconn.__file__); print(schema.migrations_folder()); print(schema.head_revision())')
    result = subprocess.run([sys.executable, '-S', '-c', code], env={**os.environ, 'PYTHONPATH': path},
                            capture_output=True, text=True, check=True, cwd=checkout.parent)
    package, folder, revision = result.stdout.split()
    assert Path(package).parent == checkout / 'zato_outconn'
    assert Path(folder) == checkout / 'migrations'
    assert revision == head_revision()


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from zato_outconn.store.schema import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_ids_of_deleted_rows_are_never_given_again(store: Store) -> None:
    """A row's id names its history and pings: one made after the newest was deleted gets a new id."""
    first = store.create_outconn(OutconnConfig(name='X', host='http://old.example.com', max_retries=5))
    store.delete_outconn('plain_http', 'X')
    second = store.create_outconn(OutconnConfig(name='Y', host='http://new.example.com'))
    assert second.id != first.id
    assert [entry.action for entry in store.history('outconn', second.id)] == ['create']
    definition = store.create_security(SecurityConfig(name='a', sec_type='bearer', secret='t'))
    store.delete_security('a')
    assert store.create_security(SecurityConfig(name='b', sec_type='bearer', secret='t')).id != definition.id


def test_0011_starts_sqlite_ids_past_every_id_its_history_has_seen(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        kept = store.create_outconn(OutconnConfig(name='Kept', host='http://a.example.com'))
        gone = store.create_outconn(OutconnConfig(name='Gone', host='http://b.example.com'))
        store.delete_outconn('plain_http', 'Gone')
    finally:
        store.close()
    # As a database made before 0011: its tables give the highest id plus one.
    down_and_up(sqlite_url, '0010')
    store = Store(sqlite_url)
    try:
        made = store.create_outconn(OutconnConfig(name='New', host='http://c.example.com'))
        assert made.id > gone.id > kept.id
        assert [entry.action for entry in store.history('outconn', made.id)] == ['create']
        assert store.get_outconn('plain_http', 'Kept').config.host == 'http://a.example.com'
    finally:
        store.close()
