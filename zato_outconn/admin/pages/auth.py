"""Signing in and out: ``/login``, ``/logout``, and ``/`` sending to the connections.

Sign-ins are throttled in the database (store.logins), so that every worker counts the same
failures: after ``LOGIN_MAX_FAILURES`` failures for a user name or from a client address within
``LOGIN_WINDOW`` seconds (ZATO_OUTCONN_LOGIN_MAX_FAILURES, ZATO_OUTCONN_LOGIN_WINDOW), sign-ins for
it are refused until the oldest of them is that old. The answer is the same whether the user exists
or not; a sign-in that succeeds clears the user's count.

The client address is the connection's own (``request.remote_addr``): no X-Forwarded-For or other
header a client can write is believed, unless ``ZATO_OUTCONN_PROXY_HOPS`` says how many reverse
proxies stand in front (admin.app): then the address the first of them was reached from is. An
IPv6 client is counted by its /64 network.
"""

from __future__ import annotations

import ipaddress
import math

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from zato_outconn.admin.auth import SessionUser, current_store
from zato_outconn.admin.pages.view import HOME, local_path, page, signed_in
from zato_outconn.store.logins import DEFAULT_MAX_FAILURES, DEFAULT_WINDOW, Lockout

pages_auth = Blueprint('pages_auth', __name__)



def _throttle() -> tuple[int, float]:
    config = current_app.config
    return (int(config.get('LOGIN_MAX_FAILURES', DEFAULT_MAX_FAILURES)),
            float(config.get('LOGIN_WINDOW', DEFAULT_WINDOW)))


def client_key(address: str | None) -> str:
    """What a client's failed sign-ins are counted against: its IPv4 address, or its IPv6 /64 network,
    since one host commonly holds a whole /64 and may pick a new address in it for every guess."""
    try:
        ip = ipaddress.ip_address(address or '')
    except ValueError:
        return address or 'unknown'
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


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
    address = client_key(request.remote_addr)
    store = current_store()
    limit, window = _throttle()
    # Counted as a failure before the password is checked, so that guesses sent at once cannot each
    # find the count below the limit (store.logins).
    pending = store.start_login(name, address, limit, window)
    if isinstance(pending, Lockout):
        return page('login.html', name=name, error=lockout_message(pending), next=target), 429
    record = store.check_password(name, password) if name and password else None
    if record is None:
        return page('login.html', name=name, error='The user name or password is wrong.', next=target), 401
    store.login_succeeded(pending)
    # A new session: nothing of the one before carries over, above all not its CSRF token, which whoever
    # planted that session's cookie would know.
    session.clear()
    # A permanent session's cookie carries its expiry and is signed again at each request, so that
    # PERMANENT_SESSION_LIFETIME is how long a session may sit idle.
    session.permanent = True
    login_user(SessionUser(record))
    return redirect(target)


@pages_auth.post('/logout')
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        # The cookie lives on wherever it was copied to; only the store can tell it is over.
        current_store().end_sessions(current_user.record.name)
    session.clear()
    logout_user()
    return redirect(url_for('pages_auth.login'))
