"""URL path templates: ``/customers/{cust_id}/orders?api-version=2``.

A template is parsed once per text (the config's check and the connection share the parse) into
literal text and placeholder names, so that filling it on each call is a short loop with no parsing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus
from uuid import UUID

from zato_outconn.exceptions import RequestError

_TOKEN = re.compile(r'\{([^{}]*)\}')
_ESCAPE = re.compile(r'%([0-9A-Fa-f]{2})')
_DOT_ESCAPE = re.compile(r'%2e', re.IGNORECASE)

# What a template's literal text may hold as it is: RFC 3986 pchar and '/' in the path, and '?' too
# in the query. The same sets urllib3 encodes by when it sends, so what is built here is what goes out.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + '?'

# Values that would be read as dot-segments by the remote end, and so would move the request
# to another path, whatever encoding is used for them.
_DOT_SEGMENTS = frozenset(('.', '..'))

# Values up to this many characters have their percent-encoding kept (ids, codes, flags: the same few
# come back call after call); longer ones are encoded each time, so that the caches stay small.
_CACHED_LENGTH = 64
_CACHED_VALUES = 2048


class TemplateError(ValueError):
    """The template text is malformed; the message says how."""


class DotSegment(ValueError):
    """A placeholder value is '.', '..' or empty: it would change the shape of the path."""


class NoTextForm(TypeError):
    """A value has no one text form to put into a URL or form (bytes, bool, nan, a dict, an object...)."""


class BadParameter(RequestError):
    """A placeholder or query value in params cannot be sent; the message names the parameter.

    A RequestError itself, so that it is one wherever it is caught; the connection adds the call.
    """

    def __init__(self, parameter: str, why: str, **context: str) -> None:
        self.parameter = parameter
        self.why = why
        # repr: the name is shown with any control character in it escaped.
        super().__init__(f'params[{parameter!r}] {why}', **context)


def text_of(value: object) -> str:
    """The text of a value sent in a URL or a form: str, int, finite float, Decimal or UUID.

    Anything else would go out as its repr (b'..', True, nan, [..], <object at 0x..>), which no
    remote end means; ``NoTextForm`` says what the value is instead. Subclasses (enums) send their
    value, not their name.
    """
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode('utf-8')
            except UnicodeEncodeError as error:
                raise NoTextForm(f'has a lone surrogate at position {error.start}, which UTF-8 cannot '
                                 'encode; fix the text') from None
        return str.__str__(value)
    if isinstance(value, bool):
        raise NoTextForm('is a bool, which has no one text form; pass the text the remote end expects, '
                         "such as 'true' or '1'")
    if isinstance(value, int):
        try:
            return int.__repr__(value)
        except ValueError:
            # More digits than Python turns into text by default (sys.set_int_max_str_digits).
            raise NoTextForm('is an int with too many digits to send; pass it as text') from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NoTextForm(f'is {value}, which no remote end reads as a number; pass a finite number or text')
        return float.__repr__(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NoTextForm(f'is Decimal({str(value)!r}), which no remote end reads as a number; pass a finite '
                             'number or text')
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if value is None:
        raise NoTextForm('holds None; leave it out')
    hint = ' (decode bytes first)' if isinstance(value, bytes | bytearray | memoryview) else ''
    raise NoTextForm(f'is of type {type(value).__name__}, which has no text form; pass str, int, float, Decimal '
                     f'or UUID{hint}')


def _param_text(name: str, value: object) -> str:
    try:
        return text_of(value)
    except NoTextForm as error:
        raise BadParameter(name, str(error)) from None


def _requote(text: str, safe: str) -> str:
    """Percent-encode what cannot be sent as it is, keeping the escapes already there as written.

    requests' requote_uri would decode escapes of unreserved characters, so '%2e%2e' would go out as
    '..'. Only the hex digits are upper-cased, as urllib3 does on sending (RFC 3986 says the same);
    a '%' that starts no escape is sent as %25.
    """
    parts: list[str] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        parts.append(quote(text[position:match.start()], safe=safe))
        parts.append('%' + match.group(1).upper())
        position = match.end()
    parts.append(quote(text[position:], safe=safe))
    return ''.join(parts)


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A parsed URL path with ``{name}`` placeholders and an optional static query string."""

    # Literal parts, already percent-encoded; there is one more than there are placeholders.
    literals: tuple[str, ...]
    placeholders: tuple[str, ...]
    static_query: str

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        return _parse(text)

    @classmethod
    def _parse(cls, text: str) -> PathTemplate:
        if not text.startswith('/'):
            raise TemplateError('must start with /')
        if '#' in text:
            raise TemplateError('must not contain a fragment (#)')
        path, _, query = text.partition('?')
        if '{' in query or '}' in query:
            raise TemplateError('placeholders are allowed in the path only, not after ?')

        literals: list[str] = []
        names: list[str] = []
        position = 0
        for match in _TOKEN.finditer(path):
            literals.append(cls._literal(path[position:match.start()]))
            name = match.group(1)
            if not name.isidentifier():
                raise TemplateError(
                    f'placeholder {{{name}}} is not a valid name; use letters, digits and _, '
                    'not starting with a digit')
            if name in names:
                raise TemplateError(f'placeholder {{{name}}} appears more than once')
            names.append(name)
            position = match.end()
        literals.append(cls._literal(path[position:]))
        # A placeholder's value is never empty, '.' or '..', so a segment holding one is no dot-segment.
        for segment in _TOKEN.sub('x', path).split('/'):
            if _DOT_ESCAPE.sub('.', segment) in _DOT_SEGMENTS:
                raise TemplateError('must not contain . or .. segments (nor %2e forms of them), which the remote '
                                    'end resolves to another path; write the path they lead to')
        return cls(tuple(literals), tuple(names), cls._encoded(query, _QUERY_SAFE))

    @classmethod
    def _literal(cls, text: str) -> str:
        if '{' in text or '}' in text:
            raise TemplateError('has an unmatched { or }')
        return cls._encoded(text, _PATH_SAFE)

    @staticmethod
    def _encoded(text: str, safe: str) -> str:
        try:
            return _requote(text, safe)
        except UnicodeEncodeError as error:
            raise TemplateError(f'has a lone surrogate at position {error.start}, which UTF-8 cannot encode; '
                                'fix the text') from None

    def fill(self, params: Mapping[str, Any] | None) -> tuple[str, str]:
        """Return ``(path, query)`` for these params.

        Placeholders take their values from params, percent-encoded so that no value can leave its
        path segment; what is left of params becomes the query string. ``params`` is not changed.
        A missing placeholder (or None) raises ``KeyError`` with its name; '.', '..' or an empty value
        raises ``DotSegment``; a value with no text form (see ``text_of``) raises ``BadParameter``.
        """
        literals = self.literals
        if self.placeholders:
            if params is None:
                raise KeyError(self.placeholders[0])
            parts = [literals[0]]
            for index, name in enumerate(self.placeholders, 1):
                raw = params[name]
                if raw is None:
                    # None fills no path segment; the query string leaves None out for the same reason.
                    raise KeyError(name)
                value = _param_text(name, raw)
                if value in _DOT_SEGMENTS or not value:
                    raise DotSegment(name)
                parts.append(_segment_quoted(value) if len(value) < _CACHED_LENGTH else quote(value, safe=''))
                parts.append(literals[index])
            path = ''.join(parts)
            rest: Mapping[str, Any] | None = {key: value for key, value in params.items()
                                              if key not in self.placeholders}
        else:
            path = literals[0]
            rest = params
        return path, self._query(rest)

    def _query(self, rest: Mapping[str, Any] | None) -> str:
        extra = _urlencoded(_query_pairs(rest)) if rest else ''
        if self.static_query and extra:
            return f'{self.static_query}&{extra}'
        return self.static_query or extra

    @property
    def ping_path(self) -> str:
        """The path up to the first placeholder: what ping calls, as it has no params to fill in."""
        path = self.literals[0]
        if self.placeholders:
            # Cut back to the last whole segment before the placeholder.
            path = path[:path.rfind('/') + 1]
        return path + (f'?{self.static_query}' if self.static_query else '')


