"""Export and import: every template and security definition as one JSON or YAML document.

An export holds every setting, defaults included, so that a later change of a default cannot
alter what an import writes; secrets are left out, and each definition says whether it had them.
An import checks the whole document through the config models first, then writes it in one
transaction or not at all, with a history row per item written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert, null, select
from sqlalchemy.orm import Session

from zato_outconn.config import SECRET_SETTINGS, SECURITY_TYPES, OutconnConfig, SecurityConfig
from zato_outconn.exceptions import ConfigError, ImportRefused, printable
from zato_outconn.store.history import CHANGED, diff
from zato_outconn.store.models import OutgoingConnection, SecurityDefinition, utc_now
from zato_outconn.store.outconns import Outconns, outconn_columns
from zato_outconn.store.security_defs import SEC_TYPE_FIXED, created_security, public_settings, secret_given
from zato_outconn.sync.changes import Change

FORMAT = 'zato-outconn'
FORMAT_VERSION = 1
MAX_IMPORT_ENV = 'ZATO_OUTCONN_MAX_IMPORT_BYTES'
DEFAULT_MAX_IMPORT = 10 * 1024 * 1024
ON_CONFLICT = ('fail', 'skip', 'overwrite')
# What an exported definition says of its secrets instead of holding them.
SECRET_FLAGS = ('secret_set', 'key_password_set')
# New items written to one statement (the driver splits it further if it must), and names to one query.
BATCH_SIZE = 1000

Progress = Callable[[int, int], None]


def dump(document: Mapping[str, Any], output_format: str = 'json') -> str:
    if output_format == 'yaml':
        import yaml

        return str(yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, ensure_ascii=False) + '\n'


def load(data: str | bytes, *, limit: int | None = None) -> dict[str, Any]:
    """A document from JSON or YAML text, refused above the size limit (ZATO_OUTCONN_MAX_IMPORT_BYTES)."""
    limit = limit if limit is not None else _import_limit()
    size = len(data.encode('utf-8') if isinstance(data, str) else data)
    if size > limit:
        raise ConfigError('file', f'is {size} bytes; an import takes {limit} at most ({MAX_IMPORT_ENV})')
    try:
        text = data.decode('utf-8') if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        # Replaced, the bytes would be imported as U+FFFD: a name or a value changed without a word.
        raise ConfigError('file', f'is not UTF-8 text (at byte {error.start}); save it as UTF-8') from None
    # A byte order mark (some editors write one) is no part of either format.
    text = text.removeprefix('\ufeff')
    # A bracket starts JSON; YAML's flow forms start so too, but an export is never one of those.
    as_json = text.lstrip().startswith(('{', '['))
    try:
        if as_json:
            document = json.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except RecursionError:
        # Both parsers recurse per level; an export is four levels deep.
        raise ConfigError('file', f'is {"JSON" if as_json else "YAML"} nested too deeply to read (an export is '
                                  'a few levels deep): it is not a zato-outconn export') from None
    except ValueError as error:
        raise ConfigError('file', f'is not valid JSON: {error}') from None
    except Exception as error:  # noqa: BLE001 - yaml's errors share no base but YAMLError, imported lazily
        raise ConfigError('file', f'is not valid YAML: {_yaml_problem(error)}') from None
    if not isinstance(document, dict) or document.get('format') != FORMAT:
        raise ConfigError('file', f'is not a zato-outconn export (it has no "format": "{FORMAT}")')
    if document.get('format_version') != FORMAT_VERSION:
        raise ConfigError('format_version', f'must be {FORMAT_VERSION}; got {document.get("format_version")!r}')
    return document


def _import_limit() -> int:
    """ZATO_OUTCONN_MAX_IMPORT_BYTES, else 10 MiB; one that is no whole number of at least 1 is refused
    naming the variable (the admin checks it so at start; the command line reads it here)."""
    raw = os.environ.get(MAX_IMPORT_ENV)
    if not raw:
        return DEFAULT_MAX_IMPORT
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigError(MAX_IMPORT_ENV, f'must be a whole number of bytes, at least 1; got {printable(raw)[:40]!r}')
    return int(value)


def _yaml_problem(error: Exception) -> str:
    """What PyYAML found wrong, and where, without the snippet of the file its message quotes: the
    line may hold a secret."""
    problem = getattr(error, 'problem', None)
    mark = getattr(error, 'problem_mark', None)
    if not isinstance(problem, str) or mark is None:
        # A reader's error names a character and its position, never the text around it.
        return f'{type(error).__name__}: {printable(str(error))[:200]}'
    return f'{printable(problem)[:200]} (line {mark.line + 1}, column {mark.column + 1})'


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
        # A new definition's changes are the secrets it is created with, which its settings do not show.
        changed = 'set' if self.action == 'create' else 'changed'
        if self.changes and self.action in ('create', 'update'):
            text += ': ' + '; '.join(f'{key} {changed}' if value == CHANGED else f'{key} {value[0]!r} -> {value[1]!r}'
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
        ImportRefused naming each bad item and field, with nothing written.

        New items are written thousands of rows to a statement, with their history rows, one bump of
        the change counter for them all and one notification; other processes still see each change.
        ``progress(done, total)`` is called as the items are written, a batch at a time.
        """
        if on_conflict not in ON_CONFLICT:
            raise ConfigError('on_conflict', f'must be one of {", ".join(ON_CONFLICT)}; got {on_conflict!r}')
        with self._transaction() as session:
            security = self._plan_security(session, _items(document, 'security'), on_conflict)
            outconns = self._plan_outconns(session, _items(document, 'outconns'), on_conflict, security)
            report = ImportReport([plan.item for plan in security] + [plan.item for plan in outconns], dry_run)
            if report.errors:
                raise ImportRefused(report.errors, report)
            if dry_run:
                return report
            counted = _Progress(progress, len(report.items))
            with self._changes_batched(session):
                changes = self._write_security(session, security, report, counted)
                changes += self._write_outconns(session, outconns, report, counted)
            counted.finish()
            report.written = True
        for change in changes:
            self._notify(change)
        return report

    # ------------------------------------------------------------------ planning

    def _plan_security(self, session: Session, raw_items: list[Any], on_conflict: str) -> list[_Planned]:
        names = {str(raw.get('name')) for raw in raw_items if isinstance(raw, dict)}
        stored = {row.name: row for row in _rows_named(session, SecurityDefinition, names)}
        planned: list[_Planned] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_items):
            name = str(raw.get('name')) if isinstance(raw, dict) else '?'
            plan = _Planned(ImportItem('security', f'security[{index}] {name!r}', name, None))
            planned.append(plan)
            item = plan.item
            if not isinstance(raw, dict):
                item.errors.append(('item', 'must be a mapping of settings'))
                continue
            values = {key: value for key, value in raw.items() if key not in SECRET_FLAGS}
            try:
                config = SecurityConfig.from_input(values)
            except ConfigError as error:
                item.errors.extend(error.errors)
                continue
            plan.values, plan.config = values, config
            if name in seen:
                item.errors.append(('name', 'appears more than once in the file'))
                continue
            seen.add(name)
            # The secrets the file holds: each is written, and the report says so, never showing it.
            secrets = [setting for setting in SECRET_SETTINGS if secret_given(values.get(setting))]
            row = stored.get(name)
            if row is None:
                item.changes = dict.fromkeys(secrets, CHANGED)
            else:
                plan.row = row
                self._plan_conflict(item, on_conflict, 'a security definition')
                if item.action == 'update' and config.sec_type != row.sec_type:
                    # As the store refuses the edit itself: a dry run says so too, rather than "update".
                    item.errors.append(('sec_type', SEC_TYPE_FIXED))
                elif item.action == 'update':
                    replaced = self._replaced_secrets(row, config, secrets)
                    # A secret the same as the stored one is not written again, nor recorded as a change.
                    plan.values = {key: value for key, value in values.items()
                                   if key not in SECRET_SETTINGS or key in replaced}
                    item.changes = diff(public_settings(row), public_settings(config), replaced)
                    item.action = 'update' if item.changes else 'unchanged'
        return planned

    def _replaced_secrets(self, row: SecurityDefinition, config: SecurityConfig, secrets: list[str]) -> list[str]:
        """The encrypted settings an update writes: the secrets given that differ from the stored ones,
        and the certificate if it does; as ``_edit_security_in`` records them."""
        current = self._decrypted(row, tolerant=True)
        replaced = [setting for setting in secrets if getattr(config, setting) != current[setting]]
        if 'secret' in replaced and 'key_password' not in replaced and ('key_password' in secrets
                                                                        or current['key_password']):
            # A key's password goes with the key: written with a new key, or dropped if none came with it.
            replaced.append('key_password')
        return replaced + (['client_cert'] if current['client_cert'] != config.client_cert else [])

    def _plan_outconns(self, session: Session, raw_items: list[Any], on_conflict: str,
                       security: list[_Planned]) -> list[_Planned]:
        # The type of every definition the connections may name: the file's, else the database's.
        types = dict(session.execute(select(SecurityDefinition.name, SecurityDefinition.sec_type)).all())
        types.update({plan.item.name: plan.values['sec_type'] for plan in security
                      if plan.config is not None and not plan.item.errors})
        names = {str(raw.get('name')) for raw in raw_items if isinstance(raw, dict)}
        stored = {(row.transport, row.name): row for row in _rows_named(session, OutgoingConnection, names)}
        planned: list[_Planned] = []
        seen: set[tuple[str, str]] = set()
        for index, raw in enumerate(raw_items):
            name = str(raw.get('name')) if isinstance(raw, dict) else '?'
            transport = str(raw.get('transport') or 'plain_http') if isinstance(raw, dict) else None
            plan = _Planned(ImportItem('outconn', f'outconns[{index}] {transport} {name!r}', name, transport))
            planned.append(plan)
            item = plan.item
            if not isinstance(raw, dict):
                item.errors.append(('item', 'must be a mapping of settings'))
                continue
            try:
                config = OutconnConfig.from_input(raw)
            except ConfigError as error:
                item.errors.extend(error.errors)
                continue
            plan.values, plan.config = dict(raw), config
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
            row = stored.get(key)
            if row is not None:
                plan.row = row
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

    def _write_security(self, session: Session, planned: list[_Planned], report: ImportReport,
                        progress: _Progress) -> list[Change]:
        def created(plan: _Planned) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            config = plan.security_config
            return self._new_security_columns(config), *created_security(config)

        return self._write_kind(session, SecurityDefinition, planned, created, self._edit_security_in, report,
                                progress)

    def _write_outconns(self, session: Session, planned: list[_Planned], report: ImportReport,
                        progress: _Progress) -> list[Change]:
        # Every definition a new connection may use exists by now: the file's were written first.
        security_ids = dict(session.execute(select(SecurityDefinition.name, SecurityDefinition.id)).all())

        def created(plan: _Planned) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            config = plan.outconn_config
            settings = dict(config)
            columns = {**outconn_columns(config), 'security_id': security_ids.get(config.security or '')}
            return columns, diff({}, settings), settings

        return self._write_kind(session, OutgoingConnection, planned, created, self._edit_outconn_in, report,
                                progress)

    def _write_kind(self, session: Session, model: type[SecurityDefinition | OutgoingConnection],
                    planned: list[_Planned], created: Callable[[_Planned], tuple[dict[str, Any], ...]],
                    edit: Callable[[Session, Any, Mapping[str, Any]], object], report: ImportReport,
                    progress: _Progress) -> list[Change]:
        """New items of one kind in bulk, with their history rows; then updates one by one, each checked
        against what is stored. ``created`` gives a new item's columns, history changes and settings."""
        kind = 'security' if model is SecurityDefinition else 'outconn'
        changes: list[Change] = []
        for batch in _batches([plan for plan in planned if plan.item.action == 'create']):
            rows = [created(plan) for plan in batch]
            ids = self._insert_rows(session, model, [columns for columns, _, _ in rows])
            for object_id, plan, (_, changed, settings) in zip(ids, batch, rows, strict=True):
                self._record_change(session, kind=kind, object_id=object_id, name=plan.item.name,
                                    transport=plan.item.transport, version=1, action='create', changes=changed,
                                    settings=settings)
                changes.append(plan.change('create'))
            progress.add(len(batch))
        for plan in planned:
            if plan.item.action == 'update':
                assert isinstance(plan.row, model)
                with _refusing(plan.item, report):
                    edit(session, plan.row, plan.values)
                changes.append(plan.change('edit'))
            progress.add(plan.item.action != 'create')
        return changes

    @staticmethod
    def _insert_rows(session: Session, model: type[SecurityDefinition | OutgoingConnection],
                     rows: list[dict[str, Any]]) -> list[int]:
        """Insert new rows (version 1) as one executemany; their ids, in order."""
        now = utc_now()
        for row in rows:
            row.update(version=1, created_at=now, updated_at=now)
        table = model.__table__
        assert isinstance(table, Table)
        # No RETURNING: with it, the rows would go as a few huge statements, which psycopg takes
        # seconds to parse; without it, as one prepared statement, pipelined. The ids are read after.
        session.execute(insert(table), rows)
        keys = [(row.get('transport'), row['name']) for row in rows]
        query = select(table.c.transport if 'transport' in table.c else null(), table.c.name, table.c.id) \
            .where(table.c.name.in_([name for _, name in keys]))
        ids = {(transport, name): object_id for transport, name, object_id in session.execute(query)}
        return [ids[key] for key in keys]


