"""The users and tokens pages: admins only; users created, given a password or role, deleted (not
yourself, not the last admin); tokens made and shown once, listed, revoked; passwords never shown."""

from __future__ import annotations

import logging
import re

import pytest

from zato_outconn import Store

from tests.admin.conftest import make_app
from tests.admin.pages_client import Pages, form_errors

PASSWORD = 'Fresh-pa55word-91'
XSS = '<script>alert(1)</script>'


pytestmark = pytest.mark.usefixtures('cheap_hashes')


def _names(store: Store) -> list[str]:
    return [record.name for record in store.list_users()]


def test_an_admin_creates_a_user_who_can_then_sign_in(store: Store) -> None:
    pages = Pages(make_app(store), store)
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users', '/users', {'name': 'olga', 'role': 'operator', 'password': PASSWORD,
                                               'password_again': PASSWORD})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    record = store.get_user('olga')
    assert record.role == 'operator' and store.check_password('olga', PASSWORD) == record
    text = pages.text('/users')
    assert 'Created user &#39;olga&#39; (operator)' in text and 'olga' in text
    assert all(PASSWORD not in seen for seen in pages.seen)


def test_every_bad_input_of_a_new_user_is_shown_in_place_and_nothing_is_written(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users', '/users', {'name': ' spaced ', 'role': 'superuser', 'password': 'short',
                                               'password_again': 'other'})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    fields = [message.split(' ', 1)[0] for message in form_errors(text)]
    assert fields == ['name', 'role', 'password', 'password_again'], form_errors(text)
    assert 'short' not in text and 'value=" spaced "' in text
    assert _names(pages.store) == ['root']
    mismatch = pages.submit('/users', '/users', {'name': 'olga', 'role': 'viewer', 'password': PASSWORD,
                                                 'password_again': PASSWORD + 'x'})
    assert form_errors(mismatch.get_data(as_text=True)) == [
        'password_again is not the same as password; type the same password twice']
    taken = pages.submit('/users', '/users', {'name': 'root', 'role': 'viewer', 'password': PASSWORD,
                                              'password_again': PASSWORD})
    assert taken.status_code == 422 and 'already exists' in taken.get_data(as_text=True)
    assert _names(pages.store) == ['root']
    assert all(PASSWORD not in seen for seen in pages.seen)


