"""The correlation ID of the service invocation in progress.

Calls that take no cid argument (those a zeep client makes) use it. Context variables follow
threads and greenlets alike.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

current_cid: ContextVar[str | None] = ContextVar('zato_outconn_cid', default=None)


def new_cid() -> str:
    return uuid.uuid4().hex


def cid_in_progress() -> str:
    """The cid of the invocation in progress, or a new one outside any."""
    return current_cid.get() or new_cid()
