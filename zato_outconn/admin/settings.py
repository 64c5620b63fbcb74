"""The admin's settings: defaults, then ``ZATO_OUTCONN_*`` environment variables, then the caller's.

``ZATO_OUTCONN_ADMIN_SECRET_KEY`` signs sessions and CSRF tokens; there is no fallback for it, so
that no two servers ever share a key nobody chose. ``zato-outconn serve`` makes one of its own only
on the embedded SQLite default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zato_outconn.exceptions import ConfigError
from zato_outconn.store.transfer import DEFAULT_MAX_IMPORT, MAX_IMPORT_ENV

PREFIX = 'ZATO_OUTCONN'
SECRET_KEY_ENV = f'{PREFIX}_ADMIN_SECRET_KEY'
JSON_CASE_ENV = f'{PREFIX}_JSON_CASE'
JSON_PRETTY_ENV = f'{PREFIX}_JSON_PRETTY'
PING_LIMIT_ENV = f'{PREFIX}_PING_LIMIT'
MAX_REQUEST_ENV = f'{PREFIX}_MAX_REQUEST_BYTES'
PROXY_HOPS_ENV = f'{PREFIX}_PROXY_HOPS'

# The largest body a request may have but an import's (MAX_IMPORT_BYTES): every form and API body
# is far smaller, and anything larger, sent by anyone, even signed out, is refused before it is read.
DEFAULT_MAX_REQUEST = 1024 * 1024
# The smallest cap that still lets the sign-in form and every page's form through.
MIN_MAX_REQUEST = 1024

# Pings one user may send in a minute; a ping is a request the server sends where an operator says.
DEFAULT_PING_LIMIT = 30
PING_WINDOW = 60.0

DEFAULTS: dict[str, Any] = {
    'JSON_CASE': 'snake',
    'JSON_PRETTY': False,
    'MAX_IMPORT_BYTES': DEFAULT_MAX_IMPORT,
    'MAX_REQUEST_BYTES': DEFAULT_MAX_REQUEST,
    'PING_LIMIT': DEFAULT_PING_LIMIT,
    # Reverse proxies in front of the admin, each adding the address it was reached from to
    # X-Forwarded-For; none by default, when no client-written header is believed.
    'PROXY_HOPS': 0,
    'SESSION_COOKIE_HTTPONLY': True,
    'SESSION_COOKIE_SAMESITE': 'Lax',
    'REMEMBER_COOKIE_HTTPONLY': True,
    'REMEMBER_COOKIE_SAMESITE': 'Lax',
    # The CSRF token lives as long as the session: a page left open for hours still works.
    'WTF_CSRF_TIME_LIMIT': None,
    # A session idle this long ends: each request signs its cookie again (sessions are permanent).
    'PERMANENT_SESSION_LIFETIME': 12 * 60 * 60,
}


def check(config: Mapping[str, Any]) -> None:
    """Refuse settings that cannot work, naming the variable and the fix."""
    if not config.get('SECRET_KEY'):
        raise ConfigError(SECRET_KEY_ENV, 'is not set; the admin signs sessions with it: set it to a long random '
                                          "text, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if config['JSON_CASE'] not in ('snake', 'camel'):
        raise ConfigError(JSON_CASE_ENV, f'must be snake or camel; got {config["JSON_CASE"]!r}')
    for key, env, low, unit in (('MAX_IMPORT_BYTES', MAX_IMPORT_ENV, 1, ' bytes'),
                                ('MAX_REQUEST_BYTES', MAX_REQUEST_ENV, MIN_MAX_REQUEST, ' bytes'),
                                ('PING_LIMIT', PING_LIMIT_ENV, 1, ''),
                                ('PROXY_HOPS', PROXY_HOPS_ENV, 0, '')):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(env, f'must be a whole number{unit and " of" + unit}, at least {low}; got {value!r}')
