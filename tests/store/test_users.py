"""Admin users in the store on real SQLite and PostgreSQL: password and role rules, the last admin, sign-in."""

from __future__ import annotations

import threading
from datetime import timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from zato_outconn import ConfigError, NotFound, Store
from zato_outconn.config.roles import ROLE_NAMES
from zato_outconn.store import UserRecord
from zato_outconn.store import users as users_module
from zato_outconn.store.models import AdminUser

PASSWORD = 'correct-horse-7'
OTHER_PASSWORD = 'battery-staple-9'
# Cheap enough to keep the tests quick; the default stays werkzeug's slow scrypt.
TEST_METHOD = 'scrypt:1024:8:1'
DEFAULT_METHOD = users_module.PASSWORD_METHOD


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_module, 'PASSWORD_METHOD', TEST_METHOD)


def stored_hash(store: Store, name: str) -> str:
    with store.engine.connect() as connection:
        value = connection.scalar(select(AdminUser.password_hash).where(AdminUser.name == name))
    assert isinstance(value, str)
    return value


# ---------------------------------------------------------------------- create, read, delete


def test_a_user_is_created_listed_and_read_without_any_password(store: Store) -> None:
    created = store.create_user('alice', 'admin', PASSWORD)
    store.create_user('bob', 'viewer', OTHER_PASSWORD)

    assert isinstance(created, UserRecord)
    assert (created.name, created.role) == ('alice', 'admin')
    assert created.created_at.tzinfo is not None and created.created_at.utcoffset() == timezone.utc.utcoffset(None)
    assert created.updated_at == created.created_at
    assert store.get_user('alice') == created
    assert [user.name for user in store.list_users()] == ['alice', 'bob']
    shown = created.as_dict()
    assert set(shown) == {'id', 'name', 'role', 'created_at', 'updated_at'}
    assert PASSWORD not in repr(created) and PASSWORD not in str(shown)
    assert stored_hash(store, 'alice') not in repr(created)


def test_the_password_is_stored_only_as_a_scrypt_hash(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)

    stored = stored_hash(store, 'alice')
    assert stored.startswith('scrypt:') and PASSWORD not in stored


