"""Export and import: every template and security definition as one JSON or YAML document.

An export holds every setting, defaults included, so that a later change of a default cannot
alter what an import writes; secrets are left out, and each definition says whether it had them.
An import checks the whole document through the config models first, then writes it in one
transaction or not at all, with a history row per item written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zato_outconn.config import SECURITY_TYPES, OutconnConfig, SecurityConfig
from zato_outconn.exceptions import ConfigError, ImportRefused
from zato_outconn.store.history import diff
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition
from zato_outconn.store.outconns import Outconns
from zato_outconn.store.security_defs import public_settings
from zato_outconn.sync.changes import Change

FORMAT = 'zato-outconn'
FORMAT_VERSION = 1
MAX_IMPORT_ENV = 'ZATO_OUTCONN_MAX_IMPORT_BYTES'
DEFAULT_MAX_IMPORT = 10 * 1024 * 1024
ON_CONFLICT = ('fail', 'skip', 'overwrite')
# What an exported definition says of its secrets instead of holding them.
SECRET_FLAGS = ('secret_set', 'key_password_set')

Progress = Callable[[int, int], None]


def dump(document: Mapping[str, Any], output_format: str = 'json') -> str:
    if output_format == 'yaml':
        import yaml

        return str(yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, ensure_ascii=False) + '\n'


def load(data: str | bytes, *, limit: int | None = None) -> dict[str, Any]:
    """A document from JSON or YAML text, refused above the size limit (ZATO_OUTCONN_MAX_IMPORT_BYTES)."""
    limit = limit if limit is not None else int(os.environ.get(MAX_IMPORT_ENV) or DEFAULT_MAX_IMPORT)
    size = len(data.encode('utf-8') if isinstance(data, str) else data)
    if size > limit:
        raise ConfigError('file', f'is {size} bytes; an import takes {limit} at most ({MAX_IMPORT_ENV})')
    text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else data
    try:
        if text.lstrip().startswith('{'):
            document = json.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except ValueError as error:
        raise ConfigError('file', f'is not valid JSON: {error}') from None
    except Exception as error:  # noqa: BLE001 - yaml's errors share no base but YAMLError, imported lazily
        raise ConfigError('file', f'is not valid YAML: {type(error).__name__}: {error}') from None
    if not isinstance(document, dict) or document.get('format') != FORMAT:
        raise ConfigError('file', f'is not a zato-outconn export (it has no "format": "{FORMAT}")')
    if document.get('format_version') != FORMAT_VERSION:
        raise ConfigError('format_version', f'must be {FORMAT_VERSION}; got {document.get("format_version")!r}')
    return document


@dataclass
class ImportItem:
    """What an import does with one item of the document: create, update, unchanged, skip or error."""

    kind: str
    label: str
    name: str
    transport: str | None
    action: str = 'create'
    changes: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        if self.errors:
            return f'error      {self.label}: ' + '; '.join(f'{name}: {rule}' for name, rule in self.errors)
        text = f'{self.action:<10} {self.label}'
        if self.action == 'update':
            text += ': ' + '; '.join(f'{key} changed' if value == 'changed' else f'{key} {value[0]!r} -> {value[1]!r}'
                                     for key, value in self.changes.items())
        return text

    def as_dict(self) -> dict[str, Any]:
        return {'kind': self.kind, 'name': self.name, 'transport': self.transport, 'action': self.action,
                'changes': self.changes, 'errors': [{'field': name, 'message': rule} for name, rule in self.errors]}


@dataclass
class ImportReport:
    items: list[ImportItem]
    dry_run: bool
    written: bool = False

    @property
    def errors(self) -> list[tuple[str, str]]:
        return [(f'{item.label}: {name}', rule) for item in self.items for name, rule in item.errors]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            action = 'error' if item.errors else item.action
            counts[action] = counts.get(action, 0) + 1
        return counts

    def summary(self) -> str:
        counts = ', '.join(f'{count} {action}' for action, count in sorted(self.counts().items())) or 'nothing'
        outcome = 'written' if self.written else 'nothing written'
        doing = 'Would import' if self.dry_run else 'Refused' if self.errors else 'Imported'
        return f'{doing}: {counts} ({outcome})'

    def as_dict(self) -> dict[str, Any]:
        return {'dry_run': self.dry_run, 'written': self.written, 'counts': self.counts(),
                'items': [item.as_dict() for item in self.items]}


class Transfer(Outconns):
    """Export and import of everything the store holds but secrets."""

    def export_document(self) -> dict[str, Any]:
        with self._sessions() as session:
            definitions = session.scalars(select(SecurityDefinition).order_by(SecurityDefinition.name)).all()
            security = []
            for row in definitions:
                item: dict[str, Any] = public_settings(row)
                # The certificate is no secret; without it, an mtls definition could not be imported.
                item['client_cert'] = self._decrypted(row, tolerant=True, settings=['client_cert'])['client_cert']
                item.update({flag: getattr(row, flag.removesuffix('_set')) is not None for flag in SECRET_FLAGS})
                security.append(item)
        outconns = [dict(record.config) for record in self.list_outconns()]
        return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'security': security, 'outconns': outconns}

    def import_document(self, document: Mapping[str, Any], *, on_conflict: str = 'fail', dry_run: bool = False,
                        progress: Progress | None = None) -> ImportReport:
        """Check every item, then write them all in one transaction (unless dry_run), or raise
        ImportRefused naming each bad item and field, with nothing written."""
        if on_conflict not in ON_CONFLICT:
            raise ConfigError('on_conflict', f'must be one of {", ".join(ON_CONFLICT)}; got {on_conflict!r}')
        changes: list[Change] = []
        with self._transaction() as session:
            security = self._plan_security(session, _items(document, 'security'), on_conflict)
            outconns = self._plan_outconns(session, _items(document, 'outconns'), on_conflict, security)
            report = ImportReport([item for item, _ in security] + [item for item, _ in outconns], dry_run)
            if report.errors:
                raise ImportRefused(report.errors, report)
            if dry_run:
                return report
            total = len(report.items)
            for done, (item, values) in enumerate([*security, *outconns], 1):
                if item.action in ('create', 'update'):
                    changes.append(self._write(session, item, values, report))
                if progress is not None:
                    progress(done, total)
            report.written = True
        for change in changes:
            self._notify(change)
        return report

    # ------------------------------------------------------------------ planning

    def _plan_security(self, session: Session, raw_items: list[Any],
                       on_conflict: str) -> list[tuple[ImportItem, dict[str, Any]]]:
        planned: list[tuple[ImportItem, dict[str, Any]]] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_items):
            name = str(raw.get('name')) if isinstance(raw, dict) else '?'
            item = ImportItem('security', f'security[{index}] {name!r}', name, None)
            planned.append((item, {}))
            if not isinstance(raw, dict):
                item.errors.append(('item', 'must be a mapping of settings'))
                continue
            values = {key: value for key, value in raw.items() if key not in SECRET_FLAGS}
            try:
                config = SecurityConfig.from_input(values)
            except ConfigError as error:
                item.errors.extend(error.errors)
                continue
            planned[-1] = (item, values)
            if name in seen:
                item.errors.append(('name', 'appears more than once in the file'))
                continue
            seen.add(name)
            row = session.scalar(select(SecurityDefinition).where(SecurityDefinition.name == name))
            if row is not None:
                self._plan_conflict(item, on_conflict, 'a security definition')
                if item.action == 'update':
                    before = public_settings(row)
                    cert = self._decrypted(row, tolerant=True, settings=['client_cert'])['client_cert']
                    item.changes = diff(before, public_settings(config),
                                        ['client_cert'] if cert != config.client_cert else [])
                    item.action = 'update' if item.changes else 'unchanged'
        return planned

    def _plan_outconns(self, session: Session, raw_items: list[Any], on_conflict: str,
                       security: list[tuple[ImportItem, dict[str, Any]]]) -> list[tuple[ImportItem, dict[str, Any]]]:
        # The type of every definition the connections may name: the file's, else the database's.
        types = {row.name: row.sec_type for row in session.scalars(select(SecurityDefinition))}
        types.update({item.name: values['sec_type'] for item, values in security if values and not item.errors})
        planned: list[tuple[ImportItem, dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for index, raw in enumerate(raw_items):
            name = str(raw.get('name')) if isinstance(raw, dict) else '?'
            transport = str(raw.get('transport') or 'plain_http') if isinstance(raw, dict) else None
            item = ImportItem('outconn', f'outconns[{index}] {transport} {name!r}', name, transport)
            planned.append((item, {}))
            if not isinstance(raw, dict):
                item.errors.append(('item', 'must be a mapping of settings'))
                continue
            try:
                config = OutconnConfig.from_input(raw)
            except ConfigError as error:
                item.errors.extend(error.errors)
                continue
            planned[-1] = (item, dict(raw))
            key = (config.transport, config.name)
            if key in seen:
                item.errors.append(('name', 'appears more than once in the file'))
                continue
            seen.add(key)
            if config.security is not None:
                sec_type = types.get(config.security)
                if sec_type is None:
                    item.errors.append(('security', f'there is no security definition named {config.security!r} '
                                                    'in the file or the database'))
                    continue
                if SECURITY_TYPES[sec_type].in_envelope and config.transport != 'soap':
                    item.errors.append(('security', f'{config.security!r} is a {sec_type} definition, which goes '
                                                    'into SOAP envelopes; use it with soap connections only'))
                    continue
            row = self._find_outconn_row(session, config.transport, config.name)
            if row is not None:
                self._plan_conflict(item, on_conflict, f'a {config.transport} connection')
                if item.action == 'update':
                    item.changes = diff(dict(self._outconn_config(row)), dict(config))
                    item.action = 'update' if item.changes else 'unchanged'
        return planned

    @staticmethod
    def _plan_conflict(item: ImportItem, on_conflict: str, what: str) -> None:
        if on_conflict == 'fail':
            item.errors.append(('name', f'{what} named {item.name!r} exists already; import with --on-conflict '
                                        'skip to keep it or overwrite to replace its settings'))
        item.action = 'skip' if on_conflict == 'skip' else 'update'

    # ------------------------------------------------------------------ writing

    def _write(self, session: Session, item: ImportItem, values: dict[str, Any], report: ImportReport) -> Change:
        try:
            if item.kind == 'security':
                if item.action == 'create':
                    self._create_security_in(session, SecurityConfig.from_input(values))
                else:
                    self._edit_security_in(session, self._security_row(session, item.name), values)
                return Change('security', 'edit' if item.action == 'update' else 'create', item.name,
                              old_name=item.name)
            assert item.transport is not None
            if item.action == 'create':
                self._create_outconn_in(session, OutconnConfig.from_input(values))
            else:
                row = session.scalar(select(OutgoingConnection).where(
                    OutgoingConnection.transport == item.transport, OutgoingConnection.name == item.name))
                assert row is not None
                self._edit_outconn_in(session, row, values)
            return Change('outconn', 'edit' if item.action == 'update' else 'create', item.name, item.transport,
                          old_name=item.name)
        except ConfigError as error:
            # Checked against what is stored (a certificate against the stored key, say): the whole
            # import is refused, and the transaction that wrote the items before it rolls back.
            item.errors.extend(error.errors)
            raise ImportRefused(report.errors, report) from None


def _items(document: Mapping[str, Any], key: str) -> list[Any]:
    items = document.get(key, [])
    if not isinstance(items, list):
        raise ConfigError(key, 'must be a list of items')
    return items


__all__ = ['ImportItem', 'ImportReport', 'Transfer', 'dump', 'load']
