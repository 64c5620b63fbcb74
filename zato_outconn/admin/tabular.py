"""CSV forms of lists and of the export document, and the document read back from its CSV.

An export in CSV has one row per item: a ``kind`` column (``security`` or ``outconn``), then every
setting of either kind; a row leaves the other kind's columns empty, and an import reads only the
columns of its own kind. Text is what the config models coerce from (``true``, ``10.0``); an empty
cell is an unset optional setting, or the empty text of a setting that is never unset.

Every CSV the admin writes is made to be opened in a spreadsheet, which runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) as a formula, such as ``=HYPERLINK(...)``
in a connection's name. As OWASP advises (and Symfony's CsvEncoder and csv-stringify's
``escape_formulas`` do), ``cell`` writes such a text after a single quote, which a spreadsheet shows
as text; a text that starts with a quote gets one more, so that ``document_from_csv`` can take exactly
one quote off the cells that have one before a formula character or another quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zato_outconn.config import SECRET_SETTINGS, OutconnConfig, SecurityConfig
from zato_outconn.exceptions import ConfigError, printable
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION, SECRET_FLAGS

# The columns of each kind of item in an export: its settings (secrets only as whether they were set).
SECURITY_COLUMNS = tuple(name for name in SecurityConfig.model_fields if name not in ('secret', 'key_password')) \
    + SECRET_FLAGS
OUTCONN_COLUMNS = tuple(OutconnConfig.model_fields)
KINDS = {'security': SECURITY_COLUMNS, 'outconn': OUTCONN_COLUMNS}
EXPORT_COLUMNS = ('kind', *dict.fromkeys((*SECURITY_COLUMNS, *OUTCONN_COLUMNS)))
# What a spreadsheet reads as the start of a formula: OWASP's list, with the full-width forms that
# some spreadsheets read as the same; and the quote that makes a cell text instead.
FORMULA_STARTS = ('=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20')
TEXT_QUOTE = "'"
_QUOTED = (*FORMULA_STARTS, TEXT_QUOTE)


def cell(value: Any) -> str:
    """A value as a CSV cell holds it, never a formula to a spreadsheet."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list | tuple):
        text = ','.join(str(item) for item in value)
    else:
        text = str(value)
    return TEXT_QUOTE + text if text.startswith(_QUOTED) else text


def cell_text(text: str) -> str:
    """What a cell read back stands for: the text ``cell`` wrote, one defusing quote taken off."""
    return text[1:] if text.startswith(TEXT_QUOTE) and text[1:].startswith(_QUOTED) else text


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\r\n')
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


def export_csv(document: Mapping[str, Any]) -> str:
    rows = [{'kind': 'security', **item} for item in document.get('security', [])]
    rows += [{'kind': 'outconn', **item} for item in document.get('outconns', [])]
    return csv_text(EXPORT_COLUMNS, rows)


def document_from_csv(text: str) -> dict[str, Any]:
    """The export document a CSV export stands for, its cells separated by commas or, as a spreadsheet
    saves CSV where the comma is the decimal mark, semicolons. A row of no known kind, or with more
    cells than the first row names, is refused, naming it."""
    lines = io.StringIO(text)
    delimiter, first = _delimiter(lines.readline())
    if not first:
        # Excel's sep= line says what separates the cells, and names no column.
        lines = io.StringIO(text.split('\n', 1)[1] if '\n' in text else '')
    else:
        lines.seek(0)
    reader = csv.DictReader(lines, delimiter=delimiter)
    if reader.fieldnames is None or 'kind' not in reader.fieldnames:
        raise ConfigError('file', 'is not a zato-outconn CSV export: its first row must name the columns, '
                                  'kind among them, separated by commas or semicolons')
    _check_columns(reader.fieldnames)
    document: dict[str, Any] = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [], 'outconns': []}
    for number, row in enumerate(reader, 2 if first else 3):
        if None in row:
            # DictReader keeps what is past the last column under None; dropped, it would be a value lost.
            raise ConfigError('file', f'row {number} has {len(row[None])} more cell(s) than the first row '
                                      f'names columns ({len(reader.fieldnames)}); quote a cell that holds a '
                                      f'{delimiter!r}, or remove the cells past the last column')
        kind = row.get('kind')
        if kind not in KINDS:
            raise ConfigError('kind', f'row {number} has kind {kind!r}; it must be security or outconn')
        known = KINDS[kind]
        item = {key: cell_text(value) for key, value in row.items() if key in known and value is not None}
        document['security' if kind == 'security' else 'outconns'].append(item)
    return document


def _check_columns(names: Sequence[str]) -> None:
    """Every column one of an export's, each once: an unknown one (a setting misspelt) or a second one
    of the same name would otherwise be dropped without a word, its values with it."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError('file', f'names the column {printable(name)!r} twice; keep one')
        seen.add(name)
        if name in SECRET_SETTINGS:
            raise ConfigError('file', f'has a {name} column; a CSV export holds no secrets, and an import takes '
                                      'none from one: set them afterwards (security set-password), or import JSON')
        if name not in _COLUMN_NAMES:
            raise ConfigError('file', f'has a column {printable(name)[:100]!r}, which is no setting of a '
                                      f'connection or security definition; the columns are {", ".join(EXPORT_COLUMNS)}')


_COLUMN_NAMES = frozenset(EXPORT_COLUMNS)


def _delimiter(header: str) -> tuple[str, bool]:
    """What separates the cells, read from the first line, and whether that line is the header (it is
    not when it is Excel's ``sep=;``). Column names hold neither commas nor semicolons."""
    line = header.rstrip('\r\n')
    if line.lower().startswith('sep=') and len(line) == 5 and line[4] in ',;':
        return line[4], False
    return (';' if line.count(';') > line.count(',') else ','), True