def test_the_default_hash_is_werkzeugs_full_scrypt(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_METHOD == 'scrypt'
    monkeypatch.setattr(users_module, 'PASSWORD_METHOD', DEFAULT_METHOD)
    store.create_user('alice', 'admin', PASSWORD)

    assert stored_hash(store, 'alice').startswith('scrypt:32768:8:1$')


def test_unknown_users_are_not_found(store: Store) -> None:
    for call in (lambda: store.get_user('nobody'), lambda: store.delete_user('nobody'),
                 lambda: store.set_user_password('nobody', PASSWORD),
                 lambda: store.set_user_role('nobody', 'viewer')):
        with pytest.raises(NotFound, match="No admin user named 'nobody'"):
            call()


def test_a_user_who_is_not_the_last_admin_is_deleted(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)
    store.create_user('bob', 'operator', OTHER_PASSWORD)

    store.delete_user('bob')

    assert [user.name for user in store.list_users()] == ['alice']
    assert store.check_password('bob', OTHER_PASSWORD) is None


# ---------------------------------------------------------------------- rules


@pytest.mark.parametrize('password', ['', 'short', '123456789'])
def test_a_password_under_ten_characters_is_refused_without_being_repeated(store: Store, password: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create_user('alice', 'admin', password)

    assert caught.value.field == 'password'
    assert 'at least 10 characters' in caught.value.rule
    if password:
        assert password not in str(caught.value)
    assert store.list_users() == []


@pytest.mark.parametrize('password', ['administrator', 'ADMINISTRATOR', 'AdMiNiStRaToR'])
def test_a_password_equal_to_the_name_is_refused_whatever_its_case(store: Store, password: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create_user('Administrator', 'admin', password)

    assert caught.value.field == 'password'
    assert 'must not be the user name' in caught.value.rule
    assert password not in str(caught.value)


def test_a_new_password_follows_the_same_rules_and_is_never_repeated(store: Store) -> None:
    store.create_user('alice_admin', 'admin', PASSWORD)
    before = stored_hash(store, 'alice_admin')

    for password in ('tiny-pw', 'ALICE_ADMIN'):
        with pytest.raises(ConfigError) as caught:
            store.set_user_password('alice_admin', password)
        assert caught.value.field == 'password' and password not in str(caught.value)

    assert stored_hash(store, 'alice_admin') == before


@pytest.mark.parametrize('role', ['root', 'Admin', '', 'viewer '])
def test_an_unknown_role_is_refused_naming_the_roles(store: Store, role: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create_user('alice', role, PASSWORD)

    assert caught.value.field == 'role'
    assert all(name in caught.value.rule for name in ROLE_NAMES)
    store.create_user('alice', 'admin', PASSWORD)
    with pytest.raises(ConfigError, match='role: must be one of'):
        store.set_user_role('alice', role)


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_role_can_be_given(store: Store, role: str) -> None:
    assert store.create_user(f'user-{role}', role, PASSWORD).role == role


@pytest.mark.parametrize('name', ['', '   ', ' alice', 'al\nice', 'x' * 201])
def test_a_bad_name_is_refused(store: Store, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create_user(name, 'viewer', PASSWORD)

    assert caught.value.field == 'name'


def test_a_duplicate_name_is_refused(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)

    with pytest.raises(ConfigError) as caught:
        store.create_user('alice', 'viewer', OTHER_PASSWORD)

    assert caught.value.field == 'name' and 'already exists' in caught.value.rule
    assert [(user.name, user.role) for user in store.list_users()] == [('alice', 'admin')]


# ---------------------------------------------------------------------- the last admin


def test_the_last_admin_can_be_neither_deleted_nor_demoted(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)
    store.create_user('bob', 'viewer', OTHER_PASSWORD)

    with pytest.raises(ConfigError, match='last admin') as deleted:
        store.delete_user('alice')
    with pytest.raises(ConfigError, match='last admin') as demoted:
        store.set_user_role('alice', 'operator')

    assert deleted.value.field == 'name' and demoted.value.field == 'role'
    assert 'make another user an admin first' in str(deleted.value)
    assert store.get_user('alice').role == 'admin'


def test_the_last_admin_may_go_once_a_second_admin_exists(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)
    store.create_user('bob', 'viewer', OTHER_PASSWORD)
    promoted = store.set_user_role('bob', 'admin')
    assert promoted.role == 'admin' and promoted.updated_at >= promoted.created_at

    assert store.set_user_role('alice', 'viewer').role == 'viewer'
    store.delete_user('alice')

    assert [(user.name, user.role) for user in store.list_users()] == [('bob', 'admin')]
    with pytest.raises(ConfigError, match='last admin'):
        store.delete_user('bob')


def test_non_admins_go_freely_and_an_admin_keeps_the_role_it_has(store: Store) -> None:
    store.create_user('alice', 'admin', PASSWORD)
    store.create_user('bob', 'operator', OTHER_PASSWORD)

    assert store.set_user_role('alice', 'admin').role == 'admin'
    assert store.set_user_role('bob', 'viewer').role == 'viewer'
    store.delete_user('bob')


def test_two_stores_removing_the_two_admins_at_once_leave_one(db_url: str) -> None:
    """Each sees the other admin before it writes; only one of them may go through."""
    first, second = Store(db_url), Store(db_url)
    try:
        first.create_user('alice', 'admin', PASSWORD)
        first.create_user('bob', 'admin', OTHER_PASSWORD)
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def remove(store: Store, name: str) -> None:
            start.wait()
            try:
                store.delete_user(name)
            except ConfigError as error:
                errors.append(error)

        threads = [threading.Thread(target=remove, args=(first, 'alice')),
                   threading.Thread(target=remove, args=(second, 'bob'))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        left = first.list_users()
        assert len(left) == 1 and left[0].role == 'admin'
        assert len(errors) == 1 and 'last admin' in str(errors[0])
    finally:
        first.close()
        second.close()


# ---------------------------------------------------------------------- passwords


def test_check_password_knows_the_right_password_only(store: Store) -> None:
    created = store.create_user('alice', 'operator', PASSWORD)

    assert store.check_password('alice', PASSWORD) == created
    assert store.check_password('alice', OTHER_PASSWORD) is None
    assert store.check_password('alice', PASSWORD.upper()) is None
    assert store.check_password('alice', '') is None
    assert store.check_password('ALICE', PASSWORD) is None


def test_check_password_of_a_missing_user_checks_a_dummy_hash(store: Store,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store.create_user('alice', 'admin', PASSWORD)
    checked: list[str] = []
    matches = users_module._matches

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return matches(password_hash, password)

    monkeypatch.setattr(users_module, '_matches', counting)

    assert store.check_password('nobody', PASSWORD) is None
    assert store.check_password('alice', PASSWORD) is not None
    # As much work for a name that does not exist as for one that does: one hash checked each time,
    # made the same way.
    assert len(checked) == 2
    assert checked[0].split('$')[0] == checked[1].split('$')[0] == TEST_METHOD


def test_a_changed_password_replaces_the_old_one(store: Store) -> None:
    created = store.create_user('alice', 'admin', PASSWORD)

    changed = store.set_user_password('alice', OTHER_PASSWORD)

    assert changed.updated_at >= created.updated_at and changed.created_at == created.created_at
    assert store.check_password('alice', PASSWORD) is None
    assert store.check_password('alice', OTHER_PASSWORD) == changed


def test_no_plain_password_reaches_the_sqlite_file(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        store.create_user('alice', 'admin', PASSWORD)
        store.set_user_password('alice', OTHER_PASSWORD)
        with pytest.raises(ConfigError):
            store.create_user('bob', 'admin', 'bob-short')  # too short: refused before anything is written
    finally:
        store.close()

    path = make_url(sqlite_url).database
    assert path is not None
    content = Path(path).read_bytes()
    for password in (PASSWORD, OTHER_PASSWORD, 'bob-short'):
        assert password.encode() not in content
    assert b'alice' in content  # the file read is the one written
