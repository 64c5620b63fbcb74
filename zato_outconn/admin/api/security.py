"""``/api/v1/security``: security definitions; secrets are write-only, answers only say whether each is set."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import url_for
from flask.wrappers import Response

from zato_outconn.admin.answers import csv_answer, json_answer, wants_csv
from zato_outconn.admin.api.versions import edit_as_of, etag
from zato_outconn.admin.auth import current_store, needs
from zato_outconn.admin.problems import problem
from zato_outconn.admin.schemas import (
    ListFormat,
    SecretIn,
    SecurityItem,
    SecurityList,
    SecurityPatch,
    one_secret,
)
from zato_outconn.admin.tabular import csv_text
from zato_outconn.config import SecurityConfig
from zato_outconn.config.base import ConfigModel
from zato_outconn.exceptions import ConfigError
from zato_outconn.store import SecurityRecord

security = APIBlueprint('api_security', __name__, url_prefix='/api/v1/security', tag='Security definitions')

ITEM_COLUMNS = ('id', *SecurityItem.model_fields)


def _item(record: SecurityRecord, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_answer(record.as_dict(), status, {'ETag': etag(record.version), **(headers or {})})


def _name_taken(name: str) -> Response:
    return problem(409, f'A security definition named {name!r} already exists; choose another name')


@security.get('')
@needs(security, 'security.read')
@security.input(ListFormat, location='query', arg_name='query')
@security.output(SecurityList, description='Every definition; CSV for Accept: text/csv or ?format=csv')
@security.doc(summary='List security definitions')
def list_security(query: ListFormat) -> Response:
    items = [record.as_dict() for record in current_store().list_security()]
    if wants_csv():
        return csv_answer(csv_text(ITEM_COLUMNS, items), 'security.csv')
    return json_answer(items)


@security.post('')
@needs(security, 'security.write')
@security.input(SecurityConfig, arg_name='config')
@security.output(SecurityItem, status_code=201, description='Created; Location says where it is')
@security.doc(summary='Create a security definition', description='secret and key_password are written, never '
                                                                  'shown again.',
              responses={409: 'A definition of this name exists'})
def create_security(config: SecurityConfig) -> Response:
    store = current_store()
    if store.security_name_taken(config.name):
        return _name_taken(config.name)
    record = store.create_security(config)
    return _item(record, 201, {'Location': url_for('.get_security', security_id=record.id)})


@security.get('/<row_id:security_id>')
@needs(security, 'security.read')
@security.output(SecurityItem, description='The definition; ETag is its version')
@security.doc(summary='Get a security definition')
def get_security(security_id: int) -> Response:
    return _item(current_store().security_by_id(security_id))


@security.patch('/<row_id:security_id>')
@needs(security, 'security.write')
@security.input(SecurityPatch, arg_name='patch')
@security.output(SecurityItem, description='The definition as changed')
@security.doc(summary='Change some settings of a security definition',
              description='Secrets are changed with PUT /api/v1/security/<id>/secret only. With If-Match: '
                          '"<version>", a definition changed since that version is left as it is, with 412.',
              responses={409: 'The new name is taken', 412: 'The definition is no longer at the version of If-Match'})
def edit_security(security_id: int, patch: ConfigModel) -> Response:
    store = current_store()
    record = store.security_by_id(security_id)
    changes = {key: getattr(patch, key) for key in patch.model_fields_set}
    name = changes.get('name')
    if isinstance(name, str) and name != record.config.name and store.security_name_taken(name):
        return _name_taken(name)
    edited = edit_as_of('The definition', record.version, lambda expected: store.edit_security_by_id(
        security_id, changes, expected_version=expected) if changes else record,
        lambda: store.security_by_id(security_id).version)
    return edited if isinstance(edited, Response) else _item(edited)


@security.delete('/<row_id:security_id>')
@needs(security, 'security.write')
@security.output({}, status_code=204, description='Deleted')
@security.doc(summary='Delete a security definition', responses={409: 'Connections use it'})
def delete_security(security_id: int) -> Response:
    store = current_store()
    store.delete_security(store.security_by_id(security_id).config.name)
    return Response(status=204)


@security.put('/<row_id:security_id>/secret')
@needs(security, 'security.write')
@security.input(SecretIn, arg_name='secret')
@security.output({}, status_code=204, description='The secret is set')
@security.doc(summary="Set a definition's secret",
              description='{"secret": "..."} sets the password, key, token or private key; {"key_password": '
                          '"..."} the password of an encrypted private key (mtls). An mtls private key takes '
                          'its key_password and its client_cert in the same body, all checked together: a key '
                          'renewed with its certificate, or an encrypted key, is set so. A new key without '
                          'key_password has none; without client_cert, the stored certificate stays.')
def set_secret(security_id: int, secret: SecretIn) -> Response:
    given = {key: getattr(secret, key) for key in secret.model_fields_set if getattr(secret, key) is not None}
    store = current_store()
    record = store.security_by_id(security_id)
    if 'client_cert' in record.config.kind.settings:
        if 'secret' in given:
            # As the security page's key form: the key stored with the password and certificate beside it.
            store.edit_security_by_id(security_id, {'key_password': None, **given})
            return Response(status=204)
        if 'client_cert' in given:
            raise ConfigError('client_cert', 'is set here only with the private key it belongs to (secret); to '
                                             'change the certificate alone, PATCH the definition')
    setting, value = one_secret(given)
    store.set_secret(record.config.name, value, setting=setting)
    return Response(status=204)
