"""Signing in and out: ``/login``, ``/logout``, and ``/`` sending to the connections.

Sign-ins are throttled in the database (store.logins), so that every worker counts the same
failures: after ``LOGIN_MAX_FAILURES`` failures for a user name or from a client address within
``LOGIN_WINDOW`` seconds (ZATO_OUTCONN_LOGIN_MAX_FAILURES, ZATO_OUTCONN_LOGIN_WINDOW), sign-ins for
it are refused until the oldest of them is that old. The answer is the same whether the user exists
or not; a sign-in that succeeds clears the user's count.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from zato_outconn.admin.auth import SessionUser, current_store
from zato_outconn.admin.pages.view import HOME, local_path, page, signed_in
from zato_outconn.store.logins import DEFAULT_MAX_FAILURES, DEFAULT_WINDOW, Lockout

pages_auth = Blueprint('pages_auth', __name__)



def _throttle() -> tuple[int, float]:
    config = current_app.config
    return (int(config.get('LOGIN_MAX_FAILURES', DEFAULT_MAX_FAILURES)),
            float(config.get('LOGIN_WINDOW', DEFAULT_WINDOW)))


def lockout_message(lockout: Lockout) -> str:
    minutes = max(1, math.ceil(lockout.seconds / 60))
    whom = 'for this user' if lockout.kind == 'user' else 'from this address'
    return f'Too many failed sign-ins {whom}; try again in {minutes} minute{"s" if minutes != 1 else ""}.'


@pages_auth.get('/')
def home() -> ResponseReturnValue:
    return redirect(HOME)


@pages_auth.route('/login', methods=['GET', 'POST'])
def login() -> ResponseReturnValue:
    target = local_path(request.values.get('next'))
    if request.method == 'GET':
        if signed_in() is not None:
            return redirect(target)
        return page('login.html', name='', error=None, next=target)
    name = request.form.get('name', '').strip()
    password = request.form.get('password', '')
    address = request.remote_addr or 'unknown'
    store = current_store()
    limit, window = _throttle()
    lockout = store.login_lockout(name, address, limit, window)
    if lockout is not None:
        return page('login.html', name=name, error=lockout_message(lockout), next=target), 429
    record = store.check_password(name, password) if name and password else None
    if record is None:
        store.record_failed_login(name, address, window)
        return page('login.html', name=name, error='The user name or password is wrong.', next=target), 401
    store.clear_failed_logins(name)
    login_user(SessionUser(record))
    return redirect(target)


@pages_auth.post('/logout')
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for('pages_auth.login'))
