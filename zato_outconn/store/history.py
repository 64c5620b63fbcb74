"""History: one row per change of a template or security definition, and the change counter.

Every write of the store records, in its own transaction, who changed what, the diff as
``{field: [old, new]}`` (secrets only as ``"changed"``) and the settings after the change (no
secrets), and bumps the change counter, which other processes poll to learn that something
changed. The actor is the store's (``local:<os user>`` unless set) or, within ``acting_as``,
the admin user's or token's.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from zato_outconn.exceptions import NotFound
from zato_outconn.store.base import StoreBase
from zato_outconn.store.models import MAX_INTEGER, Base, ChangeCounter, HistoryEntry, utc_now
from zato_outconn.store.records import utc
from zato_outconn.sync.changes import CHANNEL

# What a secret's change reads as: never its value, nor its ciphertext.
CHANGED = 'changed'

_ACTOR: ContextVar[str | None] = ContextVar('zato_outconn_actor', default=None)
# Where a session keeps the changes of an open batch (see History._changes_batched).
_BATCH = 'zato_outconn_changes'
# Written as a table, thousands of rows to a statement, with no ORM objects to build.
_HISTORY = Base.metadata.tables[HistoryEntry.__tablename__]


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No name for this uid (a container's, say).
        return 'unknown'


@dataclass(frozen=True)
class HistoryRecord:
    """One version of an object: who made it, when, how, what changed, and its settings then."""

    kind: str
    object_id: int
    name: str
    transport: str | None
    version: int
    change: int
    changed_at: datetime
    changed_by: str
    action: str
    changes: dict[str, Any]
    settings: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {'kind': self.kind, 'id': self.object_id, 'name': self.name, 'transport': self.transport,
                'version': self.version, 'change': self.change, 'changed_at': self.changed_at.isoformat(),
                'changed_by': self.changed_by, 'action': self.action, 'changes': self.changes}


def diff(before: Mapping[str, Any], after: Mapping[str, Any], secrets_changed: Iterable[str] = ()) -> dict[str, Any]:
    """``{field: [old, new]}`` of what differs, and each changed secret as "changed"."""
    changes: dict[str, Any] = {key: [before.get(key), after.get(key)] for key in after
                               if before.get(key) != after.get(key)}
    changes.update({name: CHANGED for name in secrets_changed})
    return changes


def edit_action(changes: Mapping[str, Any]) -> str:
    """What an edit did, in one word: a rename, switching the connection on or off, or an edit."""
    if 'name' in changes:
        return 'rename'
    if set(changes) == {'is_active'}:
        return 'activate' if changes['is_active'][1] else 'deactivate'
    return 'edit'


@dataclass(frozen=True)
class ChangeRow:
    """One committed change, as other processes learn of it: never settings or secrets."""

    change: int
    kind: str
    object_id: int
    version: int
    action: str

    def payload(self) -> str:
        return json.dumps({'change': self.change, 'kind': self.kind, 'id': self.object_id, 'version': self.version,
                           'action': self.action})


class History(StoreBase):
    """Writes and reads the history rows and the change counter."""

    actor: str | None = None

    @contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        """Changes made within are recorded as made by ``actor`` (``admin:alice``, ``token:ci-bot``)."""
        token = _ACTOR.set(actor)
        try:
            yield
        finally:
            _ACTOR.reset(token)

    def current_actor(self) -> str:
        return _ACTOR.get() or self.actor or f'local:{os_user()}'

    def last_change(self) -> int:
        """The number of the last change committed to this database (0 before any)."""
        with self._sessions() as session:
            return int(session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0)

    def history(self, kind: str, object_id: int) -> list[HistoryRecord]:
        """Every version of one object, oldest first; an object deleted since keeps its history."""
        with self._sessions() as session:
            entries = session.scalars(select(HistoryEntry).where(
                HistoryEntry.kind == kind, HistoryEntry.object_id == object_id).order_by(HistoryEntry.version))
            records = [_record(entry) for entry in entries]
        if not records:
            raise NotFound(f'{kind} with history and id', str(object_id))
        return records

    def changes_since(self, change: int) -> list[ChangeRow]:
        """What every change after this one touched, in order: enough to reload only that."""
        with self._sessions() as session:
            found = session.execute(select(HistoryEntry.change, HistoryEntry.kind, HistoryEntry.object_id,
                                           HistoryEntry.version, HistoryEntry.action)
                                    .where(HistoryEntry.change > change).order_by(HistoryEntry.change))
            return [ChangeRow(*row) for row in found]

    def deleted_object_id(self, kind: str, name: str, transport: str | None = None) -> int:
        """The id of the object of this name deleted last, to read its history by."""
        query = select(HistoryEntry.object_id).where(
            HistoryEntry.kind == kind, HistoryEntry.object_name == name, HistoryEntry.action == 'delete')
        if transport is not None:
            query = query.where(HistoryEntry.transport == transport)
        with self._sessions() as session:
            found = session.scalar(query.order_by(HistoryEntry.change.desc()).limit(1))
        if found is None:
            raise NotFound(f'deleted {kind}', name)
        return found

    def _entry_of(self, session: Session, kind: str, object_id: int, version: int) -> HistoryEntry | None:
        if not 1 <= version <= MAX_INTEGER:
            # No row has it; asked for, the databases' integers would overflow rather than find none.
            return None
        return session.scalar(select(HistoryEntry).where(
            HistoryEntry.kind == kind, HistoryEntry.object_id == object_id, HistoryEntry.version == version))

    def _record_change(self, session: Session, *, kind: str, object_id: int, name: str, transport: str | None,
                       version: int, action: str, changes: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        """Record one change in the session's transaction: at once, or with the batch open on it."""
        entry = {'kind': kind, 'object_id': object_id, 'object_name': name, 'transport': transport,
                 'version': version, 'changed_at': utc_now(), 'changed_by': self.current_actor(), 'action': action,
                 'changes': _json(changes), 'settings': _json(settings)}
        batch = session.info.get(_BATCH)
        if batch is not None:
            batch.append(entry)
        else:
            self._write_changes(session, [entry])

    @contextmanager
    def _changes_batched(self, session: Session) -> Iterator[None]:
        """Changes recorded within are written together when it ends: their history rows in one statement,
        one bump of the counter by their number, and (on PostgreSQL) one notification."""
        if _BATCH in session.info:
            raise RuntimeError('a batch of changes is open on this session already')
        batch: list[dict[str, Any]] = []
        session.info[_BATCH] = batch
        try:
            yield
        finally:
            del session.info[_BATCH]
        self._write_changes(session, batch)

    @staticmethod
    def _write_changes(session: Session, entries: list[dict[str, Any]]) -> None:
        """History rows for these changes, numbered in order from the counter, which moves past them all.

        The counter row stays locked until the transaction ends, so change numbers commit in order;
        followers read every row after the change they applied, however many one transaction wrote.
        """
        if not entries:
            return
        bump = (update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + len(entries))
                .returning(ChangeCounter.value).execution_options(synchronize_session=False))
        last = int(session.execute(bump).scalar_one())
        for change, entry in enumerate(entries, last - len(entries) + 1):
            entry['change'] = change
        session.execute(insert(_HISTORY), entries)
        if session.get_bind().dialect.name == 'postgresql':
            # Delivered to every listener when, and only if, the transaction commits: one per transaction,
            # naming its last change; a listener reads the counter and the history rows for the rest.
            final = entries[-1]
            row = ChangeRow(last, final['kind'], final['object_id'], final['version'], final['action'])
            session.execute(select(func.pg_notify(CHANNEL, row.payload())))


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _record(entry: HistoryEntry) -> HistoryRecord:
    return HistoryRecord(entry.kind, entry.object_id, entry.object_name, entry.transport, entry.version,
                         entry.change, utc(entry.changed_at), entry.changed_by, entry.action,
                         json.loads(entry.changes), json.loads(entry.settings))