def _query_pairs(rest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query's (name, text) pairs: None leaves a name out, a list or tuple repeats it."""
    pairs: list[tuple[str, str]] = []
    for key, value in rest.items():
        if value is None:
            continue
        name = _param_text(repr(key), key) if not isinstance(key, str) else key
        if isinstance(value, list | tuple):
            pairs.extend((name, _param_text(name, item)) for item in value)
        else:
            pairs.append((name, _param_text(name, value)))
    return pairs


@lru_cache(maxsize=_CACHED_VALUES)
def _segment_quoted(text: str) -> str:
    # What fill puts in a path segment: everything but unreserved characters encoded, '/' too.
    return quote(text, safe='')


@lru_cache(maxsize=_CACHED_VALUES)
def _plus_quoted(text: str) -> str:
    return quote_plus(text, safe='')


def _urlencoded(pairs: list[tuple[str, str]]) -> str:
    """``urlencode(pairs)``, byte for byte: quote_plus of each name and value, joined by = and &."""
    return '&'.join([f'{_plus(name)}={_plus(value)}' for name, value in pairs])


def _plus(text: str) -> str:
    # str() as urlencode does: a str subclass may have a __str__ of its own. The cache takes plain str only,
    # whose equal values always encode the same.
    if type(text) is not str:
        text = str(text)
    if len(text) < _CACHED_LENGTH and type(text) is str:
        return _plus_quoted(text)
    return quote_plus(text, safe='')


@lru_cache(maxsize=4096)
def _parse(text: str) -> PathTemplate:
    # Templates are immutable, so one parse serves every config and connection with the same text.
    return PathTemplate._parse(text)
