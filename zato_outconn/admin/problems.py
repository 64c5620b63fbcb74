"""Every error the API answers, as ``application/problem+json`` (RFC 9457); the pages' errors as pages.

A problem has ``type``, ``title``, ``status`` and ``detail``; a 422 also has ``errors``, one
``{"field", "message"}`` per bad field, all of them at once. The library's exceptions become the
status that says what went wrong; their messages never hold a secret, and neither do these.

A request for a page (any path outside ``/api/`` and ``/healthz``) gets the same status and detail
as an HTML page instead (templates/error.html), or, asked by htmx, as a fragment to show in place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import render_template, request
from flask.wrappers import Response
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from zato_outconn.admin.answers import json_answer
from zato_outconn.exceptions import (
    ConfigError,
    Conflict,
    ImportRefused,
    InUse,
    NotFound,
    OutconnError,
    SchemaError,
    SecretsError,
    StoreError,
)

PROBLEM_TYPE = 'application/problem+json'
# What every problem looks like, for the OpenAPI document.
PROBLEM_SCHEMA: dict[str, Any] = {
    'type': 'object',
    'required': ['type', 'title', 'status', 'detail'],
    'properties': {
        'type': {'type': 'string'},
        'title': {'type': 'string'},
        'status': {'type': 'integer'},
        'detail': {'type': 'string'},
        'errors': {'type': 'array', 'description': 'Every bad field (422)', 'items': {
            'type': 'object', 'required': ['field', 'message'],
            'properties': {'field': {'type': 'string'}, 'message': {'type': 'string'}}}},
    },
}

logger = logging.getLogger('zato_outconn.admin')

# Paths whose errors are problems; every other path is a page's.
NOT_PAGES = ('/api/', '/healthz')
# The error page when even the error page cannot be made (templates/error.html, without the header).
BARE_ERROR_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{status} {title} · '
                   'zato-outconn</title><link rel="stylesheet" href="/static/admin.css"></head><body>'
                   '<header class="top"><a class="brand" href="/outconns">zato-outconn</a></header><main>'
                   '<h1>{title}</h1><p class="error">{detail}</p><p><a href="/outconns">Try again</a></p>'
                   '</main></body></html>')


def problem(status: int, detail: str, *, errors: list[tuple[str, str]] | None = None,
            headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {'type': 'about:blank', 'title': HTTP_STATUS_CODES.get(status, 'Error'),
                            'status': status, 'detail': detail}
    if errors is not None:
        body['errors'] = [{'field': field, 'message': message} for field, message in errors]
    body.update(extra)
    return json_answer(body, status, headers, mimetype=PROBLEM_TYPE)


def invalid(errors: list[tuple[str, str]], **extra: Any) -> Response:
    fields = ', '.join(dict.fromkeys(field or 'body' for field, _ in errors))
    return problem(422, f'The request has invalid fields: {fields}; each error says what to fix',
                   errors=errors, **extra)


def _validation_errors(detail: Any) -> list[tuple[str, str]]:
    """APIFlask's {location: {field: [messages]}} as (field, message) pairs."""
    errors: list[tuple[str, str]] = []
    if isinstance(detail, Mapping):
        for fields in detail.values():
            if isinstance(fields, Mapping):
                errors.extend((str(field), str(message)) for field, messages in fields.items()
                              for message in (messages if isinstance(messages, list) else [messages]))
    return errors or [('', 'is invalid')]


def http_problem(error: HTTPError) -> Response:
    """APIFlask's errors (its own 422s and every HTTP error of Flask and werkzeug) as problems."""
    if error.status_code == 422:
        return invalid(_validation_errors(error.detail))
    detail = error.message or HTTP_STATUS_CODES.get(error.status_code, 'Error')
    if error.status_code == 401:
        detail = 'Valid credentials are needed: an API token as Authorization: Bearer <token>, or a signed-in session'
    elif error.status_code == 403:
        detail = 'Your role does not grant the permission this needs'
    elif error.status_code == 400 and error.message == 'Bad Request':
        detail = 'The request cannot be read: the body is not valid JSON, or it is missing'
    elif error.status_code == 413:
        detail = 'The request body is larger than this server takes'
    headers = {key: str(value) for key, value in dict(error.headers or {}).items() if key.lower() != 'content-type'}
    return problem(error.status_code, detail, headers=headers)


