"""``/nodes``: the processes that follow the database, and which of them are behind."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint
from flask.typing import ResponseReturnValue

from zato_outconn.admin.auth import current_store
from zato_outconn.admin.pages.view import needs, page

pages_nodes = Blueprint('pages_nodes', __name__)


@pages_nodes.get('/nodes')
@needs('outconn.read')
def list_page() -> ResponseReturnValue:
    store = current_store()
    latest = store.last_change()
    now = datetime.now(timezone.utc)
    # The same rows the API's /api/v1/nodes answers, status included.
    nodes = [record.as_dict(latest, now) for record in store.list_nodes()]
    return page('nodes/list.html', nodes=nodes, latest=latest)
