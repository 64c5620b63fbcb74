"""The JSON API under ``/api/v1``: one blueprint per area, and the OpenAPI 3.1 document of them all."""

from __future__ import annotations

from apiflask import APIFlask
from flask_wtf.csrf import CSRFProtect

from zato_outconn.admin.api.docs import docs, finish_spec
from zato_outconn.admin.api.nodes import nodes
from zato_outconn.admin.api.outconns import outconns
from zato_outconn.admin.api.security import security
from zato_outconn.admin.api.transfer import transfer
from zato_outconn.admin.problems import PROBLEM_SCHEMA

BLUEPRINTS = (outconns, security, transfer, nodes)


def register_api(app: APIFlask, csrf: CSRFProtect) -> None:
    # Errors are documented as the problems they are; finish_spec gives them their media type.
    app.config['HTTP_ERROR_SCHEMA'] = PROBLEM_SCHEMA
    app.config['VALIDATION_ERROR_SCHEMA'] = PROBLEM_SCHEMA
    app.config['VALIDATION_ERROR_DESCRIPTION'] = 'Invalid fields: errors names each one and what to fix'
    app.config['AUTH_ERROR_DESCRIPTION'] = 'No valid credentials'
    for blueprint in BLUEPRINTS:
        # Tokens need no CSRF token; sessions are checked by the API's own authentication (auth._verify).
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(docs)
    app.spec_processor(finish_spec)
