"""A person using the admin's pages through Flask's test client: signed in with a role, sending forms
with the CSRF token of the page they were on, as a browser does (CSRF stays on in these tests)."""

from __future__ import annotations

import html
import re
from typing import Any

from apiflask import APIFlask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from zato_outconn import Store

_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PASSWORD_OF = 'Pa55word-of-{name}'


class Pages:
    def __init__(self, app: APIFlask, store: Store) -> None:
        self.app = app
        self.store = store
        self.client: FlaskClient = app.test_client()
        self.seen: list[str] = []

    def sign_in(self, role: str, name: str | None = None) -> str:
        """Signs in on /login as a new user of this role (named after it unless told); the user's name."""
        name = name or f'{role}-person'
        password = PASSWORD_OF.format(name=name)
        self.store.create_user(name, role, password)
        answer = self.submit('/login', '/login', {'name': name, 'password': password})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return name

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        self.seen.append(response.get_data(as_text=True))
        return response

    def token_of(self, path: str) -> str:
        """The CSRF token a page at ``path`` carries."""
        text = self.get(path).get_data(as_text=True)
        found = _CSRF_INPUT.search(text) or _CSRF_META.search(text)
        assert found, f'no CSRF token on {path}: {text[:500]}'
        return html.unescape(found.group(1))

    def submit(self, page: str, action: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
               **kwargs: Any) -> TestResponse:
        """Posts ``data`` to ``action`` from the page at ``page``, with its CSRF token unless told not to."""
        form = dict(data or {})
        if csrf:
            form['csrf_token'] = self.token_of(page)
        response = self.client.post(action, data=form, **kwargs)
        self.seen.append(response.get_data(as_text=True))
        return response

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)


def form_errors(text: str) -> list[str]:
    """The errors a page shows beside its fields, as text."""
    return [html.unescape(message) for message in re.findall(r'<span class="field-error"[^>]*>([^<]*)</span>', text)]
