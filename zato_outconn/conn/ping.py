"""The result of a ping: a text report that also carries its facts as attributes."""

from __future__ import annotations

# The most characters of a reason phrase a report carries: a server may write kilobytes in its
# status line, and a report is one line for a log, a page or an API answer.
MAX_REASON_LENGTH = 200


def short_text(text: str, limit: int = 500, tail: int = 24) -> str:
    """What a remote end wrote (a ping's reason phrase, its error), fit to show and keep: control
    characters (terminal escapes, bells) as U+FFFD, and at most ``limit`` long, cut in the middle with
    a marker, its last ``tail`` characters kept (where a ping's report says how long it took)."""
    cleaned = ''.join('\ufffd' if ord(char) < 32 or 127 <= ord(char) < 160 else char for char in text)
    if len(cleaned) <= limit:
        return cleaned
    return f'{cleaned[:limit - tail - 1]}…{cleaned[-tail:]}'


class PingResult(str):
    """A one-line report of how the remote end answered, e.g.::

        OK HEAD http://127.0.0.1:8000/customers/ -> 200 OK in 0.0042 s at 2026-11-21T07:20:01.123456 UTC

    ``ok`` is false for a status of 400 or above and for any transport error, and the report
    then says why. ``elapsed`` is in seconds. The remote end's reason phrase is kept as ``short_text``
    makes it: at most MAX_REASON_LENGTH characters, control characters replaced.
    """

    ok: bool
    status_code: int | None
    elapsed: float
    method: str
    url: str
    error: str | None
    timestamp: str
    reason: str

    def __new__(cls, *, method: str, url: str, timestamp: str, elapsed: float,
                status_code: int | None = None, reason: str = '', error: str | None = None) -> PingResult:
        ok = error is None and status_code is not None and status_code < 400
        reason = short_text(reason, MAX_REASON_LENGTH)
        outcome = f'{status_code} {reason}'.rstrip() if status_code is not None else ''
        if error is not None:
            outcome = f'{outcome}, failed: {error}' if outcome else f'failed: {error}'
        text = f'{"OK" if ok else "FAIL"} {method} {url} -> {outcome} in {elapsed:.4f} s at {timestamp} UTC'
        self = super().__new__(cls, text)
        self.ok = ok
        self.status_code = status_code
        self.elapsed = elapsed
        self.method = method
        self.url = url
        self.error = error
        self.timestamp = timestamp
        self.reason = reason
        return self

    def failed(self, error: str) -> PingResult:
        """The same report, marked not OK for a reason found after the remote end answered."""
        return PingResult(method=self.method, url=self.url, timestamp=self.timestamp, elapsed=self.elapsed,
                          status_code=self.status_code, reason=self.reason, error=error)

    def as_dict(self) -> dict[str, object]:
        return {'ok': self.ok, 'status_code': self.status_code, 'elapsed': self.elapsed,
                'method': self.method, 'url': self.url, 'error': self.error, 'timestamp': self.timestamp,
                'report': str(self)}
