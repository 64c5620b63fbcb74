"""Interceptors: objects that see each final request before it is sent, and each answer after it came.

``Runtime.add_interceptor(obj, connections=None)`` adds one. ``obj`` may define
``before_send(request, call)``, given the ``requests.PreparedRequest`` after security has been
applied, which it may change (sign it, add a header), and ``after_receive(response, call)``; ``call``
is a ``CallInfo``. They run in the order added, on every attempt, for the connections they were
added for (names or ``fnmatch`` globs, or all of them). One that raises fails the call with an
``InterceptorError`` naming it, its own error as the cause.

Adding is rare and calls are many: the interceptors are a tuple replaced whole on each ``add``, and
the ones of each connection are picked once and kept, so a call takes no lock; with none added, the
pipeline reads ``is_empty`` and goes no further.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zato_outconn.exceptions import InterceptorError

__all__ = ['CallInfo', 'InterceptorError', 'Interceptors']

_GLOB = re.compile(r'[*?\[]')

Hook = Callable[[Any, 'CallInfo'], object]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What an interceptor is told about the call: the connection's name, the method, the URL (without
    credentials), the cid and the attempt (1 for the first, 2 for the first retry, ...)."""

    name: str
    method: str
    url: str
    cid: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class _Interceptor:
    label: str
    matches: Callable[[str], bool]
    before_send: Hook | None
    after_receive: Hook | None


@dataclass(frozen=True, slots=True)
class _Selection:
    """The hooks of one connection, in the order their interceptors were added."""

    before_send: tuple[tuple[str, Hook], ...]
    after_receive: tuple[tuple[str, Hook], ...]


_NONE = _Selection((), ())


class _State:
    """The interceptors added so far and the selection made from them for each connection; replaced whole
    by ``add``, so that a selection made from an older state is never kept in a newer one."""

    __slots__ = ('interceptors', 'selections')

    def __init__(self, interceptors: tuple[_Interceptor, ...]) -> None:
        self.interceptors = interceptors
        self.selections: dict[str, _Selection] = {}

    def select(self, name: str) -> _Selection:
        selection = self.selections.get(name)
        if selection is None:
            chosen = [interceptor for interceptor in self.interceptors if interceptor.matches(name)]
            selection = _Selection(
                tuple((i.label, i.before_send) for i in chosen if i.before_send is not None),
                tuple((i.label, i.after_receive) for i in chosen if i.after_receive is not None))
            if not selection.before_send and not selection.after_receive:
                selection = _NONE
            # Two threads may make the same selection at once; either one kept is right.
            self.selections[name] = selection
        return selection


class Interceptors:
    """The interceptors of one registry, shared by every connection it builds. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State(())

    @property
    def is_empty(self) -> bool:
        """Whether no interceptor was added: a call then need not look further."""
        return not self._state.interceptors

    def add(self, obj: object, connections: str | Iterable[str] | None = None) -> None:
        """Add ``obj`` for the connections named (names or fnmatch globs; None = every connection)."""
        before_send = _hook(obj, 'before_send')
        after_receive = _hook(obj, 'after_receive')
        label = describe(obj)
        if before_send is None and after_receive is None:
            raise TypeError(f'interceptor {label} defines neither before_send(request, call) nor '
                            'after_receive(response, call); give it one of them (or both)')
        interceptor = _Interceptor(label, _matcher(connections), before_send, after_receive)
        with self._lock:
            self._state = _State((*self._state.interceptors, interceptor))

    def selection(self, name: str) -> _Selection:
        """The hooks that apply to connection ``name``."""
        return self._state.select(name)

    def before_send(self, prepared: Any, call: CallInfo) -> None:
        """Give the prepared request to each matching ``before_send``; one that raises fails the call.
        A body they replaced is sent with its own Content-Length."""
        hooks = self._state.select(call.name).before_send
        if not hooks:
            return
        body = getattr(prepared, 'body', None)
        for label, hook in hooks:
            _run(label, 'before_send', hook, prepared, call)
        if getattr(prepared, 'body', None) is not body:
            _measure(prepared)

    def after_receive(self, response: Any, call: CallInfo) -> None:
        """Give the answer to each matching ``after_receive``; one that raises fails the call."""
        for label, hook in self._state.select(call.name).after_receive:
            _run(label, 'after_receive', hook, response, call)


def _measure(prepared: Any) -> None:
    """Content-Length for a body an interceptor replaced: with the old one the server would read part
    of the body, or wait for more, and take what is left for the next request on the kept-alive socket.
    A body of another kind (a stream) and a chunked request are the interceptor's to describe."""
    headers = prepared.headers
    if 'Transfer-Encoding' in headers:
        return
    body = prepared.body
    if isinstance(body, bytes | bytearray | str):
        headers['Content-Length'] = str(len(body))
    elif body is None:
        if prepared.method in ('GET', 'HEAD'):
            headers.pop('Content-Length', None)
        else:
            headers['Content-Length'] = '0'


def describe(obj: object) -> str:
    """How an error names an interceptor: its own name (a module, a class, a function), else its class's."""
    name = getattr(obj, '__qualname__', None) or getattr(obj, '__name__', None)
    return str(name) if isinstance(name, str) else type(obj).__qualname__


def _hook(obj: object, method: str) -> Hook | None:
    hook = getattr(obj, method, None)
    if hook is None:
        return None
    if not callable(hook):
        raise TypeError(f'interceptor {describe(obj)}: {method} is a {type(hook).__name__}, not a method; '
                        f'define it as def {method}(self, ..., call)')
    return hook  # type: ignore[no-any-return]


def _matcher(connections: str | Iterable[str] | None) -> Callable[[str], bool]:
    """Whether a connection's name is one of ``connections``: exact names are compared, globs matched."""
    if connections is None:
        return _every
    patterns = [connections] if isinstance(connections, str) else list(connections)
    if not patterns or not all(isinstance(pattern, str) and pattern for pattern in patterns):
        raise ValueError('connections: give a connection name, a glob (CRM *), a list of them, or None for every '
                         f'connection; got {connections!r}')
    names = frozenset(pattern for pattern in patterns if not _GLOB.search(pattern))
    globs = [pattern for pattern in patterns if _GLOB.search(pattern)]
    if not globs:
        return names.__contains__
    glob = re.compile('|'.join(fnmatch.translate(pattern) for pattern in globs))
    return lambda name: name in names or glob.match(name) is not None


def _every(name: str) -> bool:
    return True


def _run(label: str, method: str, hook: Hook, subject: Any, call: CallInfo) -> None:
    try:
        hook(subject, call)
    except Exception as error:
        # CallError escapes what the message quotes of the interceptor's own error.
        raise InterceptorError(f'interceptor {label} failed in {method}: {type(error).__name__}: {error}',
                               name=call.name, method=call.method, url=call.url,
                               cid=call.cid) from error
