"""What every page view shares: who is signed in, the permission check, and rendering with both.

A page that needs a permission sends someone not signed in to ``/login`` (and back afterwards),
and answers 403 with a page saying what is missing to someone signed in without it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from zato_outconn.admin.auth import Principal, current_store, login_manager
from zato_outconn.admin.problems import csrf_refused, is_page_request, page_error
from zato_outconn.admin.settings import PREFIX
from zato_outconn.conn.ping import short_text as short_text  # the pages import it from here
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.models import MAX_INTEGER

View = TypeVar('View', bound=Callable[..., Any])

# Where someone not signed in is sent, and what they are told there.
LOGIN_ENDPOINT = 'pages_auth.login'
# Where / and a sign-in without a next page lead.
HOME = '/outconns'
# The largest id or version the databases' integers hold; a larger one in a path is no row (404).
MAX_NUMBER = MAX_INTEGER


def signed_in() -> Principal | None:
    """The person signed in to this session, or None."""
    if not current_user.is_authenticated:
        return None
    record = current_user.record
    return Principal('user', record.name, record.role)


def can(permission: str) -> bool:
    """Whether the person signed in may do this; templates use it to hide what they may not."""
    principal = signed_in()
    return principal is not None and principal.can(permission)


def needs(*permissions: str) -> Callable[[View], View]:
    """A page that needs one of these permission codes; what it changes is recorded as the user's."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            principal = signed_in()
            if principal is None:
                return _sign_in_first()
            if not any(principal.can(permission) for permission in permissions):
                abort(403, description=f'Your role, {principal.role}, does not allow this '
                                       f'(it needs {" or ".join(permissions)}).')
            with current_store().acting_as(principal.actor):
                return view(*args, **kwargs)

        return cast(View, checked)

    return decorate


def _sign_in_first() -> Any:
    """To the login page; an htmx request (a Ping after the session ended) is told to send the whole
    page there, rather than swapping the login form into a table cell."""
    if request.headers.get('HX-Request') != 'true':
        return login_manager.unauthorized()
    current = urlsplit(request.headers.get('HX-Current-URL', ''))
    back = local_path(current.path + (f'?{current.query}' if current.query else ''))
    answer = page_error(401, 'Your session has ended; sign in again.')
    answer.headers['HX-Redirect'] = url_for(LOGIN_ENDPOINT, next=back)
    return answer


def _csrf_refused(error: CSRFError) -> Any:
    """A page's change that came without a session (signed out in another tab, the cookie expired):
    its CSRF token cannot match a session that is gone, but what to do is to sign in again, as
    after a session ended any other way. The login form's own post keeps the CSRF page, which says
    that the cookie did not come back: sending it to sign in again would only loop."""
    if is_page_request() and not current_user.is_authenticated and request.endpoint != LOGIN_ENDPOINT:
        return _sign_in_first()
    return csrf_refused(error)


def local_path(target: str | None, default: str = HOME) -> str:
    """``target`` if it is a path of this site (where to go back to after a form), else ``default``:
    never another site's address, which a crafted link could otherwise send people to, nor one with
    control characters (a line break cannot be in a Location header; a tab is dropped by URL parsers)."""
    if (target and target.startswith('/') and not target.startswith('//') and '\\' not in target
            and not any(ord(char) < 32 or ord(char) == 127 for char in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default


def whole_number(text: str | None, maximum: int = MAX_NUMBER) -> int | None:
    """The number ``text`` spells in ASCII digits, if it is no more than ``maximum``; else None.

    str.isdigit() alone holds for '²', which int() refuses, and a number too large for the databases'
    integers would fail in the query rather than find nothing.
    """
    if text and text.isascii() and text.isdigit() and len(text) <= len(str(maximum)):
        value = int(text)
        return value if value <= maximum else None
    return None


class RowIdConverter(BaseConverter):
    """``<row_id:name>``: the id of a row in a page's path, a 404 page when no row can have it.

    werkzeug's ``int(max=...)`` refuses a large id by matching no rule, which answers 405 when a rule
    of another method has the same path (a POST to an edit page's address); this says 404 always.
    """

    regex = r'\d+'

    def to_python(self, value: str) -> int:
        number = whole_number(value)
        if number is None:
            raise NotFound(description=f'Nothing has the id {value[:30]}; ids are whole numbers up to {MAX_NUMBER}.')
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def page(template: str, **context: Any) -> str:
    """A page rendered with what every template may use: ``principal`` and ``can``."""
    return render_template(template, **context)


def check_login_settings(config: Any) -> None:
    """Refuse a login throttle that cannot work, naming the variable and the fix."""
    for key, low in (('LOGIN_MAX_FAILURES', 1), ('LOGIN_WINDOW', 1)):
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < low):
            raise ConfigError(f'{PREFIX}_{key}', f'must be a number of at least {low}; got {value!r}')


def install(app: Flask) -> None:
    check_login_settings(app.config)
    login_manager.login_view = LOGIN_ENDPOINT
    login_manager.login_message = 'Sign in to see this page.'
    login_manager.login_message_category = 'info'
    # After the problems' own handler of it, which this one calls: the later one is the app's.
    app.register_error_handler(CSRFError, _csrf_refused)
    app.jinja_env.globals.update(can=can, signed_in=signed_in)
    app.jinja_env.filters['short'] = short_text
