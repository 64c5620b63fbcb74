"""Versions as HTTP sees them: a row's version is its ETag, and If-Match names the version an edit expects."""

from __future__ import annotations

from flask import request

from zato_outconn.exceptions import ConfigError


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
