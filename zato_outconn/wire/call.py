"""What identifies one call: the connection, method, URL and cid every error and log line names."""

from __future__ import annotations

from typing import NamedTuple


class Call(NamedTuple):
    # A tuple: made on every call, and cheaper to make than any class with attributes of its own.
    name: str
    method: str
    url: str
    cid: str

    def context(self) -> dict[str, str]:
        """The keyword arguments of a ``CallError`` raised in this call."""
        return {'name': self.name, 'method': self.method, 'url': self.url, 'cid': self.cid}


class Limits(NamedTuple):
    """What bounds one call besides its socket timeouts."""

    # Seconds from the start of the send to the last byte of a prefetched body (total_timeout).
    total: float
    # Bytes a prefetched body may have (max_response_size).
    max_response_size: int
