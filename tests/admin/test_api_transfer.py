"""Export and import through the API, as JSON and as CSV, with dry runs, conflicts and the size cap."""

from __future__ import annotations

import csv
import io
import json

import pytest

from zato_outconn import Store
from zato_outconn.store.transfer import MAX_IMPORT_ENV

from tests.admin.conftest import API, make_app, problem_of


def _fill(api: API) -> None:
    api.security('crm-creds', secret='S3cret-never-shown')
    api.outconn('CRM', host='http://crm.example.com', url_path='/c/{id}', security='crm-creds', cid_header='')
    api.outconn('Bank', host='http://bank.example.com', transport='soap', soap_action='urn:x')


def test_export_as_json_has_every_setting_and_no_secret(api: API) -> None:
    _fill(api)
    response = api.get('/api/v1/export')
    document = response.get_json()
    assert document['format'] == 'zato-outconn' and 'S3cret' not in response.get_data(as_text=True)
    assert document['security'][0]['secret_set'] is True and 'secret' not in document['security'][0]
    assert sorted(item['name'] for item in document['outconns']) == ['Bank', 'CRM']


def test_export_as_csv_imports_back(api: API) -> None:
    _fill(api)
    response = api.get('/api/v1/export', headers={'Accept': 'text/csv'})
    assert response.mimetype == 'text/csv' and 'S3cret' not in response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted((row['kind'], row['name']) for row in rows) == [
        ('outconn', 'Bank'), ('outconn', 'CRM'), ('security', 'crm-creds')]
    text = response.get_data()
    unchanged = api.post('/api/v1/import', data=text, content_type='text/csv',
                         query_string={'on_conflict': 'overwrite'})
    assert unchanged.status_code == 200, unchanged.get_data(as_text=True)
    assert unchanged.get_json()['counts'] == {'unchanged': 3}
    for name, transport in (('CRM', 'plain_http'), ('Bank', 'soap')):
        api.store.delete_outconn(transport, name)
    created = api.post('/api/v1/import', data=text, content_type='text/csv', query_string={'on_conflict': 'skip'})
    assert created.get_json()['counts'] == {'create': 2, 'skip': 1}
    crm = api.store.find_outconn('CRM').config
    assert (crm.url_path, crm.security, crm.cid_header, crm.is_active) == ('/c/{id}', 'crm-creds', '', True)
    assert api.store.find_outconn('Bank').config.soap_action == 'urn:x'


def test_import_dry_run_writes_nothing_and_bad_items_are_all_named(api: API) -> None:
    document = {'format': 'zato-outconn', 'format_version': 1, 'security': [],
                'outconns': [{'name': 'A', 'host': 'http://a.example.com'}, {'name': 'B', 'host': 'ftp://b'},
                             {'name': 'C', 'host': 'http://c.example.com', 'pool_size': 0}]}
    refused = problem_of(api.post('/api/v1/import', json=document, query_string={'dry_run': 'true'}), 422)
    assert [error['field'] for error in refused['errors']] == ["outconns[1] plain_http 'B': host",
                                                               "outconns[2] plain_http 'C': pool_size"]
    assert refused['report']['items'][0]['action'] == 'create'
    document['outconns'] = document['outconns'][:1]
    dry = api.post('/api/v1/import', json=document, query_string={'dry_run': 'true'}).get_json()
    assert (dry['dry_run'], dry['written'], dry['counts']) == (True, False, {'create': 1})
    assert api.store.list_outconns() == []
    done = api.post('/api/v1/import', json=document).get_json()
    assert done['written'] is True and [record.config.name for record in api.store.list_outconns()] == ['A']
    conflict = problem_of(api.post('/api/v1/import', json=document), 422)
    assert 'on-conflict' in conflict['errors'][0]['message']
    problem_of(api.post('/api/v1/import', json=document, query_string={'on_conflict': 'merge'}), 422)


def test_import_refuses_what_is_no_export(api: API) -> None:
    problem_of(api.post('/api/v1/import', data='{"format":', content_type='application/json'), 400)
    assert problem_of(api.post('/api/v1/import', json={'outconns': []}), 422)['errors'][0]['field'] == 'file'
    problem_of(api.post('/api/v1/import', data='name,host\nA,http://a\n', content_type='text/csv'), 422)
    problem_of(api.post('/api/v1/import', data=b'kind,name\n\xff\xfe', content_type='text/csv'), 422)


def test_an_import_above_the_cap_is_413(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_IMPORT_ENV, '200')
    api = API(make_app(sqlite_store), sqlite_store)
    document = {'format': 'zato-outconn', 'format_version': 1, 'security': [],
                'outconns': [{'name': f'N{index}', 'host': 'http://n.example.com'} for index in range(10)]}
    assert len(json.dumps(document)) > 200
    problem_of(api.post('/api/v1/import', json=document), 413)
    problem_of(api.post('/api/v1/import', data='kind,name\n' + 'outconn,x\n' * 50, content_type='text/csv'), 413)
    assert sqlite_store.list_outconns() == []
    small = {'format': 'zato-outconn', 'format_version': 1, 'security': [], 'outconns': []}
    assert api.post('/api/v1/import', json=small).status_code == 200
