"""How commands print: a table or fields for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import click

FORMATS = ('table', 'json')


def format_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option('--format', 'output_format', type=click.Choice(FORMATS), default='table',
                        show_default=True, help='Table for people, json for scripts.')(function)


def emit(output_format: str, data: Any, table: Callable[[], str]) -> None:
    if output_format == 'json':
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(table())


def render_table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    text_rows = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in text_rows)) if text_rows else len(header)
              for i, header in enumerate(headers)]
    lines = ['  '.join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    lines += ['  '.join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
              for row in text_rows]
    return '\n'.join(lines) if text_rows else lines[0] + '\n(none)'


def render_fields(values: Mapping[str, Any]) -> str:
    width = max(len(key) for key in values)
    return '\n'.join(f'{key.ljust(width)}  {_cell(value)}' for key, value in values.items())


def _cell(value: Any) -> str:
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, list | tuple):
        return ', '.join(str(item) for item in value) or '-'
    return str(value)
