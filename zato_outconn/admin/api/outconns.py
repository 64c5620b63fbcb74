"""``/api/v1/outconns``: connection templates, their ping, history and rollback."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import request, url_for
from flask.wrappers import Response

from zato_outconn.admin.answers import csv_answer, json_answer, wants_csv
from zato_outconn.admin.api.versions import edit_as_of, etag
from zato_outconn.admin.auth import current_principal, current_store, needs
from zato_outconn.admin.pinging import ping_saved
from zato_outconn.admin.problems import invalid, problem
from zato_outconn.admin.schemas import (
    HistoryList,
    OutconnItem,
    OutconnPage,
    OutconnPatch,
    OutconnQuery,
    Ping,
    Rollback,
)
from zato_outconn.admin.tabular import csv_text
from zato_outconn.config import OutconnConfig
from zato_outconn.config.base import ConfigModel
from zato_outconn.store import OutconnRecord

outconns = APIBlueprint('api_outconns', __name__, url_prefix='/api/v1/outconns', tag='Connections')


ONE = '/<row_id:outconn_id>'

ITEM_COLUMNS = ('id', *OutconnConfig.model_fields, 'version', 'created_at', 'updated_at')


def _item(record: OutconnRecord, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_answer(record.as_dict(), status, {'ETag': etag(record.version), **(headers or {})})


def _name_taken(transport: str, name: str) -> Response:
    return problem(409, f'A {transport} connection named {name!r} already exists; choose another name')


@outconns.get('')
@needs(outconns, 'outconn.read')
@outconns.input(OutconnQuery, location='query', arg_name='query')
@outconns.output(OutconnPage, description='One page of the connections that match, and how many match')
@outconns.doc(summary='List connections', description='Filtered, sorted and paged; CSV for Accept: text/csv '
                                                      'or ?format=csv.')
def list_outconns(query: OutconnQuery) -> Response:
    records, total = current_store().outconn_page(
        transport=query.transport, q=query.q, is_active=query.is_active, security=query.security, sort=query.sort,
        limit=query.limit, offset=query.offset)
    items = [record.as_dict() for record in records]
    if wants_csv():
        return csv_answer(csv_text(ITEM_COLUMNS, items), 'outconns.csv')
    return json_answer({'items': items, 'total': total, 'limit': query.limit, 'offset': query.offset})


@outconns.post('')
@needs(outconns, 'outconn.write')
@outconns.input(OutconnConfig, arg_name='config')
@outconns.output(OutconnItem, status_code=201, description='Created; Location says where it is')
@outconns.doc(summary='Create a connection', responses={409: 'A connection of this transport and name exists'})
def create_outconn(config: OutconnConfig) -> Response:
    store = current_store()
    if store.outconn_name_taken(config.transport, config.name):
        return _name_taken(config.transport, config.name)
    record = store.create_outconn(config)
    return _item(record, 201, {'Location': url_for('.get_outconn', outconn_id=record.id)})


@outconns.get(ONE)
@needs(outconns, 'outconn.read')
@outconns.output(OutconnItem, description='The connection; ETag is its version')
@outconns.doc(summary='Get a connection')
def get_outconn(outconn_id: int) -> Response:
    return _item(current_store().outconn_by_id(outconn_id))


@outconns.patch(ONE)
@needs(outconns, 'outconn.write', 'outconn.activate')
@outconns.input(OutconnPatch, arg_name='patch')
@outconns.output(OutconnItem, description='The connection as changed')
@outconns.doc(summary='Change some settings of a connection',
              description='Operators may change is_active only. With If-Match: "<version>", a connection changed '
                          'since that version is left as it is, with 412.',
              responses={403: 'The role may not change these settings', 409: 'The new name is taken',
                         412: 'The connection is no longer at the version of If-Match'})
def edit_outconn(outconn_id: int, patch: ConfigModel) -> Response:
    changes = {key: getattr(patch, key) for key in patch.model_fields_set}
    if not current_principal().can('outconn.write') and set(changes) - {'is_active'}:
        return problem(403, 'Operators may only activate and deactivate connections (is_active); '
                            f'not change {", ".join(sorted(set(changes) - {"is_active"}))}')
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    name = changes.get('name')
    if isinstance(name, str) and name != record.config.name and store.outconn_name_taken(record.config.transport, name):
        return _name_taken(record.config.transport, name)
    edited = edit_as_of('The connection', record.version, lambda expected: store.edit_outconn_by_id(
        outconn_id, changes, expected_version=expected) if changes else record,
        lambda: store.outconn_by_id(outconn_id).version)
    return edited if isinstance(edited, Response) else _item(edited)


@outconns.delete(ONE)
@needs(outconns, 'outconn.write')
@outconns.output({}, status_code=204, description='Deleted')
@outconns.doc(summary='Delete a connection')
def delete_outconn(outconn_id: int) -> Response:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    store.delete_outconn(record.config.transport, record.config.name)
    return Response(status=204)


@outconns.post(f'{ONE}/ping')
@needs(outconns, 'outconn.ping')
@outconns.output(Ping, description='How the remote end answered; ok is false, with error saying why, '
                                   'when it did not')
@outconns.doc(summary='Ping a connection',
              description='Sends the ping method once to the saved address with the saved security; the request '
                          'takes no body. Each ping is recorded (who, when, result); each user may send only so '
                          'many a minute.',
              responses={422: 'A body was sent', 429: 'Too many pings by this user; Retry-After says when to '
                                                       'try again'})
def ping_outconn(outconn_id: int) -> Response:
    if request.get_data():
        return invalid([('body', 'a ping takes no body: it calls the saved connection at its saved address, '
                                 'with its saved security')])
    return ping_saved(current_store().outconn_by_id(outconn_id), current_principal().actor)


@outconns.get(f'{ONE}/history')
@needs(outconns, 'outconn.read')
@outconns.output(HistoryList, description='Every version, oldest first')
@outconns.doc(summary='History of a connection', description='Kept after the connection is deleted.')
def outconn_history(outconn_id: int) -> Response:
    return json_answer([record.as_dict() for record in current_store().history('outconn', outconn_id)])


@outconns.post(f'{ONE}/rollback')
@needs(outconns, 'outconn.write')
@outconns.input(Rollback, arg_name='rollback')
@outconns.output(OutconnItem, description='The new version, with the settings of the one asked for')
@outconns.doc(summary='Roll a connection back to the settings of a version')
def rollback_outconn(outconn_id: int, rollback: Rollback) -> Response:
    store = current_store()
    record = store.outconn_by_id(outconn_id)
    return _item(store.rollback_outconn(record.config.transport, record.config.name, rollback.version))
