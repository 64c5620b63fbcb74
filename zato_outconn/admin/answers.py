"""How the API answers: JSON in the configured key case and layout, or CSV for lists and exports.

``ZATO_OUTCONN_JSON_CASE=camel`` turns every key of a JSON answer into camelCase (and request keys
back into snake_case, so that a client can send what it was given); ``ZATO_OUTCONN_JSON_PRETTY=1``
indents it. The OpenAPI document describes the default, snake_case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Response

CSV_TYPE = 'text/csv'
_UNDERSCORED = re.compile(r'_([a-z0-9])')
_CAPITAL = re.compile(r'(?<=[a-z0-9])([A-Z])')


def camel(key: str) -> str:
    return _UNDERSCORED.sub(lambda match: match.group(1).upper(), key)


def snake(key: str) -> str:
    return _CAPITAL.sub(lambda match: '_' + match.group(1).lower(), key)


def rekeyed(data: Any, spell: Any) -> Any:
    """``data`` with every key of every mapping in it spelled by ``spell``; values stay as they are."""
    if isinstance(data, Mapping):
        return {spell(key) if isinstance(key, str) else key: rekeyed(value, spell) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [rekeyed(item, spell) for item in data]
    return data


def camel_case() -> bool:
    return bool(current_app.config.get('JSON_CASE') == 'camel')


class CaseJSONProvider(DefaultJSONProvider):
    """Reads request bodies in camelCase as snake_case when the API speaks camelCase."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            # A ValueError is what Flask answers as malformed JSON (400); a document nested deeper
            # than Python's recursion limit is one, whatever route it was sent to.
            raise ValueError('the document is nested too deeply to read') from None
        return rekeyed(data, snake) if self._app.config.get('JSON_CASE') == 'camel' else data


def json_text(data: Any) -> str:
    if camel_case():
        data = rekeyed(data, camel)
    indent = 2 if current_app.config.get('JSON_PRETTY') else None
    separators = None if indent else (',', ':')
    return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False, default=str) + '\n'


def json_answer(data: Any, status: int = 200, headers: Mapping[str, str] | None = None,
                mimetype: str = 'application/json') -> Response:
    return Response(json_text(data), status=status, headers=dict(headers or {}), mimetype=mimetype)


def wants_csv() -> bool:
    """Whether the caller asked for CSV: ?format=csv, or an Accept that prefers text/csv to JSON."""
    asked = request.args.get('format')
    if asked is not None:
        return asked == 'csv'
    # On a tie (*/*, or no Accept at all) JSON wins: it is first.
    return request.accept_mimetypes.best_match(['application/json', CSV_TYPE]) == CSV_TYPE


def csv_answer(text: str, filename: str | None = None) -> Response:
    headers = {'Content-Disposition': f'attachment; filename="{filename}"'} if filename else {}
    return Response(text, mimetype=CSV_TYPE, headers=headers)
