"""Versions as HTTP sees them: a row's version is its ETag, and If-Match names the version an edit expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request
from flask.wrappers import Response

from zato_outconn.admin.problems import problem
from zato_outconn.conn.ping import short_text
from zato_outconn.exceptions import ConfigError, Conflict

Record = TypeVar('Record')

# What an If-Match tag that names no version stands for: versions start at 1.
NO_VERSION = 0
# The digits of the largest version the databases' integers hold (2 ** 31 - 1).
MAX_DIGITS = 10


def etag(version: int) -> str:
    return f'"{version}"'


def if_match() -> int | None:
    """The version If-Match names, or None without one (or with ``*``); NO_VERSION for an entity tag
    that names no version (one no row has, so the edit is refused as stale); a header that is no tag
    at all is refused naming If-Match."""
    raw = request.headers.get('If-Match')
    if raw is None or raw.strip() == '*':
        return None
    tag = raw.strip().removeprefix('W/')
    text = tag.strip('"')
    # isdigit() alone takes '²' and other digits int() refuses; a version has at most MAX_DIGITS.
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= MAX_DIGITS else NO_VERSION
    if len(tag) > 2 and tag[0] == tag[-1] == '"':
        # A tag, but none of ours: RFC 9110 has If-Match then fail, as for any tag of another version.
        return NO_VERSION
    raise ConfigError('If-Match', f'must be the ETag of the item, a version in quotes such as "3"; '
                                  f'got {short_text(raw, 60)!r}')


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
    named = f'{expected} as If-Match says' if expected != NO_VERSION else 'the one If-Match names'
    return problem(412, f'{what} is at version {version}, not {named}: it was changed since you read it; '
                        'read it again and repeat the change', headers={'ETag': etag(version)})
