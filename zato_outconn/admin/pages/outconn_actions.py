"""What a connection's page does besides editing: ping it, show its history, roll it back.

The ping goes through the API's own code (admin.pinging), so the same rate limit applies and each
ping is recorded in the audit the same way; the page gets an HTML fragment for htmx to swap in
place of the button's result, green when the remote end answered well and red with the reason when
not. A rollback is a new version with the settings of the one chosen (the store's, as the API's).
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from markupsafe import Markup

from zato_outconn.admin.auth import current_store
from zato_outconn.admin.pages.view import can, needs, page, short_text, signed_in, whole_number
from zato_outconn.admin.pinging import ping_saved
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.history import HistoryRecord


def ping_fragment(ok: bool, text: str) -> Response:
    # The report holds the reason phrase of the remote end's status line, which that end writes.
    fragment = Markup('<span class="ping-result {}" role="status">{}</span>').format('ok' if ok else 'bad',
                                                                                       short_text(text))
    return Response(str(fragment), 200, mimetype='text/html')


@needs('outconn.ping')
def ping(outconn_id: int) -> ResponseReturnValue:
    principal = signed_in()
    assert principal is not None  # needs() let only the signed-in in
    answer = ping_saved(current_store().outconn_by_id(outconn_id), principal.actor)
    body = json.loads(answer.get_data(as_text=True))
    if answer.status_code != 200:
        # The rate limit: said in place, as a ping that did not happen.
        return ping_fragment(False, str(body['detail']))
    return ping_fragment(bool(body['ok']), _short_report(str(body['report'])))


def _short_report(report: str) -> str:
    """The report without its timestamp (the page shows it now): OK HEAD http://... -> 200 OK in 0.0040 s."""
    head, sep, _ = report.rpartition(' at ')
    return head if sep and head.endswith(' s') else report


# Versions on one page of a history: a connection toggled by a script may have thousands.
HISTORY_PAGE_SIZE = 50


@needs('outconn.read')
def history(outconn_id: int) -> ResponseReturnValue:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    versions = list(reversed(store.history('outconn', outconn_id)))
    pages = max(1, -(-len(versions) // HISTORY_PAGE_SIZE))
    number = max(1, whole_number(request.args.get('page')) or 1)
    shown = versions[(number - 1) * HISTORY_PAGE_SIZE:number * HISTORY_PAGE_SIZE]
    return page('outconns/history.html', record=record, versions=[_version(item) for item in shown],
                writable=can('outconn.write'), number=number, pages=pages)


def _version(item: HistoryRecord) -> dict[str, Any]:
    changes = [(field, *(_pair(value))) for field, value in sorted(item.changes.items())]
    return {'version': item.version, 'changed_at': item.changed_at, 'changed_by': item.changed_by,
            'action': item.action, 'changes': changes}


def _pair(value: Any) -> tuple[str, str]:
    # {"field": [old, new]}; a changed secret is kept as "changed" alone, never its values.
    if isinstance(value, list) and len(value) == 2:
        return _shown(value[0]), _shown(value[1])
    return '', _shown(value)


def _shown(value: Any) -> str:
    if value is None:
        return '(none)'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


@needs('outconn.write')
def rollback(outconn_id: int) -> ResponseReturnValue:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    version = request.form.get('version', '')
    number = whole_number(version)
    try:
        if number is None:
            raise ConfigError('version', f'must be a version number; got {version[:20]!r}')
        updated = store.rollback_outconn(record.config.transport, record.config.name, number)
    except ConfigError as error:
        flash('Not rolled back: ' + '; '.join(f'{field} {message}' for field, message in error.errors), 'error')
    else:
        flash(f'Rolled back to the settings of version {version}; that is version {updated.version} now.', 'ok')
    return redirect(url_for('pages_outconns.history', outconn_id=outconn_id))
