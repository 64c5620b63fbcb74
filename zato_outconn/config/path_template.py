"""URL path templates: ``/customers/{cust_id}/orders?api-version=2``.

A template is parsed once per text (the config's check and the connection share the parse) into
literal text and placeholder names, so that filling it on each call is a short loop with no parsing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from requests.utils import requote_uri

_TOKEN = re.compile(r'\{([^{}]*)\}')

# Values that would be read as dot-segments by the remote end, and so would move the request
# to another path, whatever encoding is used for them.
_DOT_SEGMENTS = frozenset(('.', '..'))


class TemplateError(ValueError):
    """The template text is malformed; the message says how."""


class DotSegment(ValueError):
    """A placeholder value is '.', '..' or empty: it would change the shape of the path."""


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
        return cls(tuple(literals), tuple(names), requote_uri(query))

    @staticmethod
    def _literal(text: str) -> str:
        if '{' in text or '}' in text:
            raise TemplateError('has an unmatched { or }')
        return requote_uri(text)

    def fill(self, params: Mapping[str, Any] | None) -> tuple[str, str]:
        """Return ``(path, query)`` for these params.

        Placeholders take their values from params, percent-encoded so that no value can leave its
        path segment; what is left of params becomes the query string. ``params`` is not changed.
        A missing placeholder (or None) raises ``KeyError`` with its name; '.', '..' or an empty value
        raises ``DotSegment``.
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
                value = str(raw)
                if value in _DOT_SEGMENTS or not value:
                    raise DotSegment(name)
                parts.append(quote(value, safe=''))
                parts.append(literals[index])
            path = ''.join(parts)
            rest: Mapping[str, Any] | None = {key: value for key, value in params.items()
                                              if key not in self.placeholders}
        else:
            path = literals[0]
            rest = params
        return path, self._query(rest)

    def _query(self, rest: Mapping[str, Any] | None) -> str:
        extra = urlencode(
            [(key, value) for key, value in rest.items() if value is not None], doseq=True) if rest else ''
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


@lru_cache(maxsize=4096)
def _parse(text: str) -> PathTemplate:
    # Templates are immutable, so one parse serves every config and connection with the same text.
    return PathTemplate._parse(text)
