"""Versions as HTTP sees them: a row's version is its ETag, and If-Match names the version an edit expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request
from flask.wrappers import Response

from zato_outconn.admin.problems import problem
from zato_outconn.exceptions import ConfigError, Conflict

Record = TypeVar('Record')


def etag(version: int) -> str:
    return f'"{version}"'


def if_match() -> int | None:
    """The version If-Match names, or None without one (or with ``*``); a tag that is no version is refused."""
    raw = request.headers.get('If-Match')
    if raw is None or raw.strip() == '*':
        return None
    text = raw.strip().removeprefix('W/').strip('"')
    if not text.isdigit():
        raise ConfigError('If-Match', f'must be the ETag of the item, a version in quotes such as "3"; got {raw!r}')
    return int(text)


def edit_as_of(what: str, version: int, edit: Callable[[int | None], Record],
               version_now: Callable[[], int]) -> Record | Response:
    """``edit(expected)`` with the version If-Match names, which the store checks in the edit's transaction;
    a 412 problem if the item is at another version, before the edit or by the time it is made."""
    expected = if_match()
    if expected is not None and version != expected:
        return _stale(what, version, expected)
    try:
        return edit(expected)
    except Conflict:
        if expected is None:
            raise
        return _stale(what, version_now(), expected)


def _stale(what: str, version: int, expected: int) -> Response:
    return problem(412, f'{what} is at version {version}, not {expected} as If-Match says: it was changed since '
                        'you read it; read it again and repeat the change', headers={'ETag': etag(version)})
