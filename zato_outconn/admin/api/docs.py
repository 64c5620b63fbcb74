"""The OpenAPI document's last touches, and ``/api/v1/docs``, the page that lists it for people.

APIFlask builds the document from the routes and models; this marks request bodies required,
documents what every route can answer (400 for a body that is no JSON, 403 for a role without the
permission, problems as ``application/problem+json``) and the CSV forms of lists, and describes the
import's two kinds of body. The page is plain HTML, no script, so the Content-Security-Policy holds.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template_string

from zato_outconn.admin.answers import CSV_TYPE
from zato_outconn.admin.pages.view import MAX_NUMBER
from zato_outconn.admin.problems import PROBLEM_TYPE

docs = Blueprint('api_docs', __name__)

# The GET routes that answer CSV too.
CSV_ROUTES = ('/api/v1/outconns', '/api/v1/security', '/api/v1/nodes', '/api/v1/export')
IMPORT_ROUTE = '/api/v1/import'
_METHODS = ('get', 'put', 'post', 'delete', 'patch')
_CSV = {'schema': {'type': 'string'}}
_PROBLEM_REF = {'$ref': '#/components/schemas/HTTPError'}
# Path ids taken by the row_id converter, which APIFlask, not knowing it, would call strings.
ROW_ID_PARAMETERS = frozenset({'outconn_id', 'security_id'})
_ROW_ID_SCHEMA = {'type': 'integer', 'minimum': 0, 'maximum': MAX_NUMBER}


def _problem(description: str) -> dict[str, Any]:
    # APIFlask registers the problem schema (api.register_api) under the name of its error schema.
    return {'description': description, 'content': {PROBLEM_TYPE: {'schema': _PROBLEM_REF}}}


def finish_spec(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    assert isinstance(spec, dict), 'the document is made as JSON (SPEC_FORMAT)'
    for path, operations in spec.get('paths', {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault('responses', {})
            for parameter in operation.get('parameters', []):
                if parameter.get('in') == 'path' and parameter.get('name') in ROW_ID_PARAMETERS:
                    parameter['schema'] = dict(_ROW_ID_SCHEMA)
            if path == IMPORT_ROUTE:
                operation['requestBody'] = {'required': True, 'content': {
                    'application/json': {'schema': {'$ref': '#/components/schemas/ExportDocument'}},
                    CSV_TYPE: _CSV}}
            if 'requestBody' in operation:
                operation['requestBody']['required'] = True
                responses.setdefault('400', _problem('The body cannot be read: it is not valid JSON'))
            if operation.get('security'):
                responses.setdefault('401', _problem('No valid credentials'))
                responses.setdefault('403', _problem('The role does not grant the permission this needs'))
            if path in CSV_ROUTES and method == 'get':
                responses['200'].setdefault('content', {})[CSV_TYPE] = _CSV
            for status, response in responses.items():
                content = response.get('content', {})
                if int(status) >= 400 and 'application/json' in content:
                    content[PROBLEM_TYPE] = content.pop('application/json')
                elif int(status) >= 400 and not content:
                    response['content'] = _problem('')['content']
    return spec


_PAGE = '''<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} API {{ version }}</title></head>
<body>
<h1>{{ title }} API {{ version }}</h1>
<p>The machine-readable document: <a href="{{ spec_url }}">{{ spec_url }}</a> (OpenAPI {{ openapi }}).
Send an API token as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<table>
<thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Needs</th><th>Answers</th></tr></thead>
<tbody>
{% for path, method, operation, needs in operations %}
<tr><td>{{ method | upper }}</td><td><code>{{ path }}</code></td>
<td>{{ operation.get('summary', '') }}
{%- if operation.get('description') %}: {{ operation['description'] }}{% endif %}</td>
<td>{{ needs }}</td>
<td>{{ operation.get('responses', {}) | join(', ') }}</td></tr>
{% endfor %}
</tbody></table>
</body></html>
'''


@docs.get('/api/v1/docs')
def docs_page() -> str:
    spec: dict[str, Any] = current_app.spec  # type: ignore[attr-defined]
    operations = [(path, method, operation, ' or '.join(code for requirement in operation.get('security', [])
                                                          for codes in requirement.values() for code in codes))
                  for path, methods in spec['paths'].items() for method, operation in methods.items()
                  if method in _METHODS]
    return render_template_string(_PAGE, title=spec['info']['title'], version=spec['info']['version'],
                                  openapi=spec['openapi'], spec_url='/api/v1/openapi.json', operations=operations)
