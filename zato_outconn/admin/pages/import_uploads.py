"""Uploads kept between an import's preview and its **Apply**: one file per upload, in a folder only
this server's user may read, named by a random id that only the uploader's session holds.

An upload may be 10 MiB, too much to send back and forth in a hidden field or to keep in a session
cookie. A file is deleted when its import is applied, and any older than ``MAX_AGE`` when another
upload is kept or the transfer page is opened. The folder is ``IMPORT_UPLOAD_FOLDER`` of the app's config, by default
``zato-outconn-imports-<uid>`` in the system's temporary folder; every process of one server shares it
(several servers behind one address need the same folder, or sessions that stay with one server).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import time
from pathlib import Path

from flask import current_app

from zato_outconn.exceptions import ConfigError

FOLDER_KEY = 'IMPORT_UPLOAD_FOLDER'
# Seconds an upload waits for its Apply.
MAX_AGE = 3600.0
_ID = re.compile(r'[A-Za-z0-9_-]{32}')
_SUFFIX = '.upload'


class PendingUploads:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of_app(cls) -> PendingUploads:
        configured = current_app.config.get(FOLDER_KEY)
        folder = Path(configured) if configured else Path(tempfile.gettempdir()) / f'zato-outconn-imports-{os.getuid()}'
        return cls(folder)

    def keep(self, data: bytes) -> str:
        """Keeps an upload; the id to read it back by."""
        self._prepare()
        self.sweep()
        upload_id = secrets.token_urlsafe(24)
        self._write(upload_id, data)
        return upload_id

    def put_back(self, upload_id: str, data: bytes) -> None:
        """Keeps again an upload taken for an Apply that failed before writing anything."""
        if _ID.fullmatch(upload_id):
            self._prepare()
            self._write(upload_id, data)

    def _write(self, upload_id: str, data: bytes) -> None:
        # O_EXCL: a file that is already there, planted or not, is never written through.
        descriptor = os.open(self._path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, 'wb') as file:
            file.write(data)

    def read(self, upload_id: str) -> bytes | None:
        """The upload of this id, or None if there is none (applied, swept, or never kept)."""
        if not _ID.fullmatch(upload_id) or not self._checked():
            return None
        return self._read(self._path(upload_id))

    def take(self, upload_id: str) -> bytes | None:
        """The upload of this id, which is no longer kept after: of two Applies of one upload at the
        same time, one gets it and the other None, so that it is never imported twice."""
        if not _ID.fullmatch(upload_id) or not self._checked():
            return None
        # Named as uploads are, so that a sweep removes one left by a process that stopped here.
        taken = self.folder / f'{upload_id}.taken-{secrets.token_hex(8)}{_SUFFIX}'
        try:
            # A rename is atomic: only one of the requests finds the file under its first name.
            os.rename(self._path(upload_id), taken)
        except FileNotFoundError:
            return None
        try:
            return self._read(taken)
        finally:
            taken.unlink(missing_ok=True)

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            # O_NOFOLLOW: a link put in place of an upload is never read through.
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with os.fdopen(descriptor, 'rb') as file:
            if time.time() - os.fstat(file.fileno()).st_mtime > MAX_AGE:
                return None
            return file.read()

    def discard(self, upload_id: str) -> None:
        if _ID.fullmatch(upload_id):
            self._path(upload_id).unlink(missing_ok=True)

    def sweep(self) -> None:
        """Deletes the uploads older than MAX_AGE (none in a folder that is not safe: keep says why)."""
        try:
            if not self._checked():
                return
        except ConfigError:
            return
        limit = time.time() - MAX_AGE
        for path in self.folder.glob(f'*{_SUFFIX}'):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def _path(self, upload_id: str) -> Path:
        return self.folder / f'{upload_id}{_SUFFIX}'

    def _prepare(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._check()

    def _checked(self) -> bool:
        """Whether the folder is there and safe to read from (what keep made); a folder not made yet holds
        nothing, and one that is not safe is refused, as keep refuses it."""
        if not os.path.lexists(self.folder):
            return False
        self._check()
        return True

    def _check(self) -> None:
        info = os.lstat(self.folder)
        # In a shared temporary folder, someone else could have made the folder first, or a link.
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise ConfigError(FOLDER_KEY, f'{self.folder} must be a folder of this user that nobody else may '
                                          'read or write (mode 0700); remove it, or set another')
