"""The operator's whole flow in a real browser: Debian's chromium driven by Playwright, against
``zato-outconn serve`` started as a user starts it, and a real HTTP server as the remote end.

Sign in, create a security definition and a plain-HTTP connection in the forms (a field error
first), ping it (green in place) and one at a closed port (red), edit it, see the diff in History,
roll back, export, look at the security, nodes, users and tokens pages (a token made), log out. Every
page answer carries the CSP, and the browser reports no console error or page error (a CSP violation
would be one). Screenshots go to ZATO_OUTCONN_SCREENSHOTS if set, else to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from playwright import sync_api

from zato_outconn.admin.app import CONTENT_SECURITY_POLICY

from tests.admin.test_serve import clean_env, client, serving
from tests.support.servers import RecordingServer, refused_port

CHROMIUM = Path('/usr/bin/chromium')
SCREENSHOTS_ENV = 'ZATO_OUTCONN_SCREENSHOTS'
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason='needs Debian chromium at /usr/bin/chromium '
                                                             '(.ci/run installs it: apt-get install chromium)')


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / 'screenshots')
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page() -> Iterator[tuple[sync_api.Page, list[str]]]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=['--no-sandbox'])
        try:
            # The HTTPS test's certificate is of a CA of its own, which the browser cannot be told of.
            context = browser.new_context(viewport={'width': 1360, 'height': 900}, ignore_https_errors=True)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            problems: list[str] = []
            page.on('console', lambda message: problems.append(f'console {message.type}: {message.text}')
                    if message.type in ('error', 'warning') else None)
            page.on('pageerror', lambda error: problems.append(f'page error: {error}'))
            yield page, problems
            context.close()
        finally:
            browser.close()


def fill(page: sync_api.Page, **settings: str) -> None:
    """Types each setting into its input of the connection's form (inputs are named after the settings)."""
    for name, value in settings.items():
        page.fill(f'#field-{name}', value)


