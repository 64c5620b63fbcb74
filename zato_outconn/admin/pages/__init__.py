"""The admin's pages: one blueprint per area, rendered by Jinja with htmx, over the same store as the API.

Pages are for people signed in with a session (``/login``); every form carries the CSRF token, and
htmx sends it as ``X-CSRFToken`` (static/admin.js). Each view names the permission code it needs
(``pages.view.needs``), and templates hide what the user may not do (``can('outconn.write')``).
"""

from __future__ import annotations

from flask import Flask

from zato_outconn.admin.pages.auth import pages_auth
from zato_outconn.admin.pages.nodes import pages_nodes
from zato_outconn.admin.pages.outconns import pages_outconns
from zato_outconn.admin.pages.security import pages_security
from zato_outconn.admin.pages.transfer import pages_transfer
from zato_outconn.admin.pages.users import pages_users
from zato_outconn.admin.pages.view import install

BLUEPRINTS = (pages_auth, pages_outconns, pages_security, pages_transfer, pages_nodes, pages_users)


def register_pages(app: Flask) -> None:
    install(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
