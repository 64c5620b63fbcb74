"""Encryption of secrets at rest with Fernet.

Keys come from ``ZATO_OUTCONN_SECRET_KEYS`` (comma-separated; the first one encrypts, all of them
decrypt, so keys can be rotated). On the embedded SQLite default with no key set, a key file is
created next to the database file, readable by its owner only, and a warning says so.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from zato_outconn.exceptions import SecretsError

KEYS_ENV = 'ZATO_OUTCONN_SECRET_KEYS'
KEY_FILE_SUFFIX = '.key'

logger = logging.getLogger('zato_outconn.crypto')


class SecretBox:
    """Encrypts and decrypts secret text with one or more Fernet keys."""

    def __init__(self, keys: list[str], source: str = KEYS_ENV) -> None:
        """``source`` says where the keys came from, for messages: the variable or a key file."""
        if not keys:
            raise SecretsError(f'No secret keys given in {source}; set {KEYS_ENV}')
        # Imported with the first box: a command that reads no secret (a list) loads no cryptography.
        from cryptography.fernet import Fernet, MultiFernet

        fernets = []
        for number, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.strip().encode('ascii')))
            except (ValueError, UnicodeEncodeError):
                raise SecretsError(
                    f'{source}: key {number} is not a Fernet key (32 url-safe base64-encoded bytes); '
                    'make one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"') from None
        self._fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return '<SecretBox>'

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode('utf-8')).decode('ascii')

    def decrypt(self, token: str, *, what: str) -> str:
        return self._open(self._fernet.decrypt, token, f'decrypt the secret of {what}').decode('utf-8')

    def rotate(self, token: str, *, what: str) -> str:
        """The same secret encrypted under the first key, whichever key it was encrypted with."""
        # Rotation runs in one transaction, which this failure rolls back.
        return self._open(self._fernet.rotate, token, f're-encrypt the secret of {what}',
                          '; nothing was changed').decode('ascii')

    @staticmethod
    def _open(operation: Callable[[bytes], bytes], token: str, doing: str, outcome: str = '') -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            return operation(token.encode('ascii'))
        except (InvalidToken, UnicodeEncodeError):
            # A token that is not even ASCII was damaged in the database: as undecryptable as a wrong key.
            raise SecretsError(f'Cannot {doing}: none of the keys in {KEYS_ENV} (or the key file) is the one '
                               f'it was encrypted with, or the stored secret is damaged{outcome}') from None


def load_secret_box(db_url: str) -> SecretBox:
    """The keys for this database: from the environment, else a key file beside an SQLite file."""
    configured = os.environ.get(KEYS_ENV, '')
    keys = [key for key in configured.split(',') if key.strip()]
    if keys:
        return SecretBox(keys)

    url = make_url(db_url)
    if url.get_backend_name() != 'sqlite':
        raise SecretsError(
            f'{KEYS_ENV} is not set; a database other than SQLite needs it to encrypt and decrypt '
            'secrets (one or more comma-separated Fernet keys, the same on every server)')
    if not url.database or url.database == ':memory:':
        logger.warning('%s is not set; secrets of this in-memory database use a key that lasts only '
                       'as long as this process', KEYS_ENV)
        return SecretBox([_new_key()])
    path = Path(url.database + KEY_FILE_SUFFIX)
    return SecretBox([_key_from_file(path)], source=f'the key file {path}')


def _key_from_file(path: Path) -> str:
    try:
        return path.read_text(encoding='ascii').strip()
    except FileNotFoundError:
        pass
    # Written in full under another name, then linked into place: a reader never sees a half-written
    # file, and if another process links its own first, its key is the one used.
    descriptor, draft = tempfile.mkstemp(prefix=path.name + '.', suffix='.new', dir=path.parent)
    try:
        with os.fdopen(descriptor, 'wb') as key_file:
            key_file.write(_new_key().encode('ascii') + b'\n')
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text(encoding='ascii').strip()
    finally:
        os.unlink(draft)
    logger.warning('%s is not set; created a secret key file %s (mode 0600). Keep it with the database '
                   'and out of backups shared with others, or set %s instead', KEYS_ENV, path, KEYS_ENV)
    return path.read_text(encoding='ascii').strip()


def _new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode('ascii')