def _not_found_detail(error: NotFound) -> str:
    # Lookups by id name the kind "... with id"; "named '7'" would read oddly.
    return f'No {error.kind} {error.name}' if error.kind.endswith(' id') else str(error)


def is_page_request() -> bool:
    """Whether this request is for a page, whose errors are pages too."""
    return not request.path.startswith(NOT_PAGES)


def page_error(status: int, detail: str, *, errors: list[tuple[str, str]] | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
    """An error as a page; to htmx, as a fragment it swaps in place (static/admin.js lets it)."""
    title = HTTP_STATUS_CODES.get(status, 'Error')
    if request.headers.get('HX-Request') == 'true':
        body = str(Markup('<span class="error" role="alert">{}</span>').format(detail))
    else:
        try:
            body = render_template('error.html', status=status, title=title, detail=detail, errors=errors or [])
        except OutconnError:
            # Every page asks the database who is signed in; when that is what failed, the page says
            # what did without the parts that need it, rather than fail again into a bare 500.
            body = str(Markup(BARE_ERROR_PAGE).format(status=status, title=title, detail=detail))
    return Response(body, status, headers, mimetype='text/html')


def _as_page(answer: Response) -> Response:
    """The page of what a problem says (its status, detail, field errors and headers such as Retry-After)."""
    body = json.loads(answer.get_data(as_text=True))
    errors = [(item['field'], item['message']) for item in body.get('errors') or ()]
    headers = {key: value for key, value in answer.headers.items() if key.lower() not in ('content-type',
                                                                                             'content-length')}
    return page_error(answer.status_code, str(body['detail']), errors=errors, headers=headers)


def _pages_too(handler: Callable[[Any], Response]) -> Callable[[Any], Response]:
    def answer(error: Any) -> Response:
        problem_answer = handler(error)
        return _as_page(problem_answer) if is_page_request() else problem_answer

    return answer


def _http_exception(error: HTTPException) -> Response:
    """werkzeug's errors: a page saying what the view said (abort's description), or the API's problem."""
    status = error.code or 500
    headers = {key: value for key, value in error.get_headers() if key.lower() != 'content-type'}
    if is_page_request():
        return page_error(status, str(error.description or HTTP_STATUS_CODES.get(status, 'Error')),
                          headers=headers)
    return http_problem(HTTPError(status, message=error.name, headers=headers))


def _csrf_problem(error: CSRFError) -> Response:
    return problem(400, f'The CSRF token is missing or invalid ({error.description}); '
                        'send it as X-CSRFToken from the page you were given')


def csrf_refused(error: CSRFError) -> Response:
    """A change refused by the CSRF check, as a problem or, to a page, as a page."""
    return _pages_too(_csrf_problem)(error)


def register(app: APIFlask) -> None:
    app.error_processor(http_problem)
    # Replaces APIFlask's own handler of werkzeug's errors, which makes every one a problem.
    app.register_error_handler(HTTPException, _http_exception)

    handlers: dict[type[Exception], Any] = {
        ImportRefused: lambda error: invalid(error.errors, report=error.report.as_dict()),
        ConfigError: lambda error: invalid(error.errors),
        NotFound: lambda error: problem(404, _not_found_detail(error)),
        InUse: lambda error: problem(409, str(error), used_by=list(error.users)),
        Conflict: lambda error: problem(409, str(error)),
        SchemaError: lambda error: problem(503, str(error)),
        StoreError: lambda error: problem(503, str(error)),
        SecretsError: lambda error: problem(503, str(error)),
        CSRFError: _csrf_problem,
    }
    for kind, handler in handlers.items():
        app.register_error_handler(kind, _pages_too(handler))

    def unexpected(error: OutconnError) -> Response:
        logger.error('Unexpected %s in the admin', type(error).__name__, exc_info=error)
        return problem(500, f'The server failed ({type(error).__name__}); see its log')

    app.register_error_handler(OutconnError, _pages_too(unexpected))
