"""The security definition's form, made from SecurityConfig: which settings each type shows, and how.

A type shows the settings ``SECURITY_TYPES`` says it uses, in the model's order, each with the
model's description as its help. The choices of a setting come from the model's JSON schema, an
optional one (password_type, client_auth) with an empty choice that takes the type's default; other
inputs are as ``forms.kind_of`` makes them for any model. Secrets are inputs of the create form and
of the **Set secret** form only, never of the edit form, and no form is ever filled with one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zato_outconn.admin.pages.forms import kind_of
from zato_outconn.config import SECRET_SETTINGS, SECURITY_TYPES, SecurityConfig, SecurityType
from zato_outconn.store import SecurityRecord

# The certificate is PEM text over many lines, and so is the private key of a type that takes one.
_PEM = 'client_cert'


@dataclass(frozen=True)
class Input:
    """One input of a form: what the ``field`` macro of macros/forms.html is given."""

    name: str
    kind: str
    help: str
    label: str
    choices: tuple[str | None, ...] = ()
    required: bool = False


@functools.cache
def _schema() -> dict[str, Any]:
    properties: dict[str, Any] = SecurityConfig.model_json_schema()['properties']
    return properties


def _variants(name: str) -> list[dict[str, Any]]:
    prop = _schema()[name]
    return list(prop.get('anyOf', [prop]))


def _choices(name: str) -> tuple[str | None, ...]:
    variants = _variants(name)
    values = tuple(value for variant in variants for value in variant.get('enum', ()))
    nullable = any(variant.get('type') == 'null' for variant in variants)
    if not values:
        return ()
    # A setting left unset takes the type's default, which its help names.
    return ((None,) if nullable else ()) + values


def _input_kind(kind: SecurityType, name: str) -> str:
    if name == _PEM or (name == 'secret' and _PEM in kind.settings):
        return 'textarea'
    if name in SECRET_SETTINGS:
        return 'password'
    if _choices(name):
        return 'select'
    return kind_of(SecurityConfig, name)


def security_type(sec_type: str | None) -> SecurityType | None:
    return SECURITY_TYPES.get(sec_type or '')


def inputs(kind: SecurityType, *, editing: bool) -> list[Input]:
    """The inputs of a definition of this type: those of the create form, or of the edit form (no secret)."""
    names = [name for name in SecurityConfig.model_fields if name == 'name' or name in kind.settings
             or (name == 'secret' and not editing)]
    if editing:
        names = [name for name in names if name not in SECRET_SETTINGS]
    shown = []
    for name in names:
        input_kind = _input_kind(kind, name)
        help_text = SecurityConfig.help_of(name)
        label = name
        if name == 'secret' and kind.secret_name != name:
            label = f'secret ({kind.secret_name})'
        if editing and name == _PEM:
            help_text += ' Leave it empty to keep the certificate stored.'
        shown.append(Input(name, input_kind, help_text, label,
                           _choices(name) if input_kind == 'select' else (), required=name == 'name'))
    return shown


def secret_inputs(kind: SecurityType) -> list[Input]:
    """The **Set secret** forms of a type: its secret, and the key's password if the type has one."""
    names = ['secret', *(name for name in SECRET_SETTINGS if name != 'secret' and name in kind.settings)]
    return [Input(name, _input_kind(kind, name), SecurityConfig.help_of(name),
                  kind.secret_name if name == 'secret' else name, required=True) for name in names]


def key_companions(kind: SecurityType) -> list[Input]:
    """What the private key's **Set secret** form also takes, of a type with a certificate: the key's
    password and its certificate, both optional. A new key is checked against the certificate and the
    password it is stored with, so a key renewed with its certificate, or an encrypted key, can only
    be set together with them."""
    if _PEM not in kind.settings:
        return []
    helps = {'key_password': ' Left empty, the new key has none.',
             _PEM: ' Give it when it changes with the key; left empty, the stored certificate stays.'}
    return [Input(name, _input_kind(kind, name), SecurityConfig.help_of(name) + helps[name],
                  f'{name} of this key' if name == 'key_password' else name)
            for name in ('key_password', _PEM) if name in kind.settings]


def initial_values(kind: SecurityType) -> dict[str, Any]:
    """What a new definition's form starts with: the type's defaults."""
    return {name: kind.defaults.get(name, SecurityConfig.default_of(name)) for name in SecurityConfig.model_fields
            if name not in SECRET_SETTINGS}


def record_values(record: SecurityRecord) -> dict[str, Any]:
    """What the edit form shows of a stored definition: its settings, never a secret or the certificate."""
    return {key: value for key, value in record.config.as_dict().items()
            if key in SecurityConfig.model_fields and key not in SECRET_SETTINGS and key != _PEM}


def posted(form: Mapping[str, str], shown: list[Input]) -> dict[str, str]:
    """The values a form posted for its inputs, as text (the model coerces them; empty is unset)."""
    return {item.name: form.get(item.name, '') for item in shown}


def shown_again(values: Mapping[str, Any]) -> dict[str, Any]:
    """Posted values to show in a form again after an error: all but the secrets."""
    return {key: value for key, value in values.items() if key not in SECRET_SETTINGS}
