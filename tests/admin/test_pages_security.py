"""The security pages: the list, forms made from the model per type, errors in place, write-only
secrets, delete with the connections that block it, roles, CSRF and escaping."""

from __future__ import annotations

import re

import pytest
import trustme

from zato_outconn import OutconnConfig, SecurityConfig, Store

from tests.admin.conftest import make_app
from tests.admin.pages_client import Pages, form_errors

SECRET = 'Never-shown-S3cret-7c1f'
XSS = '<script>alert(1)</script>'


pytestmark = pytest.mark.usefixtures('cheap_hashes')


def _definition(store: Store, name: str = 'crm-creds', **settings: object) -> int:
    settings.setdefault('sec_type', 'basic_auth')
    settings.setdefault('username', 'alice')
    return store.create_security(SecurityConfig(name=name, **settings)).id


def _stored_secret(store: Store, name: str) -> str | None:
    # What a connection using the definition would send: the stored secret, decrypted.
    if not store.get_security(name).used_by:
        store.create_outconn(OutconnConfig(name=f'probe-{name}', host='http://127.0.0.1:9', security=name))
    template, = store.load_templates(security=name)
    assert template.security is not None
    return template.security.secret


def _post_forms(text: str) -> list[str]:
    """The actions of the forms a page posts, but the log-out form every page has."""
    return [action for action in re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', text)
            if action != '/logout']


def test_admin_creates_a_definition_then_sets_its_secret_which_no_page_ever_shows(store: Store) -> None:
    pages = Pages(make_app(store), store)
    pages.sign_in('admin')
    created = pages.submit('/security/new', '/security', {'sec_type': 'basic_auth', 'name': 'crm-creds',
                                                          'username': 'alice', 'secret': SECRET})
    assert created.status_code == 303, created.get_data(as_text=True)
    record = store.get_security('crm-creds')
    assert record.config.secret_set and record.config.username == 'alice'
    assert created.headers['Location'].endswith(f'/security/{record.id}')
    shown = pages.text(f'/security/{record.id}')
    assert '<dt>secret set</dt><dd>yes</dd>' in shown and 'Created security definition' in shown
    # The edit form has no input for the secret, and nothing on the page holds it.
    edit_form = shown.split('<h2>Settings</h2>')[1].split('<h2>Set secret</h2>')[0]
    assert 'name="secret"' not in edit_form and 'type="password"' not in edit_form

    new_secret = SECRET + '-changed'
    answer = pages.submit(f'/security/{record.id}', f'/security/{record.id}/secret', {'secret': new_secret})
    assert answer.status_code == 303
    assert 'Secret set' in pages.text(answer.headers['Location'])
    assert _stored_secret(store, 'crm-creds') == new_secret

    # Every other page, and the forms sent back with errors, after the secret was set.
    pages.text('/security')
    pages.text('/security/new?sec_type=basic_auth')
    assert pages.submit(f'/security/{record.id}', f'/security/{record.id}', {'name': '', 'username': 'a:b'}
                        ).status_code == 422
    assert pages.submit(f'/security/{record.id}', f'/security/{record.id}/secret', {'secret': ''}).status_code == 422
    assert pages.submit('/security/new', '/security', {'sec_type': 'basic_auth', 'name': 'crm-creds',
                                                       'username': 'bob', 'secret': SECRET}).status_code == 422
    assert pages.seen and all(SECRET not in text for text in pages.seen)


def test_the_create_form_shows_the_settings_of_the_type_from_the_model(pages: Pages) -> None:
    pages.sign_in('admin')
    basic = pages.text('/security/new?sec_type=basic_auth')
    assert 'name="username"' in basic and 'name="token_url"' not in basic
    assert 'User name (basic_auth, digest, ntlm as DOMAIN\\user, wss).' in basic
    oauth2 = pages.text('/security/new?sec_type=oauth2')
    for name in ('token_url', 'client_id', 'scopes', 'audience', 'token_extra', 'client_auth', 'secret'):
        assert f'name="{name}"' in oauth2, name
    assert 'name="username"' not in oauth2
    assert '<option value="basic" selected>basic</option>' in oauth2
    apikey = pages.text('/security/new?sec_type=apikey')
    assert 'name="header_name" value="X-API-Key"' in apikey and 'secret (key)' in apikey
    mtls = pages.text('/security/new?sec_type=mtls')
    assert '<textarea id="field-client_cert" name="client_cert"' in mtls
    assert '<textarea id="field-secret" name="secret"' in mtls and 'name="key_password"' in mtls
    wss = pages.text('/security/new?sec_type=wss')
    assert 'name="timestamp_ttl"' in wss and 'type="number"' in wss and '<option value="digest">' in wss


