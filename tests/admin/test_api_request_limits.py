"""The size cap on every request body (ZATO_OUTCONN_MAX_REQUEST_BYTES), and the imports' own larger cap.

Bodies over the cap are refused from their Content-Length, before anything reads them (a sign-in
form's CSRF check included); the import routes take up to ZATO_OUTCONN_MAX_IMPORT_BYTES instead.
"""

from __future__ import annotations

import io
import json

import pytest

from zato_outconn import ConfigError, Store
from zato_outconn.admin.settings import DEFAULT_MAX_REQUEST, DEFAULTS, MAX_REQUEST_ENV
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

from tests.admin.conftest import API, make_app, problem_of
from tests.admin.pages_client import Pages
from tests.admin.test_api_auth import _csrf_header, _session_for

CAP = 4096
IMPORT_CAP = 64 * 1024


def _document(count: int) -> bytes:
    """An import document of more than CAP bytes (and less than IMPORT_CAP)."""
    outconns = [{'name': f'N{index}', 'host': 'http://n.example.com'} for index in range(count)]
    data = json.dumps({'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [],
                       'outconns': outconns}).encode()
    assert CAP < len(data) < IMPORT_CAP
    return data


@pytest.fixture
def capped(sqlite_store: Store, cheap_hashes: None, tmp_path: object) -> Pages:
    return Pages(make_app(sqlite_store, MAX_REQUEST_BYTES=CAP, MAX_IMPORT_BYTES=IMPORT_CAP,
                          IMPORT_UPLOAD_FOLDER=str(tmp_path)), sqlite_store)


def test_the_default_cap_is_a_mebibyte_and_flask_enforces_it(sqlite_store: Store) -> None:
    assert DEFAULTS['MAX_REQUEST_BYTES'] == DEFAULT_MAX_REQUEST == 1024 * 1024
    assert make_app(sqlite_store).config['MAX_CONTENT_LENGTH'] == DEFAULT_MAX_REQUEST


def test_an_anonymous_sign_in_over_the_cap_is_413_before_its_csrf_check(capped: Pages) -> None:
    answer = capped.client.post('/login', data={'name': 'x', 'password': 'y', 'junk': (io.BytesIO(b'x' * CAP * 4),
                                                                                     'junk.bin')},
                                content_type='multipart/form-data')
    assert answer.status_code == 413, answer.get_data(as_text=True)
    assert answer.mimetype == 'text/html'
    text = answer.get_data(as_text=True)
    assert MAX_REQUEST_ENV in text and f'at most {CAP} bytes' in text and 'CSRF' not in text
    # Under the cap, the same form reaches its CSRF check.
    assert capped.client.post('/login', data={'name': 'x', 'password': 'y'}).status_code == 400


def test_an_api_body_over_the_cap_is_a_413_problem(sqlite_store: Store) -> None:
    api = API(make_app(sqlite_store, MAX_REQUEST_BYTES=CAP), sqlite_store)
    body = {'name': 'CRM', 'host': 'http://crm.example.com', 'url_path': '/' + 'a' * CAP}
    problem = problem_of(api.post('/api/v1/outconns', json=body), 413)
    assert MAX_REQUEST_ENV in problem['detail'] and str(CAP) in problem['detail']
    # Nobody signed in is refused the same way, before the body is read.
    problem_of(api.post('/api/v1/outconns', role=None, json=body), 413)
    assert sqlite_store.list_outconns() == []


def test_the_api_import_takes_its_own_cap_with_a_token_and_with_a_session(sqlite_store: Store,
                                                                         cheap_hashes: None) -> None:
    api = API(make_app(sqlite_store, MAX_REQUEST_BYTES=CAP, MAX_IMPORT_BYTES=IMPORT_CAP), sqlite_store)
    data = _document(100)
    answer = api.post('/api/v1/import', data=data, content_type='application/json')
    assert answer.status_code == 200, answer.get_data(as_text=True)
    # A session's CSRF check reads the body before the route does: it too must take the import's cap.
    _session_for(api, 'alice', 'admin')
    answer = api.post('/api/v1/import?on_conflict=overwrite', role=None, data=data, content_type='application/json',
                      headers=_csrf_header())
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()['counts'] == {'unchanged': 100}
    over = json.dumps({'padding': 'x' * IMPORT_CAP}).encode()
    problem_of(api.post('/api/v1/import', data=over, content_type='application/json'), 413)


def test_the_transfer_page_takes_an_upload_over_the_request_cap(capped: Pages) -> None:
    capped.sign_in('admin')
    data = _document(100)
    answer = capped.submit('/transfer', '/transfer/import', {'file': (io.BytesIO(data), 'export.json')},
                           content_type='multipart/form-data')
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert 'would create' in answer.get_data(as_text=True)
    # Over the import's cap, the page says so itself, naming the import's setting.
    huge = capped.submit('/transfer', '/transfer/import', {'file': (io.BytesIO(b' ' * IMPORT_CAP * 2), 'big.json')},
                         content_type='multipart/form-data')
    assert huge.status_code == 413 and 'ZATO_OUTCONN_MAX_IMPORT_BYTES' in huge.get_data(as_text=True)


@pytest.mark.parametrize('value', [0, 1023, -5, '1M', True, 1.5])
def test_a_cap_that_cannot_work_is_refused_naming_the_variable(sqlite_store: Store, value: object) -> None:
    with pytest.raises(ConfigError) as refused:
        make_app(sqlite_store, MAX_REQUEST_BYTES=value)
    assert refused.value.field == MAX_REQUEST_ENV and 'bytes' in refused.value.rule


def test_the_cap_is_set_by_its_variable(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_REQUEST_ENV, '65536')
    assert make_app(sqlite_store).config['MAX_CONTENT_LENGTH'] == 65536
    monkeypatch.setenv(MAX_REQUEST_ENV, '1M')
    with pytest.raises(ConfigError, match=MAX_REQUEST_ENV):
        make_app(sqlite_store)
