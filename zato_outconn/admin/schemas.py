"""The shapes the API reads and answers, derived from the config models so that no field is retyped.

Request bodies are the config models themselves (create), or copies of them whose every field is
optional (PATCH), so that the API refuses what the store would, with the same words; unknown fields
are refused everywhere. Answers are described by models of their own, for the OpenAPI document.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model
from pydantic.fields import FieldInfo

from zato_outconn.config import OutconnConfig, SecurityConfig
from zato_outconn.config.base import ConfigModel
from zato_outconn.config.checks import MAX_NAME_LENGTH
from zato_outconn.config.outconn import TRANSPORTS
from zato_outconn.config.security import PUBLIC_SETTINGS
from zato_outconn.exceptions import ConfigError
from zato_outconn.store.models import MAX_INTEGER
from zato_outconn.store.queries import SORT_KEYS
from zato_outconn.store.transfer import ON_CONFLICT

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

_FORBID = ConfigDict(extra='forbid')
_ITEM: dict[str, Any] = {'id': (int, ...), 'version': (int, ...), 'created_at': (datetime, ...),
                         'updated_at': (datetime, ...)}


def _optional(info: FieldInfo) -> FieldInfo:
    """The field as a PATCH takes it: not required, and left out unless given."""
    patched: FieldInfo = copy.copy(info)
    patched.default = None
    patched.default_factory = None
    return patched


def _patch_model(name: str, model: type[ConfigModel], left_out: tuple[str, ...] = ()) -> type[ConfigModel]:
    fields: dict[str, Any] = {key: (info.annotation, _optional(info)) for key, info in model.model_fields.items()
                              if key not in left_out}
    return create_model(name, __base__=ConfigModel, **fields)


def _described(info: FieldInfo) -> Any:
    """The field as an answer shows it: its type and help, none of its checks."""
    return Field(description=info.description)


# ---------------------------------------------------------------------- connections

OutconnPatch = _patch_model('OutconnPatch', OutconnConfig)
_outconn_fields: dict[str, Any] = {key: (info.annotation, _described(info))
                                   for key, info in OutconnConfig.model_fields.items()}
OutconnItem: type[BaseModel] = create_model('OutconnItem', **_outconn_fields, **_ITEM)


class OutconnPage(BaseModel):
    items: list[OutconnItem]
    total: int
    limit: int
    offset: int


class OutconnQuery(BaseModel):
    model_config = _FORBID

    transport: Literal['plain_http', 'soap'] | None = Field(None, description=f'One of {", ".join(TRANSPORTS)}.')
    q: str | None = Field(None, max_length=MAX_NAME_LENGTH, description='Part of the name, host or path, any case.')
    is_active: bool | None = None
    security: str | None = Field(None, max_length=MAX_NAME_LENGTH, description='Name of a security definition.')
    sort: Literal[SORT_KEYS + tuple(f'-{key}' for key in SORT_KEYS)] = Field(  # type: ignore[valid-type]
        'name', description='A field to sort by; -field sorts descending.')
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f'At most {MAX_LIMIT}.')
    offset: int = Field(0, ge=0, le=2 ** 31)
    format: Literal['json', 'csv'] | None = Field(None, description='csv for CSV; else as Accept says.')


class ListFormat(BaseModel):
    model_config = _FORBID

    format: Literal['json', 'csv'] | None = Field(None, description='csv for CSV; else as Accept says.')


class Ping(BaseModel):
    ok: bool
    status_code: int | None
    elapsed: float
    method: str
    url: str
    error: str | None
    report: str


class HistoryItem(BaseModel):
    kind: str
    id: int
    name: str
    transport: str | None
    version: int
    change: int
    changed_at: datetime
    changed_by: str
    action: str
    changes: dict[str, Any] = Field(description='{"field": [old, new]}; a secret only as "changed".')


class Rollback(BaseModel):
    model_config = _FORBID

    # Strict: JSON's true is no version (lax, it would be taken as 1).
    version: StrictInt = Field(ge=1, le=MAX_INTEGER, description='The version whose settings to go back to.')


# ---------------------------------------------------------------------- security definitions

SECRETS = ('secret', 'key_password')
SecurityPatch = _patch_model('SecurityPatch', SecurityConfig, left_out=SECRETS)
_security_fields: dict[str, Any] = {
    **{key: (SecurityConfig.model_fields[key].annotation, _described(SecurityConfig.model_fields[key]))
       for key in PUBLIC_SETTINGS},
    'client_cert': (str | None, Field(description='Subject and expiry of the client certificate, not the PEM.')),
    'secret_set': (bool, Field(description='Whether the secret is set; the secret itself is never shown.')),
    'key_password_set': (bool, ...), 'used_by': (list[str], Field(description='Connections that use it.')), **_ITEM}
SecurityItem: type[BaseModel] = create_model('SecurityItem', **_security_fields)


class SecretIn(BaseModel):
    """One secret of a definition: ``secret`` (its password, key, token or private key) or ``key_password``;
    or an mtls private key with its password and certificate, stored together."""

    model_config = _FORBID

    secret: str | None = Field(None, min_length=1, description='The password, key, token or private key.')
    key_password: str | None = Field(None, min_length=1, description='The password of an encrypted key (mtls); '
                                                                     'sent with a new key, left out, it has none.')
    client_cert: str | None = Field(None, min_length=1, description='The client certificate in PEM (mtls), sent '
                                                                    'with the new private key it belongs to; left '
                                                                    'out, the stored one stays.')


def one_secret(given: Mapping[str, str | None], settings: Sequence[str] = SECRETS) -> tuple[str, str]:
    """The one secret given, as its setting and value; a ConfigError unless exactly one of these is.

    Its message reads as the field's own, beside a form's input as well as in an API's errors.
    """
    present = [(setting, value) for setting, value in given.items() if value is not None]
    unknown = [setting for setting, _ in present if setting not in settings]
    if unknown:
        raise ConfigError(unknown[0], f'is not set here; send {" or ".join(settings)}')
    if not present:
        others = f' (or send {" or ".join(settings[1:])} instead)' if len(settings) > 1 else ''
        raise ConfigError(settings[0], f'is required{others}')
    if len(present) > 1:
        raise ConfigError(present[1][0], f'cannot be set together with {present[0][0]}; send one at a time')
    return present[0]


# ---------------------------------------------------------------------- transfer, nodes, health

class ImportQuery(BaseModel):
    model_config = _FORBID

    dry_run: bool = Field(False, description='Check and report only; write nothing.')
    on_conflict: Literal[ON_CONFLICT] = Field(  # type: ignore[valid-type]
        'fail', description='What to do with an item whose name exists: fail, skip or overwrite.')


class ExportDocument(BaseModel):
    format: Literal['zato-outconn']
    format_version: int
    security: list[dict[str, Any]]
    outconns: list[dict[str, Any]]


class ImportItem(BaseModel):
    kind: str
    name: str
    transport: str | None
    action: str
    changes: dict[str, Any] = Field(description='{"field": [old, new]} of an update; a secret only as "changed", '
                                                'also on a create (the secrets it is created with).')
    errors: list[dict[str, str]]


class ImportReport(BaseModel):
    dry_run: bool
    written: bool
    counts: dict[str, int]
    items: list[ImportItem]


class Node(BaseModel):
    id: int
    component: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    applied_change: int
    latest_change: int
    status: Literal['current', 'behind', 'silent']


class Health(BaseModel):
    status: str
    database: str
    last_change: int


# Lists as answers; typed Any because APIFlask's annotations know no list[Model], which it takes.
HistoryList: Any = list[HistoryItem]
SecurityList: Any = list[SecurityItem]
NodeList: Any = list[Node]