def test_the_operator_flow(tmp_path: Path, shots: Path, browser_page: tuple[sync_api.Page, list[str]]) -> None:
    page, problems = browser_page
    expect = sync_api.expect
    answers: list[tuple[str, int, str | None]] = []
    page.on('response', lambda response: answers.append(
        (response.url, response.status, response.headers.get('content-security-policy')))
        if response.request.resource_type == 'document' else None)

    with RecordingServer() as remote, serving(tmp_path, env=clean_env()) as served:
        base = served.url
        password = (tmp_path / 'zato-outconn.db.admin-password').read_text().strip()

        # Sign in; a wrong password first.
        page.goto(f'{base}/outconns')
        expect(page).to_have_url(re.compile(r'/login\?next=%2Foutconns$'))
        page.screenshot(path=str(shots / 'login.png'), full_page=True)
        page.fill('#login-name', 'admin')
        page.fill('#login-password', 'not-the-password')
        page.click('button:has-text("Sign in")')
        expect(page.locator('p.error')).to_have_text('The user name or password is wrong.')
        page.fill('#login-password', password)
        page.click('button:has-text("Sign in")')
        expect(page).to_have_url(f'{base}/outconns')
        expect(page.locator('.who')).to_have_text('admin (admin)')

        # A security definition, in its form.
        page.click('nav a:has-text("Security")')
        page.goto(f'{base}/security/new')
        form = page.locator('#security-form')
        form.locator('input[name="name"]').fill('crm-creds')
        form.locator('input[name="username"]').fill('alice')
        form.locator('input[name="secret"]').fill('S3cret-never-shown')
        form.locator('button:has-text("Create")').click()
        expect(page.locator('body')).to_contain_text('crm-creds')
        assert 'S3cret-never-shown' not in page.content()
        page.screenshot(path=str(shots / 'security-definition.png'), full_page=True)

        # A connection: a field error first, then fixed.
        page.goto(f'{base}/outconns')
        page.click('a:has-text("New connection")')
        fill(page, name='CRM', host='crm.example.com')
        page.select_option('#field-security', 'crm-creds')
        page.click('button:has-text("Create")')
        expect(page.locator('#field-host-error')).to_contain_text('host must be a URL starting with http://')
        expect(page.locator('p.error[role="alert"]')).to_contain_text('Nothing was saved')
        page.screenshot(path=str(shots / 'form-error.png'), full_page=True)
        fill(page, host=remote.url, url_path='/customers')
        page.click('button:has-text("Create")')
        expect(page.locator('.flash')).to_have_text('Created CRM.')
        crm_url = page.url
        assert re.fullmatch(rf'{base}/outconns/\d+', crm_url)

        # One pointing at a closed port, and one whose remote end takes a second to answer.
        for name, host, path in (('Down', f'http://127.0.0.1:{refused_port()}', '/'), ('Slow', remote.url, '/sleep/1')):
            page.goto(f'{base}/outconns/new')
            fill(page, name=name, host=host, url_path=path)
            page.click('button:has-text("Create")')
            expect(page.locator('.flash')).to_have_text(f'Created {name}.')

        # Ping each from the list: the report in place.
        page.goto(f'{base}/outconns')
        crm_row = page.locator('tr', has=page.locator('a', has_text='CRM'))
        crm_row.locator('button.ping').click()
        green = crm_row.locator('.ping-result')
        expect(green).to_have_class(re.compile(r'\bok\b'))
        expect(green).to_have_text(re.compile(rf'^OK HEAD {re.escape(remote.url)}/customers -> 200 OK in \d+\.\d+ s$'))
        expect(crm_row.locator('button.ping')).to_be_enabled()
        assert remote.recorder.last.method == 'HEAD' and remote.recorder.last.path == '/customers'
        page.screenshot(path=str(shots / 'list-ping-green.png'), full_page=True)
        down_row = page.locator('tr', has=page.locator('a', has_text='Down'))
        down_row.locator('button.ping').click()
        red = down_row.locator('.ping-result')
        expect(red).to_have_class(re.compile(r'\bbad\b'))
        expect(red).to_contain_text('FAIL HEAD http://127.0.0.1:')
        expect(red).to_contain_text('cannot connect')
        page.screenshot(path=str(shots / 'list-ping-red.png'), full_page=True)
        # The button is disabled while its ping runs.
        slow_row = page.locator('tr', has=page.locator('a', has_text='Slow'))
        slow_row.locator('button.ping').click()
        expect(slow_row.locator('button.ping')).to_be_disabled()
        expect(slow_row.locator('.ping-result.ok')).to_contain_text('-> 200 OK in 1.')
        expect(slow_row.locator('button.ping')).to_be_enabled()
        page.screenshot(path=str(shots / 'list.png'), full_page=True)

        # Edit it.
        page.goto(crm_url)
        expect(page.locator('svg.latency')).to_be_visible()
        fill(page, read_timeout='4', url_path='/v2/customers')
        page.click('button:has-text("Save")')
        expect(page.locator('.flash')).to_have_text('Saved CRM.')
        expect(page.locator('h1')).to_contain_text('version 2')
        page.screenshot(path=str(shots / 'edit-form.png'), full_page=True)

        # History shows the diff; roll back to version 1 (a confirmation first).
        page.click('nav.tabs a:has-text("History")')
        version_2 = page.locator('#version-2')
        expect(version_2.locator('table.diff')).to_contain_text('read_timeout')
        expect(version_2.locator('td.new').first).to_have_text('4.0')
        expect(version_2).to_contain_text('/v2/customers')
        page.screenshot(path=str(shots / 'history.png'), full_page=True)
        page.once('dialog', lambda dialog: dialog.accept())
        page.locator('#version-1 button:has-text("Roll back")').click()
        expect(page.locator('.flash')).to_have_text('Rolled back to the settings of version 1; that is version 3 now.')
        expect(page.locator('#version-3')).to_contain_text('rollback')

        # Export everything from the transfer page.
        page.click('nav a:has-text("Transfer")')
        with page.expect_download() as download_info:
            page.click('a:has-text("Download JSON")')
        exported_path = tmp_path / 'export.json'
        download_info.value.save_as(str(exported_path))
        exported = exported_path.read_text()
        assert 'S3cret-never-shown' not in exported
        names = {item['name'] for item in json.loads(exported)['outconns']}
        assert names == {'CRM', 'Down', 'Slow'}
        page.screenshot(path=str(shots / 'transfer.png'), full_page=True)

        # The other pages an admin has, each drawn under the CSP without a console error.
        for area, title, shot in (('Security', 'Security definitions', 'security'), ('Nodes', 'Nodes', 'nodes'),
                                  ('Users', 'Users', 'users')):
            page.click(f'header nav a:has-text("{area}")')
            expect(page.locator('h1')).to_have_text(title)
            page.screenshot(path=str(shots / f'{shot}.png'), full_page=True)
        page.click('a:has-text("API tokens")')
        page.fill('#field-name', 'crm-script')
        page.click('button:has-text("Create token")')
        expect(page.locator('code.token')).to_have_text(re.compile(r'\S{20,}'))
        page.screenshot(path=str(shots / 'tokens.png'), full_page=True)

        # Log out: the pages need signing in again.
        page.click('button:has-text("Log out")')
        expect(page).to_have_url(re.compile(r'/login$'))
        page.goto(f'{base}/outconns')
        expect(page).to_have_url(re.compile(r'/login\?next='))

    assert answers and all(policy == CONTENT_SECURITY_POLICY for _, _, policy in answers), answers
    # Chrome logs each page answered with a 4xx (the wrong password's 401, the form error's 422) as
    # "Failed to load resource"; those are the flow's, and nothing else may be logged.
    failed = sorted(f'console error: Failed to load resource: the server responded with a status of {status} '
                    for _, status, _ in answers if status >= 400)
    assert [status for _, status, _ in answers if status >= 400] == [401, 422], answers
    assert sorted(problem.split('(')[0] for problem in problems) == failed, problems


