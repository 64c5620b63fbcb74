"""What identifies one call: the connection, method, URL and cid every error and log line names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    method: str
    url: str
    cid: str

    def context(self) -> dict[str, str]:
        """The keyword arguments of a ``CallError`` raised in this call."""
        return {'name': self.name, 'method': self.method, 'url': self.url, 'cid': self.cid}
