"""API tokens in the store on real SQLite and PostgreSQL: made once, kept hashed, checked, expired, revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from zato_outconn import ConfigError, NotFound, Store
from zato_outconn.config.roles import ROLE_NAMES
from zato_outconn.store import TokenRecord
from zato_outconn.store.models import APIToken, utc_now


def stored_hash(store: Store, name: str) -> str:
    with store.engine.connect() as connection:
        value = connection.scalar(select(APIToken.token_hash).where(APIToken.name == name))
    assert isinstance(value, str)
    return value


def move_expiry(store: Store, name: str, delta: timedelta) -> None:
    """Set the stored expiry to now plus delta, with SQL rather than through the store."""
    with store.engine.begin() as connection:
        connection.execute(update(APIToken).where(APIToken.name == name).values(expires_at=utc_now() + delta))


# ---------------------------------------------------------------------- create


def test_a_token_is_given_once_and_only_its_sha256_is_kept(store: Store) -> None:
    record, token = store.create_token('ci', 'operator')

    assert isinstance(record, TokenRecord)
    assert token.startswith('zoc_') and len(token) >= 4 + 43
    assert (record.name, record.role, record.expires_at, record.last_used_at) == ('ci', 'operator', None, None)
    assert record.created_at.utcoffset() == timedelta(0)
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert stored_hash(store, 'ci') == digest
    with store.engine.connect() as connection:
        row = connection.execute(select(APIToken).where(APIToken.name == 'ci')).one()
    assert token not in repr(tuple(row))
    for shown in (repr(record), str(record.as_dict()), repr(store.list_tokens()), repr(store.get_token('ci'))):
        assert token not in shown and digest not in shown
    assert set(record.as_dict()) == {'id', 'name', 'role', 'created_at', 'expires_at', 'last_used_at'}


def test_every_token_is_different(store: Store) -> None:
    tokens = {store.create_token(f'ci-{number}', 'viewer')[1] for number in range(5)}

    assert len(tokens) == 5
    assert [record.name for record in store.list_tokens()] == [f'ci-{number}' for number in range(5)]


def test_expires_days_sets_the_expiry(store: Store) -> None:
    before = utc_now()
    record, _ = store.create_token('ci', 'viewer', expires_days=30)

    assert record.expires_at is not None
    assert before + timedelta(days=30) <= record.expires_at <= utc_now() + timedelta(days=30)
    assert store.get_token('ci').expires_at == record.expires_at
    assert record.as_dict()['expires_at'] == record.expires_at.isoformat()
    assert not record.expired()


@pytest.mark.parametrize('days', [0, -1, 3651, 1.5, '7', True])
def test_expires_days_must_be_a_whole_number_from_1_to_3650(store: Store, days: object) -> None:
    with pytest.raises(ConfigError) as caught:
        store.create_token('ci', 'viewer', expires_days=days)  # type: ignore[arg-type]

    assert caught.value.field == 'expires_days' and '1 to 3650' in caught.value.rule
    assert store.list_tokens() == []


@pytest.mark.parametrize('days', [1, 3650])
def test_the_limits_of_expires_days_are_allowed(store: Store, days: int) -> None:
    assert store.create_token('ci', 'viewer', expires_days=days)[0].expires_at is not None


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_role_can_be_given(store: Store, role: str) -> None:
    assert store.create_token(f'token-{role}', role)[0].role == role


def test_an_unknown_role_or_bad_name_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError) as role:
        store.create_token('ci', 'superuser')
    with pytest.raises(ConfigError) as name:
        store.create_token(' ci', 'viewer')

    assert role.value.field == 'role' and all(known in role.value.rule for known in ROLE_NAMES)
    assert name.value.field == 'name'
    assert store.list_tokens() == []


def test_a_duplicate_name_is_refused(store: Store) -> None:
    _, first = store.create_token('ci', 'viewer')

    with pytest.raises(ConfigError) as caught:
        store.create_token('ci', 'admin')

    assert caught.value.field == 'name' and 'already exists' in caught.value.rule
    assert [(record.name, record.role) for record in store.list_tokens()] == [('ci', 'viewer')]
    assert store.check_token(first) is not None


# ---------------------------------------------------------------------- check


def test_the_right_token_is_accepted_and_its_use_noted(store: Store) -> None:
    created, token = store.create_token('ci', 'operator')
    before = utc_now()

    checked = store.check_token(token)

    assert checked is not None
    assert (checked.id, checked.name, checked.role) == (created.id, 'ci', 'operator')
    assert checked.last_used_at is not None and before <= checked.last_used_at <= utc_now()
    assert store.get_token('ci').last_used_at == checked.last_used_at
    again = store.check_token(token)
    assert again is not None and again.last_used_at is not None and again.last_used_at >= checked.last_used_at


@pytest.mark.parametrize('wrong', ['', 'zoc_', 'zoc_nope', 'Bearer x', 'x' * 5000])
def test_a_wrong_token_is_refused(store: Store, wrong: str) -> None:
    _, token = store.create_token('ci', 'admin')

    assert store.check_token(wrong) is None
    assert store.check_token(token[:-1]) is None
    assert store.check_token(token + 'x') is None
    assert store.check_token(token.upper()) is None
    assert store.check_token(hashlib.sha256(token.encode()).hexdigest()) is None
    assert store.get_token('ci').last_used_at is None


def test_an_expired_token_is_refused(store: Store) -> None:
    _, token = store.create_token('ci', 'admin', expires_days=1)
    assert store.check_token(token) is not None

    move_expiry(store, 'ci', -timedelta(seconds=1))

    used = store.get_token('ci').last_used_at
    assert store.check_token(token) is None
    assert store.get_token('ci').last_used_at == used
    assert store.get_token('ci').expired()
    move_expiry(store, 'ci', timedelta(hours=1))
    assert store.check_token(token) is not None


def test_a_revoked_token_is_refused_and_gone(store: Store) -> None:
    _, token = store.create_token('ci', 'admin')
    _, other = store.create_token('deploy', 'viewer')

    store.revoke_token('ci')

    assert store.check_token(token) is None
    assert [record.name for record in store.list_tokens()] == ['deploy']
    assert store.check_token(other) is not None
    with store.engine.connect() as connection:
        assert connection.scalar(select(APIToken.id).where(APIToken.name == 'ci')) is None
    with pytest.raises(NotFound, match="No API token named 'ci'"):
        store.revoke_token('ci')
    with pytest.raises(NotFound):
        store.get_token('ci')


def test_a_revoked_name_can_be_used_again_with_a_new_token(store: Store) -> None:
    _, old = store.create_token('ci', 'admin')
    store.revoke_token('ci')

    _, new = store.create_token('ci', 'viewer')

    assert new != old
    assert store.check_token(old) is None
    checked = store.check_token(new)
    assert checked is not None and checked.role == 'viewer'


def test_no_plain_token_reaches_the_sqlite_file(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        _, token = store.create_token('ci', 'admin', expires_days=10)
        assert store.check_token(token) is not None
        _, revoked = store.create_token('old', 'viewer')
        store.revoke_token('old')
    finally:
        store.close()

    path = make_url(sqlite_url).database
    assert path is not None
    content = Path(path).read_bytes()
    assert token.encode() not in content and revoked.encode() not in content
    assert token[4:].encode() not in content
    assert hashlib.sha256(token.encode()).hexdigest().encode() in content  # the file read is the one written