def test_every_bad_field_is_shown_in_place_at_once_and_nothing_is_written(pages: Pages) -> None:
    pages.sign_in('admin')
    answer = pages.submit('/security/new', '/security', {'sec_type': 'oauth2', 'name': 'bad name\n',
                                                         'token_url': 'not a url', 'client_id': '',
                                                         'client_auth': 'header', 'secret': SECRET})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    fields = {message.split(' ', 1)[0] for message in form_errors(text)}
    assert {'name', 'token_url', 'client_auth'} <= fields, form_errors(text)
    assert SECRET not in text
    assert pages.store.list_security() == []
    key = '-----BEGIN PRIVATE KEY-----\nNot-a-key-but-secret-all-the-same\n-----END PRIVATE KEY-----'
    mtls = pages.submit('/security/new', '/security', {'sec_type': 'mtls', 'name': 'm', 'client_cert': 'not PEM',
                                                       'secret': key, 'key_password': SECRET})
    assert mtls.status_code == 422 and form_errors(mtls.get_data(as_text=True))
    assert 'Not-a-key' not in mtls.get_data(as_text=True) and SECRET not in mtls.get_data(as_text=True)
    assert 'not PEM' in mtls.get_data(as_text=True)
    unknown = pages.submit('/security/new', '/security', {'sec_type': 'kerberos', 'name': 'x'})
    assert unknown.status_code == 422 and 'sec_type must be one of' in unknown.get_data(as_text=True)
    assert pages.store.list_security() == []


def test_an_edit_changes_settings_keeps_the_secret_and_refuses_a_stale_version(pages: Pages) -> None:
    pages.sign_in('admin')
    security_id = _definition(pages.store, secret=SECRET)
    url = f'/security/{security_id}'
    shown = pages.text(url)
    assert 'name="username" value="alice"' in shown and 'name="version" value="1"' in shown
    answer = pages.submit(url, url, {'name': 'crm-creds', 'username': 'bob', 'version': '1'})
    assert answer.status_code == 303
    record = pages.store.security_by_id(security_id)
    assert (record.config.username, record.version) == ('bob', 2)
    assert _stored_secret(pages.store, 'crm-creds') == SECRET
    stale = pages.submit(url, url, {'name': 'crm-creds', 'username': 'carol', 'version': '1'})
    assert stale.status_code == 409 and 'changed by someone else' in stale.get_data(as_text=True)
    assert pages.store.security_by_id(security_id).config.username == 'bob'
    bad = pages.submit(url, url, {'name': 'crm-creds', 'username': 'a:b', 'version': '2'})
    assert bad.status_code == 422
    assert form_errors(bad.get_data(as_text=True)) == ['username must not contain a colon or control characters']
    assert 'value="a:b"' in bad.get_data(as_text=True)
    assert pages.store.security_by_id(security_id).config.username == 'bob'
    assert pages.get('/security/999999').status_code == 404


def test_a_definition_in_use_cannot_be_deleted_and_the_page_names_its_connections(pages: Pages) -> None:
    pages.sign_in('admin')
    used_id = _definition(pages.store, 'used')
    free_id = _definition(pages.store, 'free')
    pages.store.create_outconn(OutconnConfig(name='CRM', host='http://127.0.0.1:9', security='used'))
    listed = pages.text('/security')
    assert '<td>1 connection</td>' in listed and '<td>0 connections</td>' in listed and '<td>no</td>' in listed
    used = pages.text(f'/security/{used_id}')
    assert 'It cannot be deleted while connections use it: CRM.' in used
    assert f'/security/{used_id}/delete' not in used
    refused = pages.submit(f'/security/{used_id}', f'/security/{used_id}/delete')
    assert refused.status_code == 409 and "is used by &#39;CRM&#39;" in refused.get_data(as_text=True)
    assert pages.store.get_security('used')
    free = pages.text(f'/security/{free_id}')
    assert 'data-confirm="Delete the security definition free? This cannot be undone."' in free
    deleted = pages.submit(f'/security/{free_id}', f'/security/{free_id}/delete')
    assert deleted.status_code == 303
    assert [record.config.name for record in pages.store.list_security()] == ['used']
    assert "Deleted security definition &#39;free&#39;" in pages.text('/security')


