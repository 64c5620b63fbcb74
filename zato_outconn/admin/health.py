"""``GET /healthz``: whether the app and its database answer, for load balancers; no credentials."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask.wrappers import Response

from zato_outconn.admin.answers import json_answer
from zato_outconn.admin.auth import current_store
from zato_outconn.admin.problems import problem
from zato_outconn.admin.schemas import Health
from zato_outconn.exceptions import OutconnError

health = APIBlueprint('health', __name__, tag='Health')


@health.get('/healthz')
@health.output(Health, description='The app and its database answer')
@health.doc(summary='Health of the app and its database', responses={503: 'The database does not answer'})
def healthz() -> Response:
    try:
        change = current_store().last_change()
    except OutconnError as error:
        return problem(503, f'The database does not answer: {error}')
    return json_answer({'status': 'ok', 'database': 'ok', 'last_change': change})
