"""The security pages: definitions listed, created and edited in forms made from SecurityConfig (see
``security_form``), secrets set in a form of their own and never shown, definitions deleted once no
connection uses them.

Every form posts to the store as the API does; what the store refuses is shown beside its field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from zato_outconn.admin.auth import current_store
from zato_outconn.admin.pages.form_errors import FormErrors
from zato_outconn.admin.pages.security_form import (
    initial_values,
    inputs,
    key_companions,
    posted,
    record_values,
    secret_inputs,
    security_type,
    shown_again,
)
from zato_outconn.admin.pages.view import needs, page, whole_number
from zato_outconn.admin.schemas import one_secret
from zato_outconn.config import SEC_TYPES, SECURITY_TYPES, SecurityConfig, SecurityType
from zato_outconn.exceptions import ConfigError, Conflict, InUse, NotFound
from zato_outconn.store import SecurityRecord

pages_security = Blueprint('pages_security', __name__)

# A definition's pages; an id past what the databases hold is a 404 like any other that is not there.
ONE = '/security/<row_id:security_id>'
# What a new definition's form shows before a type is chosen.
FIRST_TYPE = SEC_TYPES[0]


@pages_security.get('/security')
@needs('security.read')
def list_security() -> ResponseReturnValue:
    return page('security/list.html', records=current_store().list_security())


@pages_security.get('/security/new')
@needs('security.write')
def new_security() -> ResponseReturnValue:
    kind = security_type(request.args.get('sec_type')) or SECURITY_TYPES[FIRST_TYPE]
    return _new_page(kind, initial_values(kind), FormErrors())


@pages_security.post('/security')
@needs('security.write')
def create_security() -> ResponseReturnValue:
    kind = security_type(request.form.get('sec_type'))
    if kind is None:
        kind = SECURITY_TYPES[FIRST_TYPE]
        return _new_page(kind, initial_values(kind), FormErrors.one(f'sec_type must be one of {", ".join(SEC_TYPES)}'),
                         422)
    shown = inputs(kind, editing=False)
    values = posted(request.form, shown)
    try:
        record = current_store().create_security(SecurityConfig.from_input({**values, 'sec_type': kind.name}))
    except ConfigError as error:
        return _new_page(kind, shown_again(values), FormErrors.of(error, [item.name for item in shown]), 422)
    flash(f'Created security definition {record.config.name!r}', 'info')
    return redirect(url_for('.show_security', security_id=record.id), 303)


@pages_security.get(ONE)
@needs('security.read')
def show_security(security_id: int) -> ResponseReturnValue:
    record = _record(security_id)
    return _show_page(record, record_values(record))


@pages_security.post(ONE)
@needs('security.write')
def edit_security(security_id: int) -> ResponseReturnValue:
    record = _record(security_id)
    shown = inputs(record.config.kind, editing=True)
    values = posted(request.form, shown)
    # The version the form was made from: an edit of a definition changed since then is refused.
    expected = whole_number(request.form.get('version'))
    try:
        edited = current_store().edit_security_by_id(security_id, values, expected_version=expected)
    except ConfigError as error:
        return _show_page(record, shown_again(values), errors=FormErrors.of(error, [item.name for item in shown]),
                          status=422)
    except Conflict:
        fresh = _record(security_id)
        return _show_page(fresh, shown_again(values), errors=FormErrors.one(
            f'The definition was changed by someone else since you opened it (it is at version {fresh.version} '
            'now); check the settings below and save again'), status=409)
    flash(f'Saved security definition {edited.config.name!r}', 'info')
    return redirect(url_for('.show_security', security_id=security_id), 303)


@pages_security.post(f'{ONE}/secret')
@needs('security.write')
def set_secret(security_id: int) -> ResponseReturnValue:
    record = _record(security_id)
    settings = [item.name for item in secret_inputs(record.config.kind)]
    companions = [item.name for item in key_companions(record.config.kind)]
    try:
        if companions and 'secret' in request.form:
            # The private key's form: the key is stored with the password and certificate given
            # beside it (a certificate left empty stays), all checked together.
            setting, value = 'secret', request.form['secret']
            if not value.strip():
                raise ConfigError('secret', f'must not be empty; paste the new {record.config.kind.secret_name}')
            changes = {'secret': value, **{name: request.form.get(name, '') for name in companions}}
            current_store().edit_security_by_id(security_id, changes)
        else:
            # Each other Set secret form posts one input, named after the setting it sets.
            setting, value = one_secret({name: request.form[name] for name in settings if name in request.form},
                                        settings)
            current_store().set_secret(record.config.name, value, setting=setting)
    except ConfigError as error:
        return _show_page(record, record_values(record), secret_errors=FormErrors.of(error, settings + companions),
                          status=422)
    flash('Secret set' if setting == 'secret' else f'{setting} set', 'info')
    return redirect(url_for('.show_security', security_id=security_id), 303)


@pages_security.post(f'{ONE}/delete')
@needs('security.write')
def delete_security(security_id: int) -> ResponseReturnValue:
    record = _record(security_id)
    try:
        current_store().delete_security(record.config.name)
    except InUse as error:
        fresh = _record(security_id)
        return _show_page(fresh, record_values(fresh), delete_error=str(error), status=409)
    flash(f'Deleted security definition {record.config.name!r}', 'info')
    return redirect(url_for('.list_security'), 303)


def _record(security_id: int) -> SecurityRecord:
    try:
        return current_store().security_by_id(security_id)
    except NotFound:
        abort(404, description=f'No security definition has the id {security_id}; it may have been deleted.')


def _new_page(kind: SecurityType, values: dict[str, Any], errors: FormErrors, status: int = 200) -> ResponseReturnValue:
    return page('security/new.html', kind=kind, sec_types=SEC_TYPES, inputs=inputs(kind, editing=False),
                values=values, errors=errors), status


def _show_page(record: SecurityRecord, values: dict[str, Any], *, errors: FormErrors | None = None,
               secret_errors: FormErrors | None = None, delete_error: str | None = None,
               status: int = 200) -> ResponseReturnValue:
    kind = record.config.kind
    return page('security/show.html', record=record, kind=kind, view=record.config,
                inputs=inputs(kind, editing=True), secret_inputs=secret_inputs(kind),
                key_companions=key_companions(kind), values=values,
                errors=errors or FormErrors(), secret_errors=secret_errors or FormErrors(),
                delete_error=delete_error), status