@pytest.mark.parametrize('role', ['viewer', 'operator'])
def test_viewers_and_operators_see_no_edit_controls_and_are_refused_every_write(pages: Pages, role: str) -> None:
    security_id = _definition(pages.store, secret=SECRET)
    pages.sign_in(role)
    listed = pages.text('/security')
    assert 'crm-creds' in listed and '/security/new' not in listed
    shown = pages.text(f'/security/{security_id}')
    assert 'alice' in shown and _post_forms(shown) == [] and '<input type="password"' not in shown
    assert pages.get('/security/new').status_code == 403
    url = f'/security/{security_id}'
    for action, data in ((url, {'name': 'x', 'username': 'mallory'}), (f'{url}/secret', {'secret': 'other'}),
                         (f'{url}/delete', {}), ('/security', {'sec_type': 'bearer', 'name': 'new'})):
        assert pages.submit('/security', action, data).status_code == 403, action
    record = pages.store.security_by_id(security_id)
    assert (record.config.name, record.config.username, record.version) == ('crm-creds', 'alice', 1)
    assert [item.config.name for item in pages.store.list_security()] == ['crm-creds']
    assert _stored_secret(pages.store, 'crm-creds') == SECRET


def test_an_admin_sees_the_edit_controls(pages: Pages) -> None:
    security_id = _definition(pages.store)
    pages.sign_in('admin')
    assert '/security/new' in pages.text('/security')
    assert _post_forms(pages.text(f'/security/{security_id}')) == [
        f'/security/{security_id}', f'/security/{security_id}/secret', f'/security/{security_id}/delete']


def test_a_form_without_the_csrf_token_is_refused_and_nothing_is_written(pages: Pages) -> None:
    security_id = _definition(pages.store, secret=SECRET)
    pages.sign_in('admin')
    url = f'/security/{security_id}'
    for action, data in (('/security', {'sec_type': 'bearer', 'name': 'new'}), (url, {'name': 'x', 'username': 'b'}),
                         (f'{url}/secret', {'secret': 'other-secret'}), (f'{url}/delete', {})):
        assert pages.submit(url, action, data, csrf=False).status_code == 400, action
        assert pages.submit(url, action, {**data, 'csrf_token': 'forged'}, csrf=False).status_code == 400
    assert [record.config.username for record in pages.store.list_security()] == ['alice']
    assert _stored_secret(pages.store, 'crm-creds') == SECRET


def test_a_name_with_markup_renders_as_text(pages: Pages) -> None:
    pages.sign_in('admin')
    answer = pages.submit('/security/new', '/security', {'sec_type': 'bearer', 'name': XSS, 'secret': SECRET})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    pages.store.create_outconn(OutconnConfig(name=XSS, host='http://127.0.0.1:9', security=XSS))
    for text in (pages.text('/security'), pages.text(answer.headers['Location'])):
        assert XSS not in text and '&lt;script&gt;alert(1)&lt;/script&gt;' in text
    refused = pages.submit(answer.headers['Location'], answer.headers['Location'] + '/delete')
    assert refused.status_code == 409 and XSS not in refused.get_data(as_text=True)


def test_the_key_password_of_an_mtls_definition_has_its_own_form(pages: Pages) -> None:
    pages.sign_in('admin')
    security_id = _definition(pages.store, 'bot', sec_type='bearer', username=None, secret=SECRET)
    text = pages.text(f'/security/{security_id}')
    assert 'name="key_password"' not in text and 'Set token' in text
    refused = pages.submit(f'/security/{security_id}', f'/security/{security_id}/secret', {'key_password': 'x'})
    assert refused.status_code == 422 and form_errors(refused.get_data(as_text=True)) == ['secret is required']


