"""The connections' pages through Flask's test client, signed in through the login page as each role."""

from __future__ import annotations

import os
import re
import socket

import pytest

from zato_outconn import OutconnConfig, SecurityConfig, Store

from tests.admin.conftest import ROLES, make_app
from tests.admin.pages_client import PASSWORD_OF, Pages, form_errors
from tests.support.raw_servers import RawServer, read_request
from tests.support.servers import RecordingServer, refused_port

XSS = '<script>alert(1)</script>'
LIST_CONTROLS = ('New connection', '>Edit<', '>Delete<', '>Duplicate<')
EDIT_CONTROLS = ('>Delete<', '>Duplicate<', '>Save<')


@pytest.fixture
def pages(sqlite_store: Store) -> Pages:
    return Pages(make_app(sqlite_store, PING_LIMIT=5), sqlite_store)


def signed_in(pages: Pages, role: str) -> str:
    name = f'{role}-person'
    pages.store.create_user(name, role, PASSWORD_OF.format(name=name))
    answer = pages.submit('/login', '/login', {'name': name, 'password': PASSWORD_OF.format(name=name)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return name


def outconn(store: Store, name: str = 'CRM', **settings: object) -> int:
    settings.setdefault('host', 'http://127.0.0.1:9')
    return store.create_outconn(OutconnConfig(name=name, **settings)).id  # type: ignore[arg-type]


def form_of(pages: Pages, outconn_id: int) -> dict[str, str]:
    """What the edit form would post as it is: every setting's value."""
    config = pages.store.outconn_by_id(outconn_id).config
    values = {name: '' if value is None else str(value).lower() if isinstance(value, bool) else str(value)
              for name, value in dict(config).items() if name != 'transport'}
    return {**values, 'version': str(pages.store.outconn_by_id(outconn_id).version)}


@pytest.mark.parametrize('role', ROLES)
def test_each_page_for_each_role(pages: Pages, role: str) -> None:
    signed_in(pages, role)
    outconn_id = outconn(pages.store)
    listing = pages.text('/outconns')
    edit = pages.text(f'/outconns/{outconn_id}')
    history = pages.text(f'/outconns/{outconn_id}/history')
    nodes = pages.text('/nodes')
    assert 'CRM' in listing and 'CRM' in edit and 'CRM' in history and 'Nodes' in nodes
    for text, controls in ((listing, LIST_CONTROLS), (edit, EDIT_CONTROLS)):
        assert ('>Ping<' in text) == (role != 'viewer')
        assert ('Deactivate' in text) == (role != 'viewer')
        for control in controls:
            assert (control in text) == (role == 'admin'), control
    # One version only: nothing to roll back to for anyone yet.
    assert 'Roll back' not in history
    # Viewers and operators see the settings in a form they cannot send.
    assert ('<fieldset class="sections" disabled>' in edit) == (role != 'admin')
    if role != 'admin':
        assert pages.get('/outconns/new').status_code == 403


@pytest.mark.parametrize('role', ('viewer', 'operator'))
def test_edits_by_who_may_not_make_them_are_refused_with_a_page(pages: Pages, role: str) -> None:
    signed_in(pages, role)
    outconn_id = outconn(pages.store)
    page = f'/outconns/{outconn_id}'
    for action, data in ((page, form_of(pages, outconn_id) | {'read_timeout': '3'}),
                         ('/outconns/new', {'name': 'New', 'host': 'http://127.0.0.1:9'}),
                         (f'{page}/delete', {}), (f'{page}/rollback', {'version': '1'})):
        refused = pages.submit(page, action, data)
        assert refused.status_code == 403 and refused.mimetype == 'text/html', action
        assert f'Your role, {role}, does not allow this' in refused.get_data(as_text=True)
    assert pages.store.outconn_by_id(outconn_id).version == 1
    deactivated = pages.submit(page, f'{page}/active', {'is_active': 'false', 'back': page})
    if role == 'operator':
        assert deactivated.status_code == 302 and deactivated.headers['Location'] == page
        assert pages.store.outconn_by_id(outconn_id).config.is_active is False
    else:
        assert deactivated.status_code == 403


def test_a_new_connection_shows_every_error_in_place_and_writes_nothing(pages: Pages) -> None:
    signed_in(pages, 'admin')
    pages.store.create_security(SecurityConfig(name='crm-creds', sec_type='basic_auth', username='alice',
                                               secret='S3cret-never-shown'))
    form = pages.text('/outconns/new')
    # Inputs named after the settings, help from the model, security a choice of the definitions.
    for name in ('name', 'host', 'url_path', 'connect_timeout', 'read_timeout', 'ping_method'):
        assert f'name="{name}"' in form
    assert OutconnConfig.help_of('host').replace("'", '&#39;') in form
    assert '<option value="crm-creds">crm-creds</option>' in form
    assert 'S3cret-never-shown' not in form

    bad = pages.submit('/outconns/new', '/outconns/new', {
        'name': 'CRM', 'transport': 'plain_http', 'host': 'crm.example.com', 'url_path': '/',
        'connect_timeout': 'soon', 'security': 'crm-creds', 'is_active': 'true'})
    assert bad.status_code == 422
    errors = form_errors(bad.get_data(as_text=True))
    assert any(error.startswith('host must be a URL') for error in errors), errors
    assert any(error.startswith('connect_timeout must be a number') for error in errors), errors
    assert 'Nothing was saved' in bad.get_data(as_text=True)
    # What was typed stays in the form, a box not ticked too.
    assert 'value="crm.example.com"' in bad.get_data(as_text=True)
    assert 'name="is_active" value="true" checked' in bad.get_data(as_text=True)
    assert 'name="validate_tls" value="true" checked' not in bad.get_data(as_text=True)
    assert pages.store.list_outconns() == []

    good = pages.submit('/outconns/new', '/outconns/new', {
        'name': 'CRM', 'transport': 'plain_http', 'host': 'http://crm.example.com', 'url_path': '/api',
        'connect_timeout': '3', 'security': 'crm-creds', 'is_active': 'true'})
    assert good.status_code == 302
    (record,) = pages.store.list_outconns()
    assert good.headers['Location'] == f'/outconns/{record.id}'
    assert (record.config.host, record.config.connect_timeout, record.config.security) == (
        'http://crm.example.com', 3.0, 'crm-creds')
    taken = pages.submit('/outconns/new', '/outconns/new', {'name': 'CRM', 'host': 'http://crm.example.com'})
    assert taken.status_code == 409
    assert form_errors(taken.get_data(as_text=True)) == [
        'name is taken by another plain_http connection; choose another name']


def test_an_edit_saves_what_changed_and_refuses_a_stale_form(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    page = f'/outconns/{outconn_id}'
    form = form_of(pages, outconn_id)
    assert 'name="version" value="1"' in pages.text(page)
    # A plain-HTTP connection's form asks nothing of SOAP.
    assert 'name="wsdl"' not in pages.text(page)
    bad = pages.submit(page, page, form | {'read_timeout': '-1', 'pool_size': 'many'})
    assert bad.status_code == 422 and len(form_errors(bad.get_data(as_text=True))) == 2
    assert pages.store.outconn_by_id(outconn_id).version == 1

    # An error of a setting the form has no input for is said above it, in full.
    soap_only = pages.submit(page, page, form | {'soap_action': 'urn:get'})
    assert soap_only.status_code == 422
    assert '<p class="error">soap_action is used by soap connections only</p>' in soap_only.get_data(as_text=True)

    saved = pages.submit(page, page, form | {'read_timeout': '5', 'is_active': 'false'})
    assert saved.status_code == 302
    record = pages.store.outconn_by_id(outconn_id)
    assert (record.version, record.config.read_timeout, record.config.is_active) == (2, 5.0, False)
    assert 'Saved CRM.' in pages.text(page)

    # The same form again, read at version 1: someone else's change is not overwritten.
    stale = pages.submit(page, page, form | {'read_timeout': '7'}, follow_redirects=True)
    assert 'someone else changed CRM since you opened it' in stale.get_data(as_text=True)
    assert pages.store.outconn_by_id(outconn_id).config.read_timeout == 5.0
    unchanged = pages.submit(page, page, form_of(pages, outconn_id), follow_redirects=True)
    assert 'Nothing changed.' in unchanged.get_data(as_text=True)


def test_duplicate_delete_and_activate(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store, url_path='/customers', read_timeout=4)
    copy = pages.text(f'/outconns/new?from={outconn_id}')
    assert 'value="Copy of CRM"' in copy and 'value="/customers"' in copy and 'value="4"' in copy
    deleting = pages.text(f'/outconns/{outconn_id}')
    assert 'data-confirm="Delete CRM? Its history stays."' in deleting
    page = f'/outconns/{outconn_id}'
    off = pages.submit(page, f'{page}/active', {'is_active': 'false', 'back': 'https://elsewhere.example.com/'})
    assert off.headers['Location'] == '/outconns'
    assert pages.store.outconn_by_id(outconn_id).config.is_active is False
    assert 'Activate' in pages.text('/outconns')
    deleted = pages.submit(page, f'{page}/delete')
    assert deleted.status_code == 302 and pages.store.list_outconns() == []
    gone = pages.get(page)
    assert gone.status_code == 404 and gone.mimetype == 'text/html'
    assert 'No outgoing connection with id' in gone.get_data(as_text=True)


def test_the_list_has_tabs_search_filter_sort_and_pages(pages: Pages) -> None:
    signed_in(pages, 'viewer')
    for number in range(30):
        outconn(pages.store, f'Conn {number:02d}', is_active=number % 3 != 0, host=f'http://h{number}.example.com')
    outconn(pages.store, 'SOAP one', transport='soap')
    first = pages.text('/outconns')
    assert '30 connections, page 1 of 2' in first and 'Conn 00' in first and 'Conn 29' not in first
    assert 'SOAP one' not in first and 'href="/outconns?transport=plain_http&amp;page=2"' in first
    assert 'Conn 29' in pages.text('/outconns?page=2')
    assert 'SOAP one' in pages.text('/outconns?transport=soap')
    descending = pages.text('/outconns?sort=-name')
    assert descending.index('Conn 29') < descending.index('Conn 28')
    assert 'aria-sort="descending"' in descending
    assert re.findall(r'>Conn (\d+)<', pages.text('/outconns?q=h1')) == ['01', '10', '11', '12', '13', '14', '15',
                                                                        '16', '17', '18', '19']
    inactive = pages.text('/outconns?active=false')
    assert '10 connections' in inactive and 'Conn 01' not in inactive
    # What the list is asked it cannot do falls back to its defaults.
    assert '30 connections' in pages.text('/outconns?sort=secret&page=x&transport=ftp&active=maybe')
    assert 'No plain HTTP connection yet' not in pages.text('/outconns?page=99999999999999999999999')
    assert 'There are only 2 pages' in pages.text('/outconns?page=7')


def test_ping_answers_a_fragment_green_or_red_and_is_audited(pages: Pages) -> None:
    name = signed_in(pages, 'operator')
    with RecordingServer() as server:
        up = outconn(pages.store, 'Up', host=server.url)
        down = outconn(pages.store, 'Down', host=f'http://127.0.0.1:{refused_port()}')
        token = pages.token_of('/outconns')
        headers = {'X-CSRFToken': token, 'HX-Request': 'true'}
        green = pages.client.post(f'/outconns/{up}/ping', headers=headers)
        assert server.recorder.last.method == 'HEAD'
    text = green.get_data(as_text=True)
    assert green.status_code == 200 and green.mimetype == 'text/html'
    assert re.fullmatch(rf'<span class="ping-result ok" role="status">OK HEAD {server.url}/ -&gt; 200 OK in '
                        r'\d+\.\d{4} s</span>', text), text
    red = pages.client.post(f'/outconns/{down}/ping', headers=headers).get_data(as_text=True)
    assert red.startswith('<span class="ping-result bad"') and 'FAIL HEAD' in red and 'cannot connect' in red
    assert [ping.ok for ping in pages.store.recent_pings(up)] == [True]
    assert pages.store.recent_pings(down)[0].pinged_by == f'admin:{name}'
    # The page shows them in its chart, a failure marked.
    assert 'class="fail-mark"' in pages.text(f'/outconns/{down}')
    # The API's rate limit (5 a minute here), said in place.
    for _ in range(3):
        pages.client.post(f'/outconns/{down}/ping', headers=headers)
    limited = pages.client.post(f'/outconns/{down}/ping', headers=headers).get_data(as_text=True)
    assert 'ping-result bad' in limited and 'try again in' in limited
    # Without the token: refused, as a fragment htmx shows in place.
    refused = pages.client.post(f'/outconns/{down}/ping', headers={'HX-Request': 'true'})
    assert refused.status_code == 400 and refused.get_data(as_text=True).startswith('<span class="error"')


def test_a_viewer_may_not_ping(pages: Pages) -> None:
    signed_in(pages, 'viewer')
    outconn_id = outconn(pages.store)
    token = pages.token_of('/outconns')
    refused = pages.client.post(f'/outconns/{outconn_id}/ping', headers={'X-CSRFToken': token, 'HX-Request': 'true'})
    assert refused.status_code == 403 and 'does not allow this' in refused.get_data(as_text=True)
    assert pages.store.recent_pings(outconn_id) == []


def test_history_shows_the_diffs_and_rolls_back(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    pages.store.edit_outconn_by_id(outconn_id, {'read_timeout': 5.0, 'url_path': '/v2'})
    page = f'/outconns/{outconn_id}/history'
    history = pages.text(page)
    assert '<th>read_timeout</th><td class="old">10.0</td><td class="arrow">→</td><td class="new">5.0</td>' in history
    assert '<td class="new">/v2</td>' in history
    assert history.count('Roll back</button>') == 1
    rolled = pages.submit(page, f'/outconns/{outconn_id}/rollback', {'version': '1'}, follow_redirects=True)
    assert 'Rolled back to the settings of version 1; that is version 3 now.' in rolled.get_data(as_text=True)
    record = pages.store.outconn_by_id(outconn_id)
    assert (record.version, record.config.read_timeout, record.config.url_path) == (3, 10.0, '/')
    missing = pages.submit(page, f'/outconns/{outconn_id}/rollback', {'version': '9'}, follow_redirects=True)
    assert 'Not rolled back: version' in missing.get_data(as_text=True)


def test_a_name_that_is_markup_renders_as_text_everywhere(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store, XSS)
    pages.store.edit_outconn_by_id(outconn_id, {'url_path': '/"><img src=x onerror=alert(1)>'})
    escaped = '&lt;script&gt;alert(1)&lt;/script&gt;'
    for path in ('/outconns', f'/outconns/{outconn_id}', f'/outconns/{outconn_id}/history',
                 f'/outconns/new?from={outconn_id}'):
        text = pages.text(path)
        assert XSS not in text and '<img src=x' not in text, path
        assert escaped in text, path
    with RecordingServer() as server:
        pages.store.edit_outconn_by_id(outconn_id, {'host': server.url, 'url_path': f'/{XSS}'})
        token = pages.token_of('/outconns')
        fragment = pages.client.post(f'/outconns/{outconn_id}/ping',
                                     headers={'X-CSRFToken': token, 'HX-Request': 'true'}).get_data(as_text=True)
    assert '<script>' not in fragment and 'OK HEAD' in fragment


def test_the_nodes_page_says_who_is_behind(pages: Pages) -> None:
    signed_in(pages, 'viewer')
    assert 'No node is following this database now.' in pages.text('/nodes')
    pages.store.register_node('default/server1/host-a/11', 'host-a', 11, 0, 5.0)
    outconn(pages.store)
    current = pages.store.last_change()
    pages.store.register_node('default/server1/host-b/12', 'host-b', 12, current, 5.0)
    text = pages.text('/nodes')
    assert re.search(r'host-a.*?<span class="badge behind">behind</span>', text, re.S)
    assert re.search(r'host-b.*?<span class="badge current">current</span>', text, re.S)


def test_api_errors_stay_problems(pages: Pages) -> None:
    signed_in(pages, 'admin')
    answer = pages.get('/api/v1/outconns/99')
    assert answer.status_code == 404 and answer.mimetype == 'application/problem+json'
    page = pages.get('/no/such/page')
    assert page.status_code == 404 and page.mimetype == 'text/html'
    assert 'Content-Security-Policy' in page.headers


def test_a_ping_after_the_session_ended_sends_the_page_to_sign_in(pages: Pages) -> None:
    name = signed_in(pages, 'operator')
    outconn_id = outconn(pages.store)
    token = pages.token_of('/outconns')
    # A new password ends the session; the page open before still has its CSRF token.
    pages.store.set_user_password(name, 'An0ther-long-password')
    answer = pages.client.post(f'/outconns/{outconn_id}/ping', headers={
        'X-CSRFToken': token, 'HX-Request': 'true', 'HX-Current-URL': 'http://localhost/outconns?transport=soap'})
    assert answer.status_code == 401
    assert answer.headers['HX-Redirect'] == '/login?next=/outconns?transport%3Dsoap'
    assert pages.store.recent_pings(outconn_id) == []


def test_a_ping_after_signing_out_in_another_tab_sends_the_page_to_sign_in(pages: Pages) -> None:
    """Signed out elsewhere, the session (and the CSRF secret in it) is gone: the page open before is
    told to sign in again, not that its CSRF token is missing."""
    signed_in(pages, 'operator')
    outconn_id = outconn(pages.store)
    token = pages.token_of('/outconns')
    assert pages.client.post('/logout', data={'csrf_token': token}).status_code == 302
    answer = pages.client.post(f'/outconns/{outconn_id}/ping', headers={
        'X-CSRFToken': token, 'HX-Request': 'true', 'HX-Current-URL': 'http://localhost/outconns'})
    assert answer.status_code == 401
    assert answer.headers['HX-Redirect'] == '/login?next=/outconns'
    assert 'Your session has ended; sign in again.' in answer.get_data(as_text=True)
    assert 'CSRF' not in answer.get_data(as_text=True)
    assert pages.store.recent_pings(outconn_id) == []


def test_a_form_sent_after_the_session_cookie_expired_goes_to_sign_in(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    token = pages.token_of(f'/outconns/{outconn_id}')
    pages.client.delete_cookie('session')
    answer = pages.client.post(f'/outconns/{outconn_id}', data={'csrf_token': token, 'read_timeout': '9'})
    assert answer.status_code == 302
    assert answer.headers['Location'].startswith('/login?next=')
    assert pages.store.get_outconn('plain_http', 'CRM').config.read_timeout != 9


def test_a_change_without_its_csrf_token_while_signed_in_is_still_refused_as_such(pages: Pages) -> None:
    signed_in(pages, 'operator')
    outconn_id = outconn(pages.store)
    answer = pages.client.post(f'/outconns/{outconn_id}/ping', headers={'HX-Request': 'true'})
    assert answer.status_code == 400
    assert 'CSRF token is missing' in answer.get_data(as_text=True)
    assert pages.store.recent_pings(outconn_id) == []


def test_ping_reads_the_apis_answer_in_either_json_case(sqlite_store: Store) -> None:
    pages = Pages(make_app(sqlite_store, JSON_CASE='camel'), sqlite_store)
    signed_in(pages, 'operator')
    with RecordingServer() as server:
        outconn_id = outconn(pages.store, host=server.url)
        fragment = pages.client.post(f'/outconns/{outconn_id}/ping', headers={
            'X-CSRFToken': pages.token_of('/outconns'), 'HX-Request': 'true'}).get_data(as_text=True)
    assert 'ping-result ok' in fragment and '200 OK' in fragment


def test_ids_and_numbers_no_database_holds_are_a_404_or_read_as_none(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    huge = '9' * 20
    for path in (f'/outconns/{huge}', f'/outconns/{huge}/history'):
        answer = pages.get(path)
        assert answer.status_code == 404 and answer.mimetype == 'text/html', path
    for action in ('', '/ping', '/delete', '/active', '/rollback'):
        answer = pages.submit('/outconns', f'/outconns/{huge}{action}', {'is_active': 'false', 'version': '1'})
        assert answer.status_code == 404 and answer.mimetype == 'text/html', action
    # Digits int() refuses ('²'), or too many for the databases' integers, are no number at all.
    for source in ('²', huge):
        assert 'value="Copy of' not in pages.text(f'/outconns/new?from={source}'), source
    assert '1 connection' in pages.text('/outconns?page=²')
    page = f'/outconns/{outconn_id}/history'
    for version in ('²', huge):
        refused = pages.submit(page, f'/outconns/{outconn_id}/rollback', {'version': version}, follow_redirects=True)
        assert 'Not rolled back: version must be a version number' in refused.get_data(as_text=True), version
    edit = f'/outconns/{outconn_id}'
    saved = pages.submit(edit, edit, form_of(pages, outconn_id) | {'version': '²', 'read_timeout': '3'})
    assert saved.status_code == 302 and pages.store.outconn_by_id(outconn_id).config.read_timeout == 3.0


def test_what_the_store_refuses_is_said_beside_the_field_with_the_input_kept(pages: Pages) -> None:
    """A WS-Security definition goes into SOAP envelopes only; the form offers every definition, and
    the store is the one that knows which may go with a plain-HTTP connection."""
    signed_in(pages, 'admin')
    pages.store.create_security(SecurityConfig(name='soap-creds', sec_type='wss', username='alice',
                                               secret='S3cret-never-shown'))
    typed = {'name': 'CRM', 'transport': 'plain_http', 'host': 'http://crm.example.com', 'url_path': '/typed',
             'security': 'soap-creds'}
    created = pages.submit('/outconns/new', '/outconns/new', typed)
    text = created.get_data(as_text=True)
    assert created.status_code == 422 and 'value="/typed"' in text, text
    assert any(error.startswith("security 'soap-creds' is a wss definition") for error in form_errors(text)), text
    assert pages.store.list_outconns() == []

    outconn_id = outconn(pages.store)
    page = f'/outconns/{outconn_id}'
    edited = pages.submit(page, page, form_of(pages, outconn_id) | {'url_path': '/typed', 'security': 'soap-creds'})
    text = edited.get_data(as_text=True)
    assert edited.status_code == 422 and 'value="/typed"' in text and 'name="version" value="1"' in text
    assert any(error.startswith("security 'soap-creds' is a wss definition") for error in form_errors(text)), text
    assert pages.store.outconn_by_id(outconn_id).version == 1


def test_a_form_sent_back_with_errors_keeps_the_version_it_was_read_at(pages: Pages) -> None:
    """Else fixing the error and saving would overwrite, unwarned, what someone else saved meanwhile."""
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    page = f'/outconns/{outconn_id}'
    form = form_of(pages, outconn_id)
    pages.store.edit_outconn_by_id(outconn_id, {'url_path': '/theirs'})
    bad = pages.submit(page, page, form | {'read_timeout': '-1'})
    assert bad.status_code == 422 and 'name="version" value="1"' in bad.get_data(as_text=True)
    stale = pages.submit(page, page, form | {'read_timeout': '3'}, follow_redirects=True)
    assert 'someone else changed CRM since you opened it' in stale.get_data(as_text=True)
    assert pages.store.outconn_by_id(outconn_id).config.url_path == '/theirs'


def test_a_database_gone_is_a_503_page_not_a_bare_500(pages: Pages) -> None:
    """The error page cannot say who is signed in (that needs the database too): it says what failed."""
    signed_in(pages, 'admin')
    assert pages.get('/outconns').status_code == 200
    path = pages.store.engine.url.database
    assert path
    os.replace(path, f'{path}.moved')
    try:
        for address in ('/outconns', '/nodes'):
            answer = pages.get(address)
            text = answer.get_data(as_text=True)
            assert answer.status_code == 503 and answer.mimetype == 'text/html', text
            assert 'is gone' in text and 'Log out' not in text
        api = pages.get('/api/v1/outconns')
        assert api.status_code == 503 and api.mimetype == 'application/problem+json'
    finally:
        os.replace(f'{path}.moved', path)
    assert pages.get('/outconns').status_code == 200


def test_a_long_history_comes_in_pages_newest_first(pages: Pages) -> None:
    signed_in(pages, 'viewer')
    outconn_id = outconn(pages.store)
    for number in range(1, 60):
        pages.store.edit_outconn_by_id(outconn_id, {'read_timeout': float(number)})
    page = f'/outconns/{outconn_id}/history'
    first = pages.text(page)
    assert first.count('<tr id="version-') == 50 and 'id="version-60"' in first and 'id="version-11"' in first
    assert f'href="{page}?page=2"' in first and 'Page 1 of 2' in first
    second = pages.text(f'{page}?page=2')
    assert second.count('<tr id="version-') == 10 and 'id="version-1"' in second and 'id="version-11"' not in second
    assert 'There are only 2 pages' in pages.text(f'{page}?page=3')


def test_a_remote_ends_status_line_is_shown_short_as_plain_text(pages: Pages) -> None:
    """The remote end writes the reason phrase of its status line: markup, terminal escapes, 60 kB."""
    signed_in(pages, 'operator')
    reason = '<img src=x onerror=alert(1)> \x1b[31m\x07' + 'A' * 60_000

    def script(sock: socket.socket, _number: int) -> None:
        read_request(sock)
        sock.sendall(f'HTTP/1.1 503 {reason}\r\nContent-Length: 0\r\n\r\n'.encode('latin-1'))

    with RawServer(script) as server:
        outconn_id = outconn(pages.store, host=server.url)
        fragment = pages.client.post(f'/outconns/{outconn_id}/ping', headers={
            'X-CSRFToken': pages.token_of('/outconns'), 'HX-Request': 'true'}).get_data(as_text=True)
    assert fragment.startswith('<span class="ping-result bad"') and fragment.endswith(' s</span>'), fragment[-200:]
    assert '<img' not in fragment and '&lt;img src=x' in fragment
    assert not any(ord(char) < 32 for char in fragment) and len(fragment) < 1000
    page = pages.text(f'/outconns/{outconn_id}')
    assert 'A' * 1000 not in page and '\x1b' not in page


def test_every_change_a_page_makes_needs_the_csrf_token(pages: Pages) -> None:
    signed_in(pages, 'admin')
    outconn_id = outconn(pages.store)
    page = f'/outconns/{outconn_id}'
    for action, data in ((page, form_of(pages, outconn_id) | {'read_timeout': '3'}),
                         ('/outconns/new', {'name': 'New', 'host': 'http://127.0.0.1:9'}),
                         (f'{page}/active', {'is_active': 'false'}), (f'{page}/rollback', {'version': '1'}),
                         (f'{page}/ping', {}), (f'{page}/delete', {})):
        refused = pages.submit(page, action, data, csrf=False)
        assert refused.status_code == 400 and 'CSRF token is missing' in refused.get_data(as_text=True), action
    record = pages.store.outconn_by_id(outconn_id)
    assert (record.version, len(pages.store.list_outconns()), pages.store.recent_pings(outconn_id)) == (1, 1, [])
