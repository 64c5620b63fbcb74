"""The session epoch of admin users: counted up to end every session of one user, and only theirs."""

from __future__ import annotations

import pytest

from zato_outconn import Store
from zato_outconn.exceptions import NotFound
from zato_outconn.store import users as users_module

PASSWORD = 'Pa55word-long-enough'


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_module, 'PASSWORD_METHOD', 'scrypt:1024:8:1')


def test_ending_sessions_counts_up_only_that_users_epoch(store: Store) -> None:
    alice = store.create_user('alice', 'viewer', PASSWORD)
    bob = store.create_user('bob', 'viewer', PASSWORD)
    assert alice.session_epoch == bob.session_epoch == 0
    store.end_sessions('alice')
    store.end_sessions('alice')
    assert store.get_user('alice').session_epoch == 2
    assert store.get_user('bob').session_epoch == 0
    assert 'session_epoch' not in store.get_user('alice').as_dict()


def test_a_new_password_or_role_ends_the_sessions(store: Store) -> None:
    store.create_user('alice', 'viewer', PASSWORD)
    assert store.set_user_password('alice', 'An0ther-long-password').session_epoch == 1
    assert store.set_user_role('alice', 'operator').session_epoch == 2
    assert store.set_user_role('alice', 'operator').session_epoch == 2  # the same role: nothing changed


def test_ending_the_sessions_of_no_user_says_so(store: Store) -> None:
    with pytest.raises(NotFound):
        store.end_sessions('nobody')
