"""``GET /metrics``: this server's per-connection metrics for Prometheus, to holders of ``metrics.read``.

Under ``zato-outconn serve`` the scrape adds up every worker's (prometheus-client's multi-process
mode); it shows the calls this server itself made (pings from the admin), and any process's own
are exposed by that process through ``zato_outconn.metrics.render``.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask.wrappers import Response

from zato_outconn import metrics as recorded
from zato_outconn.admin.auth import needs

metrics = APIBlueprint('metrics', __name__, tag='Metrics')

_ANSWERS: dict[int | str, dict[str, str | dict[str, dict[str, Any]]]] = {
    200: {'description': 'The Prometheus text exposition format',
          'content': {'text/plain': {'schema': {'type': 'string'}}}},
}


@metrics.get('/metrics')
@needs(metrics, 'metrics.read')
@metrics.doc(summary='Metrics for Prometheus', description='Requests, latency histograms, errors, retries and '
             'circuit state per connection, in the Prometheus text format',
             responses=_ANSWERS)
def scrape() -> Response:
    body, content_type = recorded.render()
    return Response(body, content_type=content_type)
