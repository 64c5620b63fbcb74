"""Body codecs: how what a caller passes becomes bytes and a Content-Type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from zato_outconn.config.path_template import NoTextForm, text_of

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
        body = _utf8(data, 'the text body')
        implied = _FORMAT_TYPES.get(data_format, TEXT)
    elif isinstance(data, Mapping | list | tuple):
        if data_format == 'json':
            body = _utf8(encode_json(data), 'the JSON body')
            implied = JSON
        elif data_format == 'form':
            body = encode_form(data).encode('ascii')
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


def encode_json(data: Any) -> str:
    """JSON text of a dict or list, or BodyError saying what in it JSON cannot hold.

    allow_nan=False: NaN and Infinity are no JSON, and many parsers refuse the whole document.
    """
    try:
        return json.dumps(data, ensure_ascii=False, separators=(',', ':'), allow_nan=False, default=_json_default)
    except BodyError:
        raise
    except RecursionError:
        raise BodyError('the body is nested too deeply to encode as JSON; flatten it') from None
    except ValueError as error:
        # The two ValueErrors json.dumps raises; its words would show no fix.
        if 'Circular' in str(error):
            raise BodyError('the body contains itself (a circular reference), which JSON cannot hold; '
                            'send a copy without the cycle') from None
        raise BodyError('the body holds NaN or Infinity, which JSON has no form for; send null or a finite '
                        'number instead') from None
    except TypeError:
        # The only TypeError left: a dict key of a type JSON keys cannot be (values go to _json_default).
        raise BodyError('a dict in the body has a key that is not str, int, float, bool or None (a tuple, '
                        'say); JSON object keys are text, so convert the key to str') from None


def encode_form(data: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> str:
    """application/x-www-form-urlencoded text: fields of text, numbers or lists of them, nothing nested.

    A nested dict or an object would go out as its repr, or a dict as its keys only; refused instead.
    None leaves a field out, as it does in a query string.
    """
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise BodyError('a form body given as a list must be (name, value) pairs; pass a dict or pairs')
        key, value = item
        name = _form_text('a form field name', key)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((name, _form_text(f'form field {name!r}', entry)) for entry in value)
        else:
            pairs.append((name, _form_text(f'form field {name!r}', value)))
    return urlencode(pairs)


def _form_text(what: str, value: Any) -> str:
    try:
        return text_of(value)
    except NoTextForm as error:
        raise BodyError(f'{what} {error}') from None


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError as error:
        # A lone surrogate (from a bad decode, usually): its position, never the text, which may be secret.
        raise BodyError(f'{what} has a lone surrogate at position {error.start}, which UTF-8 cannot encode; '
                        'fix the text (decode its source with the right encoding)') from None


def _json_default(value: Any) -> Any:
    # Values integration payloads carry all the time and that JSON has no type for.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            # As for float: 'NaN' in a string would pass for a number no one sent.
            raise BodyError('the body holds a Decimal NaN or Infinity, which JSON has no form for; send null '
                            'or a finite number instead')
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    raise BodyError(f'cannot encode a {type(value).__name__} as JSON; convert it to str, int, float, '
                    'list or dict first')
