"""One request as the pipeline carries it, from the verb that made it to the one send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


# Not frozen: made on every call, and a frozen dataclass is slower to make; nothing changes it.
@dataclass(slots=True)
class OutgoingRequest:
    method: str
    url: str
    cid: str
    data: Any = None
    # The caller's own headers, which win over the connection's (security excepted).
    headers: Mapping[str, str | None] | None = None
    # True streams the answer (prefetch=False); ping streams and closes it unread.
    stream: bool = False
    # Keyword arguments for what the template does not fix (timeout, json, auth...), and action= for SOAP.
    extras: Mapping[str, Any] = field(default_factory=dict)
