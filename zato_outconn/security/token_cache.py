"""The process-wide cache of OAuth2 tokens.

Tokens are cached per key (everything that changes the token) until shortly before they expire.
When many threads need a token at once, exactly one asks for it and the others wait for its
answer, a token or an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

# A token is refreshed this share of its lifetime before it expires, but never more than a minute
# early: enough for a call in flight to reach the remote end while the token still holds.
_EARLY_SHARE = 0.1
_EARLY_MAX = 60.0


@dataclass(frozen=True)
class _Token:
    value: str
    # On the monotonic clock; None when the server gave no lifetime (kept until a 401).
    refresh_at: float | None


class TokenCache:
    """Tokens of the whole process, keyed by what identifies a token; safe for threads and greenlets."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, ...], _Token] = {}
        # The token request in flight per key, whose outcome everyone who needs that token waits for.
        self._flights: dict[tuple[str, ...], Future[str | None]] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple[str, ...], fetch: Callable[[], tuple[str, float | None]]) -> str:
        while True:
            token = self._fresh(key)
            if token is not None:
                return token
            with self._guard:
                token = self._fresh(key)
                if token is not None:
                    return token
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = Future()
                    leader = True
                else:
                    leader = False
            if leader:
                return self._lead(key, fetch, flight)
            # The error too is shared: asking again in turn would multiply the load on a failing
            # endpoint, and the wait, by the number of callers.
            value = flight.result()
            if value is not None:
                return value
            # The one asking was interrupted (a greenlet killed, say) rather than refused: ask again.

    def _lead(self, key: tuple[str, ...], fetch: Callable[[], tuple[str, float | None]],
              flight: Future[str | None]) -> str:
        try:
            value, expires_in = fetch()
        except Exception as error:
            self._land(key)
            flight.set_exception(error)
            raise
        except BaseException:
            self._land(key)
            flight.set_result(None)
            raise
        refresh_at = None
        if expires_in is not None:
            refresh_at = self._clock() + expires_in - min(expires_in * _EARLY_SHARE, _EARLY_MAX)
        self._land(key, _Token(value, refresh_at))
        flight.set_result(value)
        return value

    def _land(self, key: tuple[str, ...], token: _Token | None = None) -> None:
        """End the flight of ``key``, keeping the token it brought, if any."""
        with self._guard:
            if token is not None:
                self._tokens[key] = token
            del self._flights[key]

    def drop(self, key: tuple[str, ...], value: str) -> None:
        """Forget the token if it still is the one that was refused (another thread may have renewed it)."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]

    def drop_others(self, key: tuple[str, ...]) -> None:
        """Forget the tokens of key's definition (its first part) cached under any other key.

        Those were fetched with settings the definition no longer has (an old secret, say), so no
        connection asks for them again; kept, they would stay in memory for as long as the process.
        """
        with self._guard:
            for other in [cached for cached in self._tokens if cached[0] == key[0] and cached != key]:
                del self._tokens[other]

    def __len__(self) -> int:
        return len(self._tokens)

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def _fresh(self, key: tuple[str, ...]) -> str | None:
        token = self._tokens.get(key)
        if token is None or (token.refresh_at is not None and self._clock() >= token.refresh_at):
            return None
        return token.value


TOKENS = TokenCache()
