"""Failed sign-ins counted in the database, per user name and per address (SQLite and PostgreSQL), and
migration 0009 that adds their table, both ways."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, inspect

from zato_outconn import Store
from zato_outconn.store.logins import Lockout, PendingLogin
from zato_outconn.store.models import utc_now
from zato_outconn.store.schema import downgrade, upgrade

WINDOW = 900.0


def test_a_lockout_starts_at_the_limit_and_ends_when_the_oldest_failure_leaves_the_window(store: Store) -> None:
    start = utc_now()
    for minute in range(4):
        store.record_failed_login('alice', f'10.0.0.{minute}', WINDOW, now=start + timedelta(minutes=minute))
    assert store.login_lockout('alice', '10.0.0.9', 5, WINDOW, now=start + timedelta(minutes=4)) is None
    store.record_failed_login('alice', '10.0.0.4', WINDOW, now=start + timedelta(minutes=4))
    lockout = store.login_lockout('alice', '10.0.0.9', 5, WINDOW, now=start + timedelta(minutes=5))
    assert lockout == Lockout('user', 600.0)
    # The first failure leaves the window 15 minutes after it was made.
    assert store.login_lockout('alice', '10.0.0.9', 5, WINDOW, now=start + timedelta(minutes=15, seconds=1)) is None
    assert store.login_lockout('bob', '10.0.0.9', 5, WINDOW, now=start + timedelta(minutes=5)) is None


def test_an_address_is_counted_across_names_and_a_success_clears_the_name_only(store: Store) -> None:
    for attempt in range(5):
        store.record_failed_login(f'user{attempt}', '10.0.0.7', WINDOW)
    lockout = store.login_lockout('someone', '10.0.0.7', 5, WINDOW)
    assert lockout is not None and lockout.kind == 'address' and 899 < lockout.seconds <= 900
    store.clear_failed_logins('user0')
    assert store.failed_login_count('user', 'user0') == 0
    assert store.failed_login_count('address', '10.0.0.7') == 5


def test_old_failures_are_pruned_and_long_names_are_cut(store: Store) -> None:
    long_name = 'x' * 500
    store.record_failed_login(long_name, '10.0.0.1', WINDOW, now=utc_now() - timedelta(hours=1))
    assert store.failed_login_count('user', long_name) == 1
    store.record_failed_login('alice', '10.0.0.2', WINDOW)
    assert store.failed_login_count('user', long_name) == 0
    for _ in range(5):
        store.record_failed_login(long_name, '10.0.0.3', WINDOW)
    lockout = store.login_lockout(long_name, '10.0.0.4', 5, WINDOW)
    assert lockout is not None and lockout.kind == 'user'


def test_a_started_sign_in_counts_as_a_failure_until_it_succeeds(store: Store) -> None:
    for attempt in range(3):
        store.record_failed_login('alice', '10.0.0.7', WINDOW)
        store.record_failed_login(f'user{attempt}', '10.0.0.8', WINDOW)
    pending = store.start_login('alice', '10.0.0.8', 5, WINDOW)
    assert isinstance(pending, PendingLogin)
    # While its password is checked, it counts against both.
    assert store.failed_login_count('user', 'alice') == 4
    assert store.failed_login_count('address', '10.0.0.8') == 4
    store.login_succeeded(pending)
    # The user's failures are forgotten; the address keeps those before, not this sign-in.
    assert store.failed_login_count('user', 'alice') == 0
    assert store.failed_login_count('address', '10.0.0.8') == 3
    assert store.failed_login_count('address', '10.0.0.7') == 3


def test_a_sign_in_started_at_the_limit_is_refused_and_not_counted(store: Store) -> None:
    for _ in range(4):
        store.record_failed_login('alice', '10.0.0.7', WINDOW)
    assert isinstance(store.start_login('alice', '10.0.0.9', 5, WINDOW), PendingLogin)
    refused = store.start_login('alice', '10.0.0.10', 5, WINDOW)
    assert isinstance(refused, Lockout) and refused.kind == 'user'
    assert store.failed_login_count('user', 'alice') == 5
    assert store.failed_login_count('address', '10.0.0.10') == 0


def test_0009_adds_the_table_and_its_downgrade_drops_it(engine: Engine) -> None:
    def tables() -> set[str]:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())

    upgrade(engine, '0008')
    assert 'failed_login' not in tables()
    upgrade(engine, '0009')
    assert 'failed_login' in tables()
    with engine.connect() as connection:
        indexes = inspect(connection).get_indexes('failed_login')
    assert [(index['name'], index['column_names']) for index in indexes] == [
        ('ix_failed_login_kind_key_failed_at', ['kind', 'key', 'failed_at'])]
    downgrade(engine, '0008')
    assert 'failed_login' not in tables()
