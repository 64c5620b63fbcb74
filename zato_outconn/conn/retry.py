"""Retries: which failures and answers are tried again, and how long to wait before the next attempt.

What is retried, for ``max_retries`` extra attempts at most:

- A failure before anything was sent (no connection, a connect timeout, every socket of the pool
  busy), whatever the method: the remote end has seen nothing, so sending again is safe.
- A read timeout or a dropped connection (the request may have arrived), and an answer whose status
  is in ``retry_on_status``, only for a method in ``retry_methods`` (by default the idempotent ones).

Nothing else is: a TLS failure, an answer that broke HTTP or was cut short, a body too large, the
caller's own input. Nor is a request whose body cannot be sent twice (``files=`` with file objects:
requests reads them as it prepares the request, and a second preparation would send them empty).

The wait before retry n (1, 2...) is full jitter: a random time from 0 to ``retry_backoff * 2 **
(n - 1)``, capped at ``retry_after_max``. An answer's ``Retry-After`` (seconds or an HTTP date) is
waited for instead, exactly; one longer than ``retry_after_max`` ends the retries, as trying again
sooner than the server asked would only be refused again.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3.exceptions as uex

from zato_outconn.config import OutconnConfig
from zato_outconn.conn.request import OutgoingRequest
from zato_outconn.exceptions import CallError, ConnectError, ConnectTimeout, PoolTimeout, Timeout, TotalTimeout
from zato_outconn.wire.errors import causes

# What a ConnectError wraps when no connection was made at all (as opposed to one that dropped).
_NOT_CONNECTED = (uex.NewConnectionError, uex.ConnectTimeoutError, uex.ProxyError, uex.ClosedPoolError)


class RetryPolicy:
    """The retry settings of one template, read once when its connection is built."""

    __slots__ = ('after_max', 'backoff', 'max_retries', 'methods', 'statuses')

    def __init__(self, config: OutconnConfig) -> None:
        self.max_retries = config.max_retries
        self.statuses = config.retry_statuses
        self.methods = config.retried_methods
        self.backoff = config.retry_backoff
        self.after_max = config.retry_after_max

    def retries_error(self, error: CallError, method: str) -> bool:
        """Whether an attempt that failed with ``error`` may be made again."""
        if nothing_sent(error):
            return True
        # A read or write timeout, or a connection dropped unanswered: the request may have arrived.
        # A total timeout leaves no time for another attempt.
        return method in self.methods and isinstance(error, Timeout | ConnectError) \
            and not isinstance(error, TotalTimeout)

    def retries_answer(self, response: requests.Response, method: str) -> bool:
        return response.status_code in self.statuses and method in self.methods

    def wait(self, retry: int, response: requests.Response | None) -> float | None:
        """Seconds to wait before retry number ``retry`` (1 for the first), or None when the server's
        Retry-After asks for longer than retry_after_max."""
        if response is not None:
            asked = retry_after(response.headers)
            if asked is not None:
                return asked if asked <= self.after_max else None
        # Full jitter: spreads the retries of many callers that failed at once over the whole window.
        return random.uniform(0, min(self.after_max, self.backoff * 2 ** (retry - 1)))


def nothing_sent(error: CallError) -> bool:
    """Whether the attempt failed before any of the request left: no connection was made, or none
    of the pool's sockets became free."""
    if isinstance(error, ConnectTimeout | PoolTimeout):
        return True
    if isinstance(error, ConnectError) and error.__cause__ is not None:
        return any(isinstance(cause, _NOT_CONNECTED) for cause in causes(error.__cause__))
    return False


def replayable(request: OutgoingRequest) -> bool:
    """Whether the request's body can be sent again as it was: anything but file objects in files=."""
    files = request.extras.get('files')
    if not files:
        return True
    values = files.values() if isinstance(files, Mapping) else (item[1] for item in files)
    return not any(_is_stream(value[1] if isinstance(value, tuple | list) else value) for value in values)


def _is_stream(value: Any) -> bool:
    return hasattr(value, 'read') or (hasattr(value, '__next__') and not isinstance(value, str | bytes))


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds a Retry-After header asks to wait (RFC 9110, 10.2.3), or None without a usable one."""
    value = headers.get('Retry-After')
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # An HTTP date is always GMT; a date without a zone is read as one.
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
