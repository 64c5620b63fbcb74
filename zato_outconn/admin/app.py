"""The admin's application factory: one Flask (APIFlask) app, one blueprint per area.

The JSON API's blueprints live in ``admin.api``, the pages' in ``admin.pages``; both are on the same
app, with the same store, sign-in (Flask-Login) and CSRF protection (Flask-WTF, on by default for
every form; the API checks it itself for sessions and skips it for tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apiflask import APIFlask
from flask import current_app, request
from flask.wrappers import Response
from werkzeug.middleware.proxy_fix import ProxyFix

from zato_outconn.admin.answers import CaseJSONProvider
from zato_outconn.admin.api import register_api
from zato_outconn.admin.auth import STORE_KEY, csrf, login_manager
from zato_outconn.admin.health import health
from zato_outconn.admin.metrics_route import metrics
from zato_outconn.admin.pages import register_pages
from zato_outconn.admin.pages.view import RowIdConverter
from zato_outconn.admin.problems import is_page_request, page_error, problem
from zato_outconn.admin.problems import register as register_problems
from zato_outconn.admin.settings import DEFAULTS, MAX_REQUEST_ENV, PREFIX, check
from zato_outconn.store import Store
from zato_outconn.store.transfer import MAX_IMPORT_ENV
from zato_outconn.version import __version__

# No inline script or style, nothing from elsewhere, and no framing by another site.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    # No address of ours goes to another site; this site's own pages send theirs, which the CSRF check of
    # a form sent over HTTPS asks for (Flask-WTF's WTF_CSRF_SSL_STRICT): with none, no one could sign in.
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
}
# The routes that take an import, up to MAX_IMPORT_BYTES rather than MAX_REQUEST_BYTES; each sets
# its exact cap itself, and reads the body itself.
IMPORT_ENDPOINTS = frozenset({'api_transfer.import_', 'pages_transfer.preview'})


def create_app(config: Mapping[str, Any] | None = None) -> APIFlask:
    """The admin app. Settings: defaults, then ZATO_OUTCONN_* variables, then ``config``.

    ``config`` may hold ``STORE``, a store to use (the caller closes it); otherwise the app opens
    one on ``DB`` (ZATO_OUTCONN_DB, else the embedded SQLite default).
    """
    app = APIFlask('zato_outconn.admin', title='zato-outconn', version=__version__,
                   spec_path='/api/v1/openapi.json', docs_path=None)
    provider = app.json = CaseJSONProvider(app)
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env(PREFIX)
    if app.config.get('ADMIN_SECRET_KEY'):
        app.config['SECRET_KEY'] = str(app.config['ADMIN_SECRET_KEY'])
    app.config.update(config or {})
    check(app.config)
    hops = app.config['PROXY_HOPS']
    if hops:
        # Only X-Forwarded-For, and only the addresses the proxies added (the right-most ``hops``):
        # what a client writes there itself comes before them and is never believed. The scheme
        # behind a proxy is gunicorn's to set (forwarded_allow_ips); a forwarded Host would decide
        # what the CSRF check compares the Referer with.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0)  # type: ignore[method-assign]
    # werkzeug refuses a larger body (413) as soon as anything reads it, a chunked one once it grows so.
    app.config['MAX_CONTENT_LENGTH'] = app.config['MAX_REQUEST_BYTES']
    # What APIFlask answers itself (the OpenAPI document) is pretty or compact as the API's answers are.
    provider.compact = not app.config['JSON_PRETTY']

    store = app.config.get('STORE')
    if store is None:
        db = app.config.get('DB')
        store = Store(str(db) if db else None)
    app.extensions[STORE_KEY] = store

    login_manager.init_app(app)
    # Before the CSRF check, which reads the form: a body too large is refused without reading it.
    app.before_request(_body_cap)
    csrf.init_app(app)
    register_problems(app)
    # Before any route uses it: werkzeug's int(max=...) matches no rule for a larger id, which answers
    # 405 to a PATCH or DELETE (a GET rule has the path); row_id answers 404 for every method.
    app.url_map.converters['row_id'] = RowIdConverter
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    register_api(app, csrf)
    register_pages(app)
    app.after_request(_security_headers)
    return app


def _body_cap() -> Response | None:
    """A body declared larger than the cap refused at once, saying which setting caps it; an import's
    cap raised before anything (a session's CSRF check, say) reads the body under the lower one."""
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = int(current_app.config['MAX_IMPORT_BYTES'])
        return None
    limit = int(current_app.config['MAX_REQUEST_BYTES'])
    if request.content_length is None or request.content_length <= limit:
        return None
    detail = (f'The request body is {request.content_length} bytes; this server takes at most {limit} bytes '
              f'({MAX_REQUEST_ENV}), and an import up to {MAX_IMPORT_ENV}')
    return page_error(413, detail) if is_page_request() else problem(413, detail)


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
