"""``/api/v1/export`` and ``/api/v1/import``: everything but secrets, as one JSON or CSV document."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app, request
from flask.wrappers import Response

from zato_outconn.admin.answers import CSV_TYPE, json_answer, wants_csv
from zato_outconn.admin.auth import current_store, needs
from zato_outconn.admin.schemas import ExportDocument, ImportQuery, ImportReport, ListFormat
from zato_outconn.admin.transfers import checked_document, csv_document, export_answer
from zato_outconn.store.transfer import MAX_IMPORT_ENV

transfer = APIBlueprint('api_transfer', __name__, url_prefix='/api/v1', tag='Export and import')


@transfer.get('/export')
@needs(transfer, 'transfer.export')
@transfer.input(ListFormat, location='query', arg_name='query')
@transfer.output(ExportDocument, description='Every definition and connection, secrets left out; CSV for '
                                             'Accept: text/csv or ?format=csv')
@transfer.doc(summary='Export everything but secrets')
def export(query: ListFormat) -> Response:
    return export_answer(wants_csv())


@transfer.post('/import')
@needs(transfer, 'transfer.import')
@transfer.input(ImportQuery, location='query', arg_name='query')
@transfer.output(ImportReport, description='What was done (or, with dry_run, would be done) with each item')
@transfer.doc(summary='Import a document', description='An export, as JSON or as CSV (Content-Type: text/csv), '
                                                       f'up to {MAX_IMPORT_ENV} bytes (default 10 MiB). One '
                                                       'transaction: every item is written, or none.',
              responses={413: 'The document is larger than the server takes'})
def import_(query: ImportQuery) -> Response:
    # Above the limit werkzeug refuses the body with 413 before it is read in full.
    request.max_content_length = int(current_app.config['MAX_IMPORT_BYTES'])
    if request.mimetype == CSV_TYPE:
        document = csv_document(request.get_data())
    else:
        document = checked_document(request.get_json(force=True))
    report = current_store().import_document(document, on_conflict=query.on_conflict, dry_run=query.dry_run)
    return json_answer(report.as_dict())
