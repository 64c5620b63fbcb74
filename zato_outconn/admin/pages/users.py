"""The users pages, for admins: who may sign in (create, set password or role, delete) and the API
tokens scripts use (create, shown once; revoke).

A password is only ever an input of a form and never shown; a new token is shown once, on the answer
to the form that made it, which no cache keeps. The store refuses what would leave no admin; the page
refuses deleting yourself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user
from werkzeug.wrappers import Response

from zato_outconn.admin.auth import Principal, SessionUser, current_store
from zato_outconn.admin.pages.form_errors import FormErrors
from zato_outconn.admin.pages.view import HOME, needs, page, signed_in, whole_number
from zato_outconn.config.checks import check_choice, check_int, check_name
from zato_outconn.config.roles import ROLE_NAMES, ROLES
from zato_outconn.exceptions import ConfigError, NotFound
from zato_outconn.store.tokens import MAX_EXPIRES_DAYS
from zato_outconn.store.users import MIN_PASSWORD_LENGTH, check_new_password

pages_users = Blueprint('pages_users', __name__)

# What each role may do, as the role select's help says it.
ROLE_HELP = '; '.join(f'{role}: {", ".join(sorted(ROLES[role]))}' for role in ROLE_NAMES)
HELP = {
    'name': 'Unique; no leading or trailing spaces.',
    'role': ROLE_HELP,
    'password': f'At least {MIN_PASSWORD_LENGTH} characters, not the user name.',
    'password_again': 'The same password once more.',
    'user': "Whose password to set. Their sessions end; yours goes on if it is your own.",
    'expires_days': f'Days until it expires, 1 to {MAX_EXPIRES_DAYS}; left empty, it never does.',
}
# A new user's inputs, a password change's, and a new token's.
USER_INPUTS = ('name', 'role', 'password', 'password_again')
PASSWORD_INPUTS = ('name', 'password', 'password_again')
TOKEN_INPUTS = ('name', 'role', 'expires_days')


@pages_users.get('/users')
@needs('users.manage')
def list_users() -> ResponseReturnValue:
    return _users_page()


@pages_users.post('/users')
@needs('users.manage')
def create_user() -> ResponseReturnValue:
    form = request.form
    name, role = form.get('name', ''), form.get('role', '')
    errors = _checked(USER_INPUTS, *_principal_checks(name, role), *_password_checks(name))
    if not errors:
        try:
            current_store().create_user(name, role, form['password'])
        except ConfigError as error:
            errors = FormErrors.of(error, USER_INPUTS)
    if errors:
        return _users_page(errors=errors, values={'name': name, 'role': role}, status=422)
    flash(f'Created user {name!r} ({role})', 'info')
    return redirect(url_for('.list_users'), 303)


@pages_users.post('/users/password')
@needs('users.manage')
def set_password() -> ResponseReturnValue:
    name = request.form.get('name', '')
    errors = _checked(PASSWORD_INPUTS, *_password_checks(name))
    if not errors:
        try:
            record = current_store().set_user_password(name, request.form['password'])
        except NotFound:
            errors = FormErrors()
            errors.add('name', 'is not a user here; choose one from the list', PASSWORD_INPUTS)
        except ConfigError as error:
            errors = FormErrors.of(error, PASSWORD_INPUTS)
        else:
            if _is_me(name):
                # A new password ends every session signed in before it; this one goes on as the user.
                login_user(SessionUser(record))
    if errors:
        return _users_page(password_errors=errors, password_values={'name': name}, status=422)
    flash(f'Set the password of {name!r}', 'info')
    return redirect(url_for('.list_users'), 303)


@pages_users.post('/users/role')
@needs('users.manage')
def set_role() -> ResponseReturnValue:
    name, role = request.form.get('name', ''), request.form.get('role', '')
    try:
        record = current_store().set_user_role(name, role)
    except NotFound as missing:
        return _users_page(general=str(missing), status=404)
    except ConfigError as error:
        return _users_page(general=error.rule if error.field == 'role' else str(error), status=422)
    flash(f'{name!r} now has the role {record.role}', 'info')
    if _is_me(name):
        login_user(SessionUser(record))
        if not Principal('user', record.name, record.role).can('users.manage'):
            # The users page is no longer yours to see.
            return redirect(HOME, 303)
    return redirect(url_for('.list_users'), 303)


@pages_users.post('/users/delete')
@needs('users.manage')
def delete_user() -> ResponseReturnValue:
    name = request.form.get('name', '')
    if _is_me(name):
        return _users_page(general='You cannot delete yourself; another admin can.', status=409)
    try:
        current_store().delete_user(name)
    except NotFound as missing:
        return _users_page(general=str(missing), status=404)
    except ConfigError as error:
        return _users_page(general=error.rule, status=409)
    flash(f'Deleted user {name!r}', 'info')
    return redirect(url_for('.list_users'), 303)


@pages_users.get('/users/tokens')
@needs('users.manage')
def list_tokens() -> ResponseReturnValue:
    return _tokens_page()


@pages_users.post('/users/tokens')
@needs('users.manage')
def create_token() -> ResponseReturnValue:
    form = request.form
    name, role, days = form.get('name', ''), form.get('role', ''), form.get('expires_days', '').strip()
    expires_days: list[int | None] = [None]

    def check_days() -> None:
        if days:
            number = whole_number(days)
            if number is None:
                raise ConfigError('expires_days', f'must be a whole number from 1 to {MAX_EXPIRES_DAYS}')
            expires_days[0] = check_int('expires_days', number, 1, MAX_EXPIRES_DAYS)

    errors = _checked(TOKEN_INPUTS, *_principal_checks(name, role), check_days)
    if not errors:
        try:
            record, token = current_store().create_token(name, role, expires_days[0])
        except ConfigError as error:
            errors = FormErrors.of(error, TOKEN_INPUTS)
    if errors:
        return _tokens_page(errors=errors, values={'name': name, 'role': role, 'expires_days': days}, status=422)
    answer = Response(page('users/tokens.html', **_tokens_context(new_token=token, new_record=record)), 201,
                      mimetype='text/html')
    # The token is in this answer only: no cache may keep it.
    answer.headers['Cache-Control'] = 'no-store'
    return answer


@pages_users.post('/users/tokens/revoke')
@needs('users.manage')
def revoke_token() -> ResponseReturnValue:
    name = request.form.get('name', '')
    try:
        current_store().revoke_token(name)
    except NotFound as missing:
        return _tokens_page(general=str(missing), status=404)
    flash(f'Revoked API token {name!r}', 'info')
    return redirect(url_for('.list_tokens'), 303)


def _checked(shown: tuple[str, ...], *checks: Callable[[], Any]) -> FormErrors:
    """Every check run, so that each bad input is named at once."""
    errors = FormErrors()
    for check in checks:
        try:
            check()
        except ConfigError as error:
            for field, rule in error.errors:
                errors.add(field, rule, shown)
    return errors


def _principal_checks(name: str, role: str) -> tuple[Callable[[], Any], ...]:
    # store.users.check_principal's checks, each on its own so that both inputs are named at once.
    return lambda: check_name('name', name), lambda: check_choice('role', role, ROLE_NAMES)


def _password_checks(name: str) -> tuple[Callable[[], Any], ...]:
    password, again = request.form.get('password', ''), request.form.get('password_again', '')

    def same() -> None:
        if password != again:
            raise ConfigError('password_again', 'is not the same as password; type the same password twice')

    return lambda: check_new_password(name, password), same


def _is_me(name: str) -> bool:
    principal = signed_in()
    return principal is not None and principal.name == name


def _users_page(*, errors: FormErrors | None = None, values: dict[str, str] | None = None,
                password_errors: FormErrors | None = None, password_values: dict[str, str] | None = None,
                general: str | None = None, status: int = 200) -> ResponseReturnValue:
    principal = signed_in()
    return page('users/users.html', users=current_store().list_users(), me=principal.name if principal else None,
                roles=ROLE_NAMES, help=HELP, errors=errors or FormErrors(), values=values or {'role': 'viewer'},
                password_errors=password_errors or FormErrors(), password_values=password_values or {},
                general=general), status


def _tokens_context(**context: Any) -> dict[str, Any]:
    return {'tokens': current_store().list_tokens(), 'roles': ROLE_NAMES, 'help': HELP, 'errors': FormErrors(),
            'values': {'role': 'viewer'}, 'general': None, 'new_token': None, 'new_record': None, **context}


def _tokens_page(*, status: int = 200, **context: Any) -> ResponseReturnValue:
    return page('users/tokens.html', **_tokens_context(**context)), status
