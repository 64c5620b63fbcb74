"""Body codecs: how what a caller passes becomes bytes and a Content-Type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'
TEXT = 'text/plain; charset=utf-8'

_FORMAT_TYPES = {'json': JSON, 'form': FORM}


class BodyError(ValueError):
    """The body cannot be encoded as this connection sends bodies; the message says why."""


def encode_body(data: Any, data_format: str, content_type: str | None) -> tuple[bytes | None, str | None]:
    """Return ``(body, content_type)`` for the data a caller passed.

    dict and list follow data_format (json or form); text is sent as UTF-8; bytes as given.
    A connection's explicit content_type wins over the one the format implies. No data, no body.
    """
    if data is None or data == '' or data == b'':
        return None, None

    if isinstance(data, bytes):
        body = data
        implied = _FORMAT_TYPES.get(data_format)
    elif isinstance(data, str):
        body = data.encode('utf-8')
        implied = _FORMAT_TYPES.get(data_format, TEXT)
    elif isinstance(data, Mapping | list | tuple):
        if data_format == 'json':
            body = json.dumps(data, ensure_ascii=False, separators=(',', ':'), default=_json_default).encode('utf-8')
            implied = JSON
        elif data_format == 'form':
            if not isinstance(data, Mapping):
                data = list(data)
            body = urlencode(data, doseq=True).encode('ascii')
            implied = FORM
        else:
            raise BodyError(f'a {type(data).__name__} body needs data_format json or form '
                            '(this connection has none); pass str or bytes, or change data_format')
    elif isinstance(data, bytearray | memoryview):
        body = bytes(data)
        implied = _FORMAT_TYPES.get(data_format)
    else:
        raise BodyError(f'cannot send a body of type {type(data).__name__}; pass dict, list, str or bytes')
    return body, content_type or implied


def _json_default(value: Any) -> Any:
    # Values integration payloads carry all the time and that JSON has no type for.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise BodyError(f'cannot encode a {type(value).__name__} as JSON; convert it to str, int, float, '
                    'list or dict first')
