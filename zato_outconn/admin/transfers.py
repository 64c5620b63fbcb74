"""What the API and the transfer page share: the export as an answer, and an import's document read
from the bytes given (an upload, or a request body).

A CSV export is made to be opened in a spreadsheet as well as imported back, and a spreadsheet runs
a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) as a formula, such
as ``=HYPERLINK(...)`` in a connection's name. As OWASP advises (and Symfony's CsvEncoder and
csv-stringify's ``escape_formulas`` do), such a cell is written after a single quote, which a
spreadsheet shows as text; a cell that starts with a quote gets one more, so that the import can take
exactly one quote off the cells that have one before a formula character or another quote.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from flask.wrappers import Response

from zato_outconn.admin.answers import csv_answer, json_answer
from zato_outconn.admin.auth import current_store
from zato_outconn.admin.tabular import cell, document_from_csv, export_csv
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.transfer import load

EXPORT_NAME = 'zato-outconn-export'
# What a spreadsheet reads as the start of a formula: OWASP's list, with the full-width forms that
# some spreadsheets read as the same; and the quote that makes a cell text instead.
FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20')
TEXT_QUOTE = "'"
_QUOTED = (*FORMULA_STARTS, TEXT_QUOTE)


def export_answer(as_csv: bool, *, download: bool = False) -> Response:
    """Every definition and connection, secrets left out, as JSON or CSV; with download, as a file to save."""
    document = current_store().export_document()
    if as_csv:
        return csv_answer(export_csv(_defused(document)), f'{EXPORT_NAME}.csv')
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
        document = document_from_csv(text)
    except csv.Error as error:
        # Such as a cell over the csv module's field limit (128 KiB), which no setting needs.
        raise ConfigError('file', f'is not a CSV file this import reads ({error})') from None
    for key in ('security', 'outconns'):
        document[key] = [{name: _restored(value) for name, value in item.items()} for item in document[key]]
    return document


def _defused(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every cell as the CSV holds it, a quote before each that would be a formula."""
    def row(item: dict[str, Any]) -> dict[str, str]:
        return {name: _quoted(cell(value)) for name, value in item.items()}

    return {**document, 'security': [row(item) for item in document['security']],
            'outconns': [row(item) for item in document['outconns']]}


def _quoted(text: str) -> str:
    return TEXT_QUOTE + text if text.startswith(_QUOTED) else text


def _restored(text: str) -> str:
    return text[1:] if text.startswith(TEXT_QUOTE) and text[1:].startswith(_QUOTED) else text


def checked_document(document: Any) -> dict[str, Any]:
    """A JSON document already parsed, checked as a file given to the command line is (its format and version)."""
    return load(json.dumps(document), limit=sys.maxsize)
