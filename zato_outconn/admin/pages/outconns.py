"""The connections' pages: the list, the form to create and edit one, and what a row can do.

``/outconns`` lists them by transport (tabs), with search, the active filter, sorting and paging,
through the same store query as the API. ``/outconns/new`` and ``/outconns/<id>`` are forms made
from OutconnConfig (pages.forms); a save checks every field at once and writes nothing unless all
pass, and an edit is refused when the connection changed since the form was read. Pings, history
and rollback are in pages.outconn_actions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from zato_outconn.admin.auth import current_store
from zato_outconn.admin.pages.form_errors import FormErrors
from zato_outconn.admin.pages.forms import form_fields, posted
from zato_outconn.admin.pages.latency_chart import latency_chart, ping_summary
from zato_outconn.admin.pages.outconn_actions import history, ping, rollback
from zato_outconn.admin.pages.view import can, local_path, needs, page, whole_number
from zato_outconn.admin.schemas import MAX_LIMIT
from zato_outconn.config import OutconnConfig
from zato_outconn.config.outconn import SOAP_ONLY, TRANSPORTS
from zato_outconn.exceptions import ConfigError, Conflict
from zato_outconn.store import OutconnRecord
from zato_outconn.store.queries import SORT_KEYS

pages_outconns = Blueprint('pages_outconns', __name__)
# A connection's pages; an id past what the databases hold is a 404 like any other that is not there.
ONE = '/outconns/<row_id:outconn_id>'
pages_outconns.add_url_rule(f'{ONE}/ping', 'ping', ping, methods=['POST'])
pages_outconns.add_url_rule(f'{ONE}/history', 'history', history)
pages_outconns.add_url_rule(f'{ONE}/rollback', 'rollback', rollback, methods=['POST'])

PAGE_SIZE = 25
# Past it the offset would overflow the databases' integers; nobody pages that far.
MAX_PAGE = 1_000_000
# The list's sortable columns, as their headers read.
SORTABLE = {'name': 'Name', 'host': 'Address', 'is_active': 'Active', 'version': 'Version',
            'updated_at': 'Changed (UTC)'}
# The form's sections: each setting in one; a setting the model gains later goes to the last.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ('Connection', ('name', 'transport', 'host', 'url_path', 'security', 'is_active', 'ping_method')),
    ('Timeouts and limits', ('connect_timeout', 'read_timeout', 'total_timeout', 'max_response_size', 'pool_size')),
    ('Retries, circuit breaker and rate limit', ('max_retries', 'retry_on_status', 'retry_methods', 'retry_backoff',
                                                 'retry_after_max', 'breaker_threshold', 'breaker_reset',
                                                 'rate_limit')),
    ('Requests', ('data_format', 'content_type', 'follow_redirects', 'max_redirects', 'cid_header',
                  'component_header', 'msg_ts_header')),
    ('TLS and proxy', ('validate_tls', 'ca_bundle', 'proxy')),
    ('SOAP', SOAP_ONLY[:1] + ('soap_version',) + SOAP_ONLY[1:]),
)
FIELDS = tuple(OutconnConfig.model_fields)
_PLACED = {name for _, names in SECTIONS for name in names}
# What an edit may change: every setting but the transport, which picks the table's tab and kind.
EDITABLE = tuple(name for name in FIELDS if name != 'transport')


def sections(transport: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """The form's sections; a saved plain-HTTP connection's without SOAP's (its transport is fixed)."""
    rest = tuple(name for name in FIELDS if name not in _PLACED)
    shown = [section for section in SECTIONS if transport in (None, 'soap') or section[0] != 'SOAP']
    return [*shown, ('Other', rest)] if rest else shown


def _list_args() -> dict[str, Any]:
    args = request.args
    transport = args.get('transport') if args.get('transport') in TRANSPORTS else TRANSPORTS[0]
    active = args.get('active') if args.get('active') in ('true', 'false') else ''
    sort = args.get('sort', 'name')
    if sort.removeprefix('-') not in SORT_KEYS:
        sort = 'name'
    number = whole_number(args.get('page'))
    return {'transport': transport, 'q': args.get('q', '').strip()[:200], 'active': active, 'sort': sort,
            'page': min(MAX_PAGE, max(1, number)) if number is not None else 1}


def list_url(state: dict[str, Any], **changes: Any) -> str:
    """The list's address with these changes (another tab, sort or page), the rest kept."""
    merged = {**state, **changes}
    query = {key: value for key, value in merged.items() if value not in ('', None) and
             not (key == 'page' and value == 1) and not (key == 'sort' and value == 'name')}
    return f'/outconns?{urlencode(query)}' if query else '/outconns'


