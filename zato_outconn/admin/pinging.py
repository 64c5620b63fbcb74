"""Pings from the admin: of a saved connection only, limited per user, and each one recorded.

A ping is a request the server sends to an address an operator typed. So the API takes no address
in the ping itself (it pings what is saved, with the saved secret), a user may send only so many a
minute (``ZATO_OUTCONN_PING_LIMIT``, counted in the database, so across every worker), and each one
is kept in the ping audit: who, when, and what came back.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta

from flask import current_app
from flask.wrappers import Response

from zato_outconn.admin.answers import json_answer
from zato_outconn.admin.auth import current_store
from zato_outconn.admin.problems import problem
from zato_outconn.admin.settings import PING_LIMIT_ENV, PING_WINDOW
from zato_outconn.conn.headers import Component, msg_timestamp
from zato_outconn.conn.ping import PingResult, short_text
from zato_outconn.exceptions import Inactive, NotFound
from zato_outconn.registry import build_connection
from zato_outconn.runtime.context import new_cid
from zato_outconn.runtime.runtime import CLUSTER_ENV, SERVER_ENV
from zato_outconn.store import OutconnRecord, Store
from zato_outconn.store.models import utc_now

ANSWER_FIELDS = ('ok', 'status_code', 'elapsed', 'method', 'url', 'error')


def retry_after(store: Store, actor: str, limit: int) -> int | None:
    """Seconds until ``actor`` may ping again, or None if they may now."""
    now = utc_now()
    count, first = store.pings_by_since(actor, now - timedelta(seconds=PING_WINDOW))
    if count < limit or first is None:
        return None
    return max(1, math.ceil(PING_WINDOW - (now - first).total_seconds()))


def ping_once(store: Store, record: OutconnRecord) -> PingResult:
    """Ping the saved connection once, through a connection of its own that is closed afterwards."""
    config = record.config
    templates = store.load_templates(ids=[record.id])
    if not templates:
        raise NotFound(f'{config.transport} connection', config.name)  # deleted since it was read
    template = templates[0]
    component = Component(cluster=os.environ.get(CLUSTER_ENV) or 'default',
                          server=os.environ.get(SERVER_ENV) or 'server1')
    conn = build_connection(template, component)
    try:
        return conn.ping(new_cid())
    except Inactive as error:
        # Nothing was sent: the report says why, as it does for every other failure.
        return PingResult(method=config.ping_method, url=config.host + config.path_template.ping_path,
                          timestamp=msg_timestamp(), elapsed=0.0, error=str(error.args[0] if error.args else error))
    finally:
        conn.close()


def ping_saved(record: OutconnRecord, actor: str) -> Response:
    store = current_store()
    limit = int(current_app.config['PING_LIMIT'])
    wait = retry_after(store, actor, limit)
    if wait is not None:
        return problem(429, f'You have sent {limit} pings in the last {PING_WINDOW:g} seconds, as many as '
                            f'{PING_LIMIT_ENV} allows; try again in {wait} s', headers={'Retry-After': str(wait)})
    result = ping_once(store, record)
    store.record_ping(record.id, record.config.name, record.config.transport, ok=result.ok,
                      status_code=result.status_code, elapsed=result.elapsed, method=result.method, url=result.url,
                      error=result.error, by=actor)
    # The report as the pages show it (a long address or error cut the same way), one line for people.
    return json_answer({**{name: getattr(result, name) for name in ANSWER_FIELDS}, 'report': short_text(result)})
