"""What the API and the transfer page share: the export as an answer, and an import's document read
from the bytes given (an upload, or a request body).

A CSV export is made to be opened in a spreadsheet as well as imported back: its cells are defused
against formulas as every CSV of the admin's is (``tabular.cell``), and read back undone.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from flask.wrappers import Response

from zato_outconn.admin.answers import csv_answer, json_answer
from zato_outconn.admin.auth import current_store
from zato_outconn.admin.tabular import document_from_csv, export_csv
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.transfer import load

EXPORT_NAME = 'zato-outconn-export'


def export_answer(as_csv: bool, *, download: bool = False) -> Response:
    """Every definition and connection, secrets left out, as JSON or CSV; with download, as a file to save."""
    document = current_store().export_document()
    if as_csv:
        return csv_answer(export_csv(document), f'{EXPORT_NAME}.csv')
    headers = {'Content-Disposition': f'attachment; filename="{EXPORT_NAME}.json"'} if download else None
    return json_answer(document, headers=headers)


def csv_document(data: bytes) -> dict[str, Any]:
    """The export document a CSV export's bytes stand for."""
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark, which is no column's name.
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise ConfigError('file', 'is not UTF-8 text') from None
    try:
        return document_from_csv(text)
    except csv.Error as error:
        # Such as a cell over the csv module's field limit (128 KiB), which no setting needs.
        raise ConfigError('file', f'is not a CSV file this import reads ({error})') from None


def checked_document(document: Any) -> dict[str, Any]:
    """A JSON document already parsed, checked as a file given to the command line is (its format and version)."""
    return load(json.dumps(document), limit=sys.maxsize)
