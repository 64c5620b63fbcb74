"""Secrets in an imported file: written, and said so in the report and history, never shown.

An export never holds secrets, but a file written by hand (or by a tool provisioning credentials)
may: a definition's ``secret`` and ``key_password`` are written on create and on update, and the
report and history say which secret changed, never its value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from zato_outconn import ImportRefused, OutconnConfig, SecurityConfig, Store
from zato_outconn.config import MASK
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

from tests.support.tls_servers import ClientIdentity

OLD, NEW = 'Old-S3cret-never-shown', 'New-S3cret-never-shown'


def _document(**settings: Any) -> dict[str, Any]:
    definition = {'name': 'basic', 'sec_type': 'basic_auth', 'username': 'alice', **settings}
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [definition], 'outconns': []}


def _stored_secret(store: Store) -> str | None:
    template = store.load_templates(name='CRM', transport='plain_http')[0]
    assert template.security is not None
    return template.security.secret


@pytest.fixture
def stored(store: Store) -> Store:
    store.create_security(SecurityConfig(name='basic', sec_type='basic_auth', username='alice', secret=OLD))
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', security='basic'))
    return store


def _never_shown(*texts: str) -> None:
    for text in texts:
        assert OLD not in text and NEW not in text, text


def test_a_new_secret_alone_is_an_update_said_in_the_report_and_history(stored: Store) -> None:
    document = _document(secret=NEW)
    dry = stored.import_document(document, on_conflict='overwrite', dry_run=True)
    item = dry.items[0]
    assert (item.action, item.changes) == ('update', {'secret': 'changed'})
    assert item.line() == "update     security[0] 'basic': secret changed"
    assert _stored_secret(stored) == OLD
    done = stored.import_document(document, on_conflict='overwrite')
    assert done.counts() == {'update': 1} and _stored_secret(stored) == NEW
    entry = stored.history('security', stored.get_security('basic').id)[-1]
    assert (entry.action, entry.changes) == ('edit', {'secret': 'changed'})
    _never_shown(item.line(), json.dumps(dry.as_dict()), json.dumps(done.as_dict()), json.dumps(entry.as_dict()))


def test_the_same_secret_again_is_unchanged_and_not_written(stored: Store) -> None:
    before = stored.last_change()
    for secret in (OLD, '', MASK):
        report = stored.import_document(_document(secret=secret), on_conflict='overwrite')
        assert [(item.action, item.changes) for item in report.items] == [('unchanged', {})]
    assert stored.last_change() == before and _stored_secret(stored) == OLD


def test_a_secret_beside_other_changes_is_reported_with_them(stored: Store) -> None:
    report = stored.import_document(_document(username='bob', secret=NEW), on_conflict='overwrite', dry_run=True)
    assert report.items[0].changes == {'username': ['alice', 'bob'], 'secret': 'changed'}
    assert report.items[0].line() == "update     security[0] 'basic': username 'alice' -> 'bob'; secret changed"
    # With skip, nothing is written, the secret neither.
    skipped = stored.import_document(_document(secret=NEW), on_conflict='skip')
    assert skipped.items[0].action == 'skip' and _stored_secret(stored) == OLD


def test_a_new_definition_says_which_secrets_it_is_created_with(store: Store) -> None:
    report = store.import_document(_document(secret=NEW), dry_run=True)
    assert (report.items[0].action, report.items[0].changes) == ('create', {'secret': 'changed'})
    assert report.items[0].line() == "create     security[0] 'basic': secret set"
    without = store.import_document(_document(), dry_run=True)
    assert without.items[0].changes == {} and without.items[0].line() == "create     security[0] 'basic'"
    _never_shown(json.dumps(report.as_dict()))


def test_an_mtls_key_and_its_password_given_as_stored_are_unchanged(store: Store, identity: ClientIdentity) -> None:
    settings = {'name': 'cert', 'sec_type': 'mtls', 'client_cert': identity.cert_pem}
    store.create_security(SecurityConfig(**settings, secret=identity.key_pem, key_password=identity.key_password))
    document: dict[str, Any] = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'outconns': [],
                'security': [{**settings, 'secret': identity.key_pem, 'key_password': identity.key_password}]}
    report = store.import_document(document, on_conflict='overwrite', dry_run=True)
    assert [(item.action, item.changes) for item in report.items] == [('unchanged', {})]
    # A wrong password is refused as the store refuses it, naming the key, and never shown.
    document['security'][0]['key_password'] = 'another-password'
    with pytest.raises(ImportRefused) as refused:
        store.import_document(document, on_conflict='overwrite', dry_run=True)
    assert 'another-password' not in str(refused.value)