@pages_outconns.get('/outconns')
@needs('outconn.read')
def list_page() -> ResponseReturnValue:
    state = _list_args()
    size = min(PAGE_SIZE, MAX_LIMIT)
    records, total = current_store().outconn_page(
        transport=state['transport'], q=state['q'] or None,
        is_active={'true': True, 'false': False}.get(state['active']), sort=state['sort'],
        limit=size, offset=(state['page'] - 1) * size)
    pages = max(1, -(-total // size))
    return page('outconns/list.html', records=records, total=total, state=state, pages=pages,
                sortable=SORTABLE, list_url=list_url, transports=TRANSPORTS,
                back=request.full_path.rstrip('?'))


def _security_choices() -> list[str | None]:
    return [None, *(record.config.name for record in current_store().list_security())]


def _form(template_values: dict[str, Any], *, record: OutconnRecord | None, errors: FormErrors,
          status: int = 200, version: int | None = None) -> ResponseReturnValue:
    """The form; ``version`` is the one a form sent back was read at, which it keeps (not the record's
    now), so that a change saved meanwhile is still caught when the form is sent again."""
    choices = {'security': _security_choices()}
    fields = {field.name: field for field in form_fields(OutconnConfig, FIELDS, template_values, choices)}
    pings = current_store().recent_pings(record.id) if record is not None else []
    shown = sections(record.config.transport if record is not None else None)
    if record is not None and version is None:
        version = record.version
    return page('outconns/form.html', record=record, fields=fields, sections=shown, errors=errors.fields,
                general=errors.general, version=version,
                chart=latency_chart(pings), summary=ping_summary(pings), pings=pings[:10],
                writable=can('outconn.write')), status


def _errors(error: ConfigError, record: OutconnRecord | None) -> FormErrors:
    # Errors of settings the form has no input for (SOAP's, on a plain-HTTP connection) go on top.
    shown = {name for _, names in sections(record.config.transport if record else None) for name in names}
    return FormErrors.of(error, shown)


def _name_taken(transport: str) -> FormErrors:
    return FormErrors({'name': [f'is taken by another {transport} connection; choose another name']})


@pages_outconns.get('/outconns/new')
@needs('outconn.write')
def new_page() -> ResponseReturnValue:
    values: dict[str, Any] = {}
    source = whole_number(request.args.get('from'))
    if source is not None:
        # A duplicate: the source's settings under a new name.
        original = current_store().outconn_by_id(source)
        values = {**dict(original.config), 'name': f'Copy of {original.config.name}'}
    elif request.args.get('transport') in TRANSPORTS:
        values = {'transport': request.args['transport']}
    return _form(values, record=None, errors=FormErrors())


@pages_outconns.post('/outconns/new')
@needs('outconn.write')
def create() -> ResponseReturnValue:
    raw = posted(OutconnConfig, request.form, FIELDS)
    store = current_store()
    try:
        config = OutconnConfig.from_input(raw)
    except ConfigError as error:
        return _form(raw, record=None, errors=_errors(error, None), status=422)
    if store.outconn_name_taken(config.transport, config.name):
        return _form(raw, record=None, errors=_name_taken(config.transport), status=409)
    try:
        record = store.create_outconn(config)
    except ConfigError as error:
        # What only the store can tell: a security definition gone since the form was read, or one for
        # SOAP envelopes chosen for a plain-HTTP connection.
        return _form(raw, record=None, errors=_errors(error, None), status=422)
    flash(f'Created {record.config.name}.', 'ok')
    return redirect(url_for('.edit_page', outconn_id=record.id))


@pages_outconns.get(ONE)
@needs('outconn.read')
def edit_page(outconn_id: int) -> ResponseReturnValue:
    record = current_store().outconn_by_id(outconn_id)
    return _form(dict(record.config), record=record, errors=FormErrors())


@pages_outconns.post(ONE)
@needs('outconn.write')
def save(outconn_id: int) -> ResponseReturnValue:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    raw = posted(OutconnConfig, request.form, EDITABLE)
    shown = {**raw, 'transport': record.config.transport}
    expected = whole_number(request.form.get('version'))
    try:
        config = record.config.with_changes(raw)
    except ConfigError as error:
        return _form(shown, record=record, errors=_errors(error, record), status=422, version=expected)
    changes = {name: getattr(config, name) for name in EDITABLE if getattr(config, name) != getattr(record.config,
                                                                                                     name)}
    if not changes:
        flash('Nothing changed.', 'info')
        return redirect(url_for('.edit_page', outconn_id=outconn_id))
    if 'name' in changes and store.outconn_name_taken(config.transport, config.name):
        return _form(shown, record=record, errors=_name_taken(config.transport), status=409, version=expected)
    try:
        store.edit_outconn_by_id(outconn_id, changes, expected_version=expected)
    except ConfigError as error:
        return _form(shown, record=record, errors=_errors(error, record), status=422, version=expected)
    except Conflict:
        now = store.outconn_by_id(outconn_id)
        edited = f', you edited version {expected}' if expected is not None else ''
        flash(f'Not saved: someone else changed {now.config.name} since you opened it (it is at version '
              f'{now.version} now{edited}). Here it is as it is now; make your change again.', 'error')
        return redirect(url_for('.edit_page', outconn_id=outconn_id))
    flash(f'Saved {config.name}.', 'ok')
    return redirect(url_for('.edit_page', outconn_id=outconn_id))


@pages_outconns.post(f'{ONE}/delete')
@needs('outconn.write')
def delete(outconn_id: int) -> ResponseReturnValue:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    store.delete_outconn(record.config.transport, record.config.name)
    flash(f'Deleted {record.config.name}; its history stays.', 'ok')
    return redirect(f'/outconns?transport={record.config.transport}')


@pages_outconns.post(f'{ONE}/active')
@needs('outconn.write', 'outconn.activate')
def set_active(outconn_id: int) -> ResponseReturnValue:
    value = request.form.get('is_active')
    if value not in ('true', 'false'):
        abort(400, description='is_active must be true or false')
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    if record.config.is_active != (value == 'true'):
        store.edit_outconn_by_id(outconn_id, {'is_active': value == 'true'})
    flash(f'{record.config.name} is {"active" if value == "true" else "inactive"} now.', 'ok')
    return redirect(local_path(request.form.get('back')))
