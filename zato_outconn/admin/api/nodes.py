"""``/api/v1/nodes``: the processes that follow the database, and the change each has applied."""

from __future__ import annotations

from datetime import datetime, timezone

from apiflask import APIBlueprint
from flask.wrappers import Response

from zato_outconn.admin.answers import csv_answer, json_answer, wants_csv
from zato_outconn.admin.auth import current_store, needs
from zato_outconn.admin.schemas import ListFormat, Node, NodeList
from zato_outconn.admin.tabular import csv_text

nodes = APIBlueprint('api_nodes', __name__, url_prefix='/api/v1/nodes', tag='Nodes')


@nodes.get('')
@needs(nodes, 'outconn.read')
@nodes.input(ListFormat, location='query', arg_name='query')
@nodes.output(NodeList, description='Each node: current, behind (not on the latest change) or silent')
@nodes.doc(summary='List nodes')
def list_nodes(query: ListFormat) -> Response:
    store = current_store()
    latest = store.last_change()
    now = datetime.now(timezone.utc)
    items = [record.as_dict(latest, now) for record in store.list_nodes()]
    if wants_csv():
        return csv_answer(csv_text(tuple(Node.model_fields), items), 'nodes.csv')
    return json_answer(items)