def test_an_mtls_definition_takes_its_certificate_and_key_in_pem_and_shows_neither_key_nor_pem(pages: Pages) -> None:
    issued = trustme.CA().issue_cert('client.example.com')
    cert_pem = issued.cert_chain_pems[0].bytes().decode()
    key_pem = issued.private_key_pem.bytes().decode()
    pages.sign_in('admin')
    created = pages.submit('/security/new', '/security', {'sec_type': 'mtls', 'name': 'client',
                                                          'client_cert': cert_pem, 'secret': key_pem})
    assert created.status_code == 303, created.get_data(as_text=True)
    shown = pages.text(created.headers['Location'])
    assert '<dt>secret set</dt><dd>yes</dd>' in shown and 'O=trustme' in shown and 'expires 3000' in shown
    assert '<textarea id="field-client_cert" name="client_cert"' in shown
    assert _stored_secret(pages.store, 'client') == key_pem
    other_key = trustme.CA().issue_cert('other.example.com').private_key_pem.bytes().decode()
    wrong = pages.submit(created.headers['Location'], created.headers['Location'] + '/secret', {'secret': other_key})
    assert wrong.status_code == 422
    assert form_errors(wrong.get_data(as_text=True)) == ['secret the private key does not belong to client_cert']
    body = key_pem.splitlines()[1]
    assert all(body not in text and other_key.splitlines()[1] not in text and cert_pem.splitlines()[1] not in text
               for text in pages.seen)


def _encrypted(key_pem: str, password: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(password.encode())).decode()


def _stored_cert(store: Store) -> str:
    definition, = store.export_document()['security']
    return str(definition['client_cert'])


def test_an_mtls_key_is_replaced_with_its_new_certificate_and_password_in_one_form(pages: Pages) -> None:
    # A new key checked against the old certificate, or a new certificate against the old key, never
    # passes: a certificate renewed with a new key is only ever set with it. So is a key's password.
    ca = trustme.CA()
    first, second, third = (ca.issue_cert(f'{name}.example.com') for name in ('first', 'second', 'third'))
    pem = [(issued.cert_chain_pems[0].bytes().decode(), issued.private_key_pem.bytes().decode())
           for issued in (first, second, third)]
    pages.sign_in('admin')
    security_id = _definition(pages.store, 'client', sec_type='mtls', username=None, client_cert=pem[0][0],
                              secret=pem[0][1])
    page, action = f'/security/{security_id}', f'/security/{security_id}/secret'
    key_form = pages.text(page).split(f'action="{action}"')[1].split('</form>')[0]
    assert 'name="secret"' in key_form and 'name="client_cert"' in key_form and 'name="key_password"' in key_form
    renewed = pages.submit(page, action, {'secret': pem[1][1], 'client_cert': pem[1][0], 'key_password': ''})
    assert renewed.status_code == 303, renewed.get_data(as_text=True)
    assert _stored_secret(pages.store, 'client') == pem[1][1] and _stored_cert(pages.store) == pem[1][0]
    locked = _encrypted(pem[2][1], 'Key-pa55')
    assert pages.submit(page, action, {'secret': locked, 'client_cert': pem[2][0], 'key_password': 'Key-pa55'}
                        ).status_code == 303
    assert '<dt>key_password set</dt><dd>yes</dd>' in pages.text(page) and _stored_cert(pages.store) == pem[2][0]
    # A key with no password after one that had one: the stored password goes with the old key.
    assert pages.submit(page, action, {'secret': pem[1][1], 'client_cert': pem[1][0]}).status_code == 303
    assert '<dt>key_password set</dt><dd>no</dd>' in pages.text(page)
    # The key alone, for the certificate stored; a key of another certificate is refused in place.
    assert pages.submit(page, action, {'secret': pem[1][1]}).status_code == 303
    wrong = pages.submit(page, action, {'secret': pem[0][1], 'client_cert': ''})
    assert wrong.status_code == 422
    assert form_errors(wrong.get_data(as_text=True)) == ['secret the private key does not belong to client_cert']
    empty = pages.submit(page, action, {'secret': '', 'client_cert': pem[0][0]})
    assert empty.status_code == 422 and _stored_secret(pages.store, 'client') == pem[1][1]
    assert all(pair[1].splitlines()[1] not in text and 'Key-pa55' not in text and locked.splitlines()[2] not in text
               for text in pages.seen for pair in pem)


def test_an_id_no_row_can_have_is_a_404_page_for_every_method(pages: Pages) -> None:
    pages.sign_in('admin')
    token = pages.token_of('/security')
    for path in ('/security/99999999999', '/security/99999999999/secret', '/security/99999999999/delete'):
        answer = pages.client.post(path, data={'csrf_token': token, 'name': 'x', 'secret': 'x'})
        assert answer.status_code == 404, (path, answer.status_code)
    assert pages.get('/security/99999999999').status_code == 404