def test_a_new_password_is_set_and_never_shown(pages: Pages, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pages.sign_in('admin', 'root')
    pages.store.create_user('olga', 'viewer', 'Old-pa55word-1')
    answer = pages.submit('/users', '/users/password', {'name': 'olga', 'password': PASSWORD,
                                                        'password_again': PASSWORD})
    assert answer.status_code == 303
    assert pages.store.check_password('olga', PASSWORD) is not None
    refused = pages.submit('/users', '/users/password', {'name': 'olga', 'password': 'olga',
                                                         'password_again': 'olga'})
    assert refused.status_code == 422 and 'password must be at least 10 characters' in refused.get_data(as_text=True)
    nobody = pages.submit('/users', '/users/password', {'name': 'nobody', 'password': PASSWORD,
                                                        'password_again': PASSWORD})
    assert nobody.status_code == 422 and 'is not a user here' in nobody.get_data(as_text=True)
    # One's own new password keeps this session signed in.
    mine = pages.submit('/users', '/users/password', {'name': 'root', 'password': PASSWORD + '2',
                                                      'password_again': PASSWORD + '2'})
    assert mine.status_code == 303 and pages.get('/users').status_code == 200
    assert all(PASSWORD not in seen for seen in pages.seen) and PASSWORD not in caplog.text


def test_nobody_deletes_themselves_or_the_last_admin(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    pages.store.create_user('olga', 'viewer', 'Old-pa55word-1')
    text = pages.text('/users')
    assert 'You cannot delete yourself.' in text
    assert 'data-confirm="Delete the user olga? They can no longer sign in."' in text
    refused = pages.submit('/users', '/users/delete', {'name': 'root'})
    assert refused.status_code == 409 and 'You cannot delete yourself' in refused.get_data(as_text=True)
    assert pages.submit('/users', '/users/delete', {'name': 'olga'}).status_code == 303
    assert _names(pages.store) == ['root']
    # root is the last admin: the store refuses to leave none, by role as by deletion.
    demoted = pages.submit('/users', '/users/role', {'name': 'root', 'role': 'viewer'})
    assert demoted.status_code == 422 and 'last admin' in demoted.get_data(as_text=True)
    assert pages.store.get_user('root').role == 'admin'
    pages.store.create_user('boss', 'admin', 'Boss-pa55word-1')
    other = Pages(pages.app, pages.store)
    other.sign_in('admin', 'second')
    assert other.submit('/users', '/users/delete', {'name': 'root'}).status_code == 303
    assert other.submit('/users', '/users/delete', {'name': 'nobody'}).status_code == 404
    assert other.submit('/users', '/users/role', {'name': 'boss', 'role': 'operator'}).status_code == 303
    assert pages.store.get_user('boss').role == 'operator'


def test_a_token_is_shown_once_then_listed_without_it_and_revoked(pages: Pages,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users/tokens', '/users/tokens', {'name': 'deploy-bot', 'role': 'operator',
                                                             'expires_days': '30'})
    assert answer.status_code == 201 and answer.headers['Cache-Control'] == 'no-store'
    text = answer.get_data(as_text=True)
    token = re.search(r'<code class="token">([^<]+)</code>', text)
    assert token and 'it will not be shown again' in text
    secret = token.group(1)
    assert pages.store.check_token(secret) is not None
    assert pages.client.get('/api/v1/outconns', headers={'Authorization': f'Bearer {secret}'}).status_code == 200
    listed = pages.text('/users/tokens')
    assert 'deploy-bot' in listed and 'operator' in listed and secret not in listed
    assert 'never</td>' not in listed.split('deploy-bot')[1].split('</tr>')[0]  # expires and was just used
    assert 'data-confirm="Revoke the API token deploy-bot?' in listed
    pages.text('/users')
    assert [seen for seen in pages.seen if secret in seen] == [text]
    assert pages.submit('/users/tokens', '/users/tokens/revoke', {'name': 'deploy-bot'}).status_code == 303
    assert pages.store.list_tokens() == [] and pages.store.check_token(secret) is None
    assert pages.submit('/users/tokens', '/users/tokens/revoke', {'name': 'deploy-bot'}).status_code == 404
    assert secret not in caplog.text


def test_every_bad_input_of_a_new_token_is_shown_in_place(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users/tokens', '/users/tokens', {'name': '', 'role': 'boss', 'expires_days': '0'})
    assert answer.status_code == 422
    fields = [message.split(' ', 1)[0] for message in form_errors(answer.get_data(as_text=True))]
    assert fields == ['name', 'role', 'expires_days']
    assert pages.submit('/users/tokens', '/users/tokens', {'name': 'x', 'role': 'viewer', 'expires_days': 'soon'}
                        ).status_code == 422
    pages.store.create_token('taken', 'viewer')
    taken = pages.submit('/users/tokens', '/users/tokens', {'name': 'taken', 'role': 'viewer'})
    assert taken.status_code == 422 and 'already exists' in taken.get_data(as_text=True)
    assert [record.name for record in pages.store.list_tokens()] == ['taken']
    never = pages.submit('/users/tokens', '/users/tokens', {'name': 'forever', 'role': 'viewer', 'expires_days': ''})
    assert never.status_code == 201 and pages.store.get_token('forever').expires_at is None


@pytest.mark.parametrize('role', ['viewer', 'operator'])
def test_only_admins_see_or_change_users_and_tokens(pages: Pages, role: str) -> None:
    pages.store.create_user('root', 'admin', 'Root-pa55word-1')
    pages.store.create_token('bot', 'viewer')
    pages.sign_in(role)
    assert 'href="/users"' not in pages.text('/security')
    for path in ('/users', '/users/tokens'):
        assert pages.get(path).status_code == 403
    for action, data in (('/users', {'name': 'x', 'role': 'admin', 'password': PASSWORD, 'password_again': PASSWORD}),
                         ('/users/password', {'name': 'root', 'password': PASSWORD, 'password_again': PASSWORD}),
                         ('/users/role', {'name': f'{role}-person', 'role': 'admin'}),
                         ('/users/delete', {'name': 'root'}), ('/users/tokens', {'name': 'mine', 'role': 'admin'}),
                         ('/users/tokens/revoke', {'name': 'bot'})):
        assert pages.submit('/security', action, data).status_code == 403, action
    assert _names(pages.store) == sorted(['root', f'{role}-person'])
    assert pages.store.get_user(f'{role}-person').role == role
    assert pages.store.check_password('root', PASSWORD) is None
    assert [record.name for record in pages.store.list_tokens()] == ['bot']


def test_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    pages.store.create_token('bot', 'viewer')
    for action, data in (('/users', {'name': 'x', 'role': 'admin', 'password': PASSWORD, 'password_again': PASSWORD}),
                         ('/users/password', {'name': 'root', 'password': PASSWORD, 'password_again': PASSWORD}),
                         ('/users/tokens', {'name': 'mine', 'role': 'admin'}),
                         ('/users/tokens/revoke', {'name': 'bot'})):
        assert pages.submit('/users', action, data, csrf=False).status_code == 400, action
    assert _names(pages.store) == ['root'] and pages.store.check_password('root', PASSWORD) is None
    assert [record.name for record in pages.store.list_tokens()] == ['bot']


def test_names_with_markup_render_as_text(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    pages.store.create_user(XSS, 'viewer', 'Xss-pa55word-1')
    pages.store.create_token(XSS, 'viewer')
    for path in ('/users', '/users/tokens'):
        text = pages.text(path)
        assert XSS not in text and '&lt;script&gt;alert(1)&lt;/script&gt;' in text


def test_someone_not_signed_in_is_sent_to_sign_in_first(pages: Pages) -> None:
    for path in ('/security', '/security/new', '/transfer', '/transfer/export', '/users', '/users/tokens'):
        answer = pages.get(path)
        assert answer.status_code == 302 and answer.headers['Location'].startswith('/login?next='), path
    token = pages.token_of('/login')
    answer = pages.client.post('/users/tokens', data={'csrf_token': token, 'name': 'mine', 'role': 'admin'})
    assert answer.status_code == 302 and pages.store.list_tokens() == []


@pytest.mark.parametrize('days', ['\u00b2', '\u0663', '1' * 5000, '\uff15'],
                         ids=['superscript', 'arabic-indic', 'five-thousand-digits', 'full-width'])
def test_expires_days_that_are_digits_of_no_number_we_take_are_refused_in_place(pages: Pages, days: str) -> None:
    # str.isdigit() holds for superscripts, other scripts' digits and 5,000 of them, which int() refuses.
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users/tokens', '/users/tokens', {'name': 'bot', 'role': 'viewer', 'expires_days': days})
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert [message.split(' ', 1)[0] for message in form_errors(answer.get_data(as_text=True))] == ['expires_days']
    assert pages.store.list_tokens() == []


def test_an_admin_who_gives_themselves_another_role_lands_on_a_page_they_may_see(pages: Pages) -> None:
    pages.store.create_user('boss', 'admin', 'Boss-pa55word-1')
    pages.sign_in('admin', 'root')
    answer = pages.submit('/users', '/users/role', {'name': 'root', 'role': 'operator'})
    assert answer.status_code == 303 and answer.headers['Location'] == '/outconns'
    landed = pages.text('/outconns')
    assert 'root&#39; now has the role operator' in landed
    assert pages.get('/users').status_code == 403 and pages.store.get_user('root').role == 'operator'


def test_role_and_delete_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    pages.sign_in('admin', 'root')
    pages.store.create_user('olga', 'viewer', 'Old-pa55word-1')
    assert pages.submit('/users', '/users/role', {'name': 'olga', 'role': 'admin'}, csrf=False).status_code == 400
    assert pages.submit('/users', '/users/delete', {'name': 'olga'}, csrf=False).status_code == 400
    assert pages.store.get_user('olga').role == 'viewer'
