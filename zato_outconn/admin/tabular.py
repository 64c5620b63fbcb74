"""CSV forms of lists and of the export document, and the document read back from its CSV.

An export in CSV has one row per item: a ``kind`` column (``security`` or ``outconn``), then every
setting of either kind; a row leaves the other kind's columns empty, and an import reads only the
columns of its own kind. Text is what the config models coerce from (``true``, ``10.0``); an empty
cell is an unset optional setting, or the empty text of a setting that is never unset.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zato_outconn.config import OutconnConfig, SecurityConfig
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.transfer import FORMAT, FORMAT_VERSION, SECRET_FLAGS

# The columns of each kind of item in an export: its settings (secrets only as whether they were set).
SECURITY_COLUMNS = tuple(name for name in SecurityConfig.model_fields if name not in ('secret', 'key_password')) \
    + SECRET_FLAGS
OUTCONN_COLUMNS = tuple(OutconnConfig.model_fields)
KINDS = {'security': SECURITY_COLUMNS, 'outconn': OUTCONN_COLUMNS}
EXPORT_COLUMNS = ('kind', *dict.fromkeys((*SECURITY_COLUMNS, *OUTCONN_COLUMNS)))


def cell(value: Any) -> str:
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list | tuple):
        return ','.join(str(item) for item in value)
    return str(value)


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
    """The export document a CSV export stands for; a row of no known kind is refused, naming it."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or 'kind' not in reader.fieldnames:
        raise ConfigError('file', 'is not a zato-outconn CSV export: its first row must name the columns, '
                                  'kind among them')
    document: dict[str, Any] = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': [], 'outconns': []}
    for number, row in enumerate(reader, 2):
        kind = row.get('kind')
        if kind not in KINDS:
            raise ConfigError('kind', f'row {number} has kind {kind!r}; it must be security or outconn')
        known = KINDS[kind]
        item = {key: value for key, value in row.items() if key in known and value is not None}
        document['security' if kind == 'security' else 'outconns'].append(item)
    return document
