"""The values of the X-Zato headers every request carries: component and timestamp (and the cid's check)."""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from time import time_ns

# What a header value cannot hold: line breaks and NUL, which would end or cut it.
UNSENDABLE = re.compile(r'[\r\n\x00]')
# What the cid cannot hold: control characters (C0, DEL and C1), and characters beyond Latin-1,
# which http.client cannot put into a header (it would raise UnicodeEncodeError mid-send).
BAD_CID = re.compile(r'[\x00-\x1f\x7f-\x9f]|[^\x00-\xff]')
# What no header value may hold by RFC 9110 (controls but tab) or can be encoded by http.client.
BAD_HEADER_VALUE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]')

# The whole second last formatted, and its text: every request carries a timestamp, and formatting
# the date and time takes most of a datetime's isoformat; one tuple, replaced whole, so threads agree.
_second: tuple[int, str] = (0, '')

# This process's id, read once and again in a forked child: os.getpid is a system call, and every
# request names its process.
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def msg_timestamp() -> str:
    """Now in UTC as ISO 8601 with microseconds and no offset, e.g. 2013-04-26T23:41:45.271911."""
    global _second
    now = time_ns() // 1000
    seconds, micros = divmod(now, 1_000_000)
    cached = _second
    if cached[0] != seconds:
        # No offset, as the format says; the fraction is kept when it happens to be zero.
        cached = _second = (seconds, datetime.fromtimestamp(seconds, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.'))
    return f'{cached[1]}{micros:06d}'


@dataclass
class Component:
    """Names the process a request came from: ``<cluster>/<server>/<host>/<pid>/<thread>``."""

    cluster: str = 'default'
    server: str = 'server1'
    host: str = field(default_factory=socket.gethostname)
    _prefix: str = field(default='', init=False, repr=False)
    _pid: int = field(default=0, init=False, repr=False)

    def process(self) -> str:
        """``<cluster>/<server>/<host>/<pid>``: the process, as nodes are listed."""
        return f'{self.cluster}/{self.server}/{self.host}/{os.getpid()}'

    def current(self) -> str:
        pid = _pid
        # Recomputed after a fork, when the same object lives on in a child process.
        if pid != self._pid:
            self._prefix = f'{self.cluster}/{self.server}/{self.host}/{pid}/'
            self._pid = pid
        return self._prefix + threading.current_thread().name