def test_signing_in_and_sending_forms_over_https(tmp_path: Path, browser_page: tuple[sync_api.Page, list[str]]) -> None:
    """Over HTTPS the CSRF check also wants a Referer of this site, which the browser sends only if the
    pages' Referrer-Policy lets it: each form is sent once to see that it gets through."""
    page, problems = browser_page
    ca = trustme.CA()
    cert, key, authority = (tmp_path / name for name in ('cert.pem', 'key.pem', 'ca.pem'))
    issued = ca.issue_cert('127.0.0.1')
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    with RecordingServer() as remote, serving(tmp_path, '--certfile', str(cert), '--keyfile', str(key),
                                              env=clean_env(), probe=client(verify=str(authority))) as served:
        base = served.url
        assert base.startswith('https://')
        page.goto(f'{base}/login')
        page.fill('#login-name', 'admin')
        page.fill('#login-password', (tmp_path / 'zato-outconn.db.admin-password').read_text().strip())
        page.click('button:has-text("Sign in")')
        expect = sync_api.expect
        expect(page).to_have_url(f'{base}/outconns')
        cookie = next(item for item in page.context.cookies() if item['name'] == 'session')
        assert cookie['secure'] and cookie['httpOnly'] and cookie['sameSite'] == 'Lax', cookie
        page.goto(f'{base}/outconns/new')
        fill(page, name='CRM', host=remote.url)
        page.click('button:has-text("Create")')
        expect(page.locator('.flash')).to_have_text('Created CRM.')
        page.click('button.ping')
        expect(page.locator('.ping-result.ok')).to_contain_text('-> 200 OK in')
        page.click('button:has-text("Log out")')
        expect(page).to_have_url(re.compile(r'/login$'))
    assert problems == []
