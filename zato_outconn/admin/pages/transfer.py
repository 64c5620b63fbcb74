"""The transfer page: the export downloaded as JSON or CSV, and an import uploaded, previewed as a
dry run (what each item would do), then applied.

The upload is kept on the server between the preview and **Apply** (``import_uploads``), so that
Apply imports exactly the file previewed without sending it again; the session holds its id.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request, session
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from zato_outconn.admin.answers import CSV_TYPE
from zato_outconn.admin.auth import csrf, current_store
from zato_outconn.admin.pages.import_uploads import PendingUploads
from zato_outconn.admin.pages.view import needs, page
from zato_outconn.admin.schemas import ImportQuery
from zato_outconn.admin.transfers import csv_document, export_answer
from zato_outconn.exceptions import ConfigError, ImportRefused, StoreError
from zato_outconn.store.transfer import MAX_IMPORT_ENV, ON_CONFLICT, ImportReport, load

pages_transfer = Blueprint('pages_transfer', __name__)

# What the session says of the upload waiting for its Apply: its id, its on_conflict and its file's name.
PENDING_KEY = 'pending_import'
# Room for the form's other fields and the multipart framing around a file of the largest size taken.
FORM_OVERHEAD = 64 * 1024
# The longest file name a page shows and the session keeps.
SHOWN_NAME = 100
# How a report names what each item did, or would do.
DONE = {'create': 'created', 'update': 'updated', 'unchanged': 'unchanged', 'skip': 'skipped'}
WOULD = {'create': 'would create', 'update': 'would update', 'unchanged': 'unchanged', 'skip': 'would skip'}


@pages_transfer.get('/transfer')
@needs('transfer.export', 'transfer.import')
def transfer() -> ResponseReturnValue:
    # Uploads never applied go when anyone next opens the page, as well as when another is kept.
    PendingUploads.of_app().sweep()
    return _page()


@pages_transfer.get('/transfer/export')
@needs('transfer.export')
def export() -> ResponseReturnValue:
    return export_answer(request.args.get('format') == 'csv', download=True)


@pages_transfer.post('/transfer/import')
# The CSRF token is checked below, once the body is known not to be larger than an import takes.
@csrf.exempt
@needs('transfer.import')
def preview() -> ResponseReturnValue:
    limit = _limit()
    request.max_content_length = limit + FORM_OVERHEAD
    try:
        csrf.protect()
        upload = request.files.get('file')
        data = upload.stream.read(limit + 1) if upload is not None else b''
    except RequestEntityTooLarge:
        return _too_large(limit)
    if len(data) > limit:
        return _too_large(limit)
    on_conflict = request.form.get('on_conflict', 'fail')
    if upload is None or not upload.filename or not data:
        return _page(error='file: choose a file to import, an export as JSON or CSV', on_conflict=on_conflict,
                     status=422)
    if on_conflict not in ON_CONFLICT:
        return _page(error=f'on_conflict must be one of {", ".join(ON_CONFLICT)}', status=422)
    as_csv = _is_csv(upload, data)
    try:
        report = _import(data, as_csv, on_conflict, dry_run=True)
    except ConfigError as error:
        return _page(error=str(error), on_conflict=on_conflict, status=422)
    if report.errors:
        return _page(report=report, on_conflict=on_conflict, filename=_shown_name(upload.filename), status=422)
    uploads = PendingUploads.of_app()
    previous = session.get(PENDING_KEY)
    if isinstance(previous, dict):
        uploads.discard(str(previous.get('id', '')))
    try:
        upload_id = uploads.keep(data)
    except ConfigError as error:
        return _folder_refused(error)
    filename = _shown_name(upload.filename)
    session[PENDING_KEY] = {'id': upload_id, 'on_conflict': on_conflict, 'filename': filename, 'csv': as_csv}
    return _page(report=report, on_conflict=on_conflict, filename=filename, upload_id=upload_id)


@pages_transfer.post('/transfer/apply')
@needs('transfer.import')
def apply() -> ResponseReturnValue:
    pending = session.get(PENDING_KEY)
    upload_id = request.form.get('upload', '')
    if not isinstance(pending, dict) or pending.get('id') != upload_id:
        return _page(error='That preview is no longer waiting to be applied (it was applied, or another file was '
                           'previewed since); upload the file again', status=409)
    session.pop(PENDING_KEY, None)
    uploads = PendingUploads.of_app()
    try:
        data = uploads.take(upload_id)
    except ConfigError as error:
        return _folder_refused(error)
    on_conflict, filename = str(pending['on_conflict']), str(pending['filename'])
    if data is None:
        return _page(error='The uploaded file is no longer kept (an upload waits an hour for its Apply); upload it '
                           'again', status=409)
    try:
        report = _import(data, bool(pending['csv']), on_conflict, dry_run=False)
    except ConfigError as error:
        return _page(error=str(error), on_conflict=on_conflict, status=422)
    except StoreError:
        # The database failed (busy, or out of reach) and nothing was written: the same preview
        # may be applied again once it answers, without uploading the file again.
        uploads.put_back(upload_id, data)
        session[PENDING_KEY] = pending
        raise
    if report.errors:
        # The database changed since the preview, so that an item no longer goes in.
        return _page(report=report, on_conflict=on_conflict, filename=filename, status=422)
    return _page(report=report, on_conflict=on_conflict, filename=filename)


def _shown_name(filename: str | None) -> str:
    """The file's name as the page and the session keep it: its last part, at most SHOWN_NAME
    characters (a session cookie of more than 4 KB is dropped by browsers, with the upload it names)."""
    name = (filename or '').replace('\\', '/').rsplit('/', 1)[-1]
    return name if len(name) <= SHOWN_NAME else f'{name[:SHOWN_NAME - 1]}\u2026'


def _folder_refused(error: ConfigError) -> ResponseReturnValue:
    # The server's setting is wrong, not the upload: the operator of the server can fix it.
    return _page(error=f'Uploads cannot be kept: {error}', status=503)


def _limit() -> int:
    return int(current_app.config['MAX_IMPORT_BYTES'])


def _is_csv(upload: FileStorage, data: bytes) -> bool:
    name = (upload.filename or '').lower()
    # A CSV's first line names the columns, kind first, or is a spreadsheet's sep= line; a byte order
    # mark may come before either.
    start = data.lstrip().removeprefix(b'\xef\xbb\xbf').lower()
    return (name.endswith('.csv') or upload.mimetype == CSV_TYPE
            or start.startswith((b'kind,', b'kind;', b'"kind",', b'"kind";', b'sep=')))


def _import(data: bytes, as_csv: bool, on_conflict: str, *, dry_run: bool) -> ImportReport:
    """What the import of this file does, or would do; a refused one's report holds why, item by item."""
    document = csv_document(data) if as_csv else load(data, limit=_limit())
    try:
        return current_store().import_document(document, on_conflict=on_conflict, dry_run=dry_run)
    except ImportRefused as refused:
        report: ImportReport = refused.report
        return report


def _limit_text(limit: int) -> str:
    mebibytes = limit / 1048576
    return f'{limit} bytes ({mebibytes:.3g} MiB)' if mebibytes >= 1 else f'{limit} bytes'


def _too_large(limit: int) -> ResponseReturnValue:
    return _page(error=f'The file is too large: an import takes at most {_limit_text(limit)}, as '
                       f'{MAX_IMPORT_ENV} says.', status=413)


def _page(*, report: ImportReport | None = None, error: str | None = None, on_conflict: str = 'fail',
          filename: str | None = None, upload_id: str | None = None, status: int = 200) -> ResponseReturnValue:
    context: dict[str, Any] = {
        'report': report, 'error': error, 'on_conflict': on_conflict, 'on_conflict_choices': ON_CONFLICT,
        'on_conflict_help': ImportQuery.model_fields['on_conflict'].description,
        'filename': filename, 'upload_id': upload_id, 'limit_text': _limit_text(_limit()),
        'actions': (WOULD if report is not None and report.dry_run else DONE),
    }
    return page('transfer/transfer.html', **context), status
