"""Who is asking, and what they may do: API tokens, signed-in sessions, and the permission check.

Every API route names the permission code it needs (``config.roles``). A request is made either
with an API token (``Authorization: Bearer <token>``) or from a session a person signed in to with
Flask-Login; a session's changes must carry its CSRF token (``X-CSRFToken``), a token's need none,
as no browser sends one by itself. Changes are recorded in history as made by ``admin:<user>`` or
``token:<name>``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from apiflask import APIBlueprint, HTTPTokenAuth
from flask import current_app, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from zato_outconn.config.roles import ROLES
from zato_outconn.exceptions import NotFound
from zato_outconn.store import Store, UserRecord

STORE_KEY = 'zato_outconn.store'
_SAFE_METHODS = frozenset({'GET', 'HEAD', 'OPTIONS'})

View = TypeVar('View', bound=Callable[..., Any])



class TokenOrSessionAuth(HTTPTokenAuth):
    """Bearer tokens, and, for requests without one, the signed-in session."""

    def authenticate(self, auth: Any, stored_password: Any) -> Any:
        # Flask-HTTPAuth asks verify_token only when a token came; a session must be asked about too.
        return _verify(getattr(auth, 'token', None) or '')


login_manager = LoginManager()
csrf = CSRFProtect()
token_auth = TokenOrSessionAuth(scheme='Bearer', security_scheme_name='bearer',
                                description='An API token from zato-outconn tokens create, or a signed-in session.')


@dataclass(frozen=True)
class Principal:
    """A user signed in, or an API token: its name, its role, and what history calls it."""

    kind: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f'{"admin" if self.kind == "user" else "token"}:{self.name}'

    @property
    def permissions(self) -> frozenset[str]:
        return ROLES.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        return permission in self.permissions


class SessionUser(UserMixin):
    """The user of a session. Its id carries the user's session epoch, which the store counts up at
    logout and at a new password or role: every session signed in before then, and every copy of its
    cookie, no longer loads a user (Flask-Login's alternative token, kept in the database)."""

    def __init__(self, record: UserRecord) -> None:
        self.record = record

    def get_id(self) -> str:
        return f'{self.record.session_epoch} {self.record.name}'


def current_store() -> Store:
    store: Store = current_app.extensions[STORE_KEY]
    return store


def current_principal() -> Principal:
    principal = token_auth.current_user
    assert isinstance(principal, Principal), 'current_principal() outside a route that needs a permission'
    return principal


@login_manager.user_loader
def _load_session_user(session_id: str) -> SessionUser | None:
    epoch, _, name = session_id.partition(' ')
    try:
        record = current_store().get_user(name)
    except NotFound:
        return None
    # Compared as text: a session id of an older form, or one not a number, simply matches no epoch.
    return SessionUser(record) if str(record.session_epoch) == epoch else None


def _verify(token: str) -> Principal | None:
    if token:
        record = current_store().check_token(token)
        return Principal('token', record.name, record.role) if record is not None else None
    if current_user.is_authenticated:
        if request.method not in _SAFE_METHODS:
            # A page's script sends the session cookie by itself, so its changes must prove their origin.
            csrf.protect()
        record = current_user.record
        return Principal('user', record.name, record.role)
    return None


@token_auth.get_user_roles
def _permissions(principal: Principal) -> list[str]:
    return sorted(principal.permissions)


def needs(blueprint: APIBlueprint, *permissions: str) -> Callable[[View], View]:
    """A route that needs one of these permission codes; what it changes is recorded as the caller's."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def acting(*args: Any, **kwargs: Any) -> Any:
            with current_store().acting_as(current_principal().actor):
                return view(*args, **kwargs)

        return cast(View, blueprint.auth_required(token_auth, roles=list(permissions))(acting))

    return decorate
