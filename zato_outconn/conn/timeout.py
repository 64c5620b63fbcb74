"""A caller's own ``timeout=`` for one call, checked as the template's timeouts are."""

from __future__ import annotations

from typing import Any

from zato_outconn.config import OutconnConfig
from zato_outconn.config.checks import check_seconds
from zato_outconn.exceptions import ConfigError

_HOW = 'pass seconds, or (connect, read) where None keeps the template\'s'


class BadTimeout(ValueError):
    """The timeout= of a call is no number of seconds; the message says what to pass."""


def call_timeout(value: Any, config: OutconnConfig) -> tuple[float, float]:
    """``(connect, read)`` for one call: a number for both, or a pair with None keeping the template's.

    A call never waits without a timeout, so None means the template's value, never no limit.
    """
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise BadTimeout(f'timeout has {len(value)} values; {_HOW}')
        connect, read = value
        return (_seconds('connect', connect, config.connect_timeout), _seconds('read', read, config.read_timeout))
    both = _seconds('', value, None)
    return (both, both)


def _seconds(which: str, value: Any, default: float | None) -> float:
    if value is None and default is not None:
        return default
    try:
        return check_seconds('timeout', value)
    except ConfigError as error:
        what = f'the {which} timeout' if which else 'timeout'
        raise BadTimeout(f'{what} {error.rule}; {_HOW}') from None