@dataclass
class _Planned:
    """One item of the document as planned: its report line, its input, its checked config, its stored row."""

    item: ImportItem
    values: dict[str, Any] = field(default_factory=dict)
    config: SecurityConfig | OutconnConfig | None = None
    row: SecurityDefinition | OutgoingConnection | None = None

    def change(self, action: str) -> Change:
        return Change(self.item.kind, action, self.item.name, self.item.transport, old_name=self.item.name)

    @property
    def security_config(self) -> SecurityConfig:
        assert isinstance(self.config, SecurityConfig)
        return self.config

    @property
    def outconn_config(self) -> OutconnConfig:
        assert isinstance(self.config, OutconnConfig)
        return self.config


class _Progress:
    """Counts the items written and tells the caller's progress callback, at most once a batch."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self._callback, self._total = callback, total
        self._done = self._told = 0

    def add(self, count: int) -> None:
        self._done += count
        if self._callback is not None and self._done - self._told >= min(BATCH_SIZE, self._total - self._told):
            self.finish()

    def finish(self) -> None:
        if self._callback is not None and self._done != self._told:
            self._told = self._done
            self._callback(self._done, self._total)


@contextmanager
def _refusing(item: ImportItem, report: ImportReport) -> Iterator[None]:
    """A write refused against what is stored (a certificate against the stored key, say) refuses the
    whole import: the transaction that wrote the items before it rolls back."""
    try:
        yield
    except ConfigError as error:
        item.errors.extend(error.errors)
        raise ImportRefused(report.errors, report) from None


def _batches(planned: list[_Planned]) -> Iterator[list[_Planned]]:
    for start in range(0, len(planned), BATCH_SIZE):
        yield planned[start:start + BATCH_SIZE]


def _rows_named(session: Session, model: type[SecurityDefinition | OutgoingConnection],
                names: set[str]) -> list[Any]:
    """The stored rows with these names, a bounded number of names to a query.

    The names stored are read first, in one query of no parameters: most imports create, and the
    rows of names not stored would cost a thousand parameters a query to find absent.
    """
    ordered = sorted(names.intersection(session.scalars(select(model.name))))
    rows: list[Any] = []
    for start in range(0, len(ordered), BATCH_SIZE):
        query = select(model).where(model.name.in_(ordered[start:start + BATCH_SIZE]))
        rows += session.scalars(query).unique().all()
    return rows


def _items(document: Mapping[str, Any], key: str) -> list[Any]:
    items = document.get(key, [])
    if not isinstance(items, list):
        raise ConfigError(key, 'must be a list of items')
    return items


__all__ = ['ImportItem', 'ImportReport', 'Transfer', 'dump', 'load']
