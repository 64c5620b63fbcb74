"""Forms made from the config models: one input per setting, named after it, with the model's help.

A page never retypes a setting's name, help text, default or choices: ``form_fields`` reads them
from the model, and the template renders each with the ``field`` macro (templates/macros/forms.html).
What a form posts is read back with ``posted``, as loose text the model's ``from_input`` coerces.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from zato_outconn.config.base import ConfigModel

# Settings whose values run to many lines: PEM certificates, a WSDL document.
LONG_TEXT = frozenset({'ca_bundle', 'wsdl'})
# The texts of a ticked checkbox, as the models read them.
TICKED = frozenset({'true', 'yes', 'on', '1'})


@dataclass(frozen=True)
class FormField:
    """One input of a form: what the ``field`` macro needs."""

    name: str
    kind: str
    help: str
    value: Any
    choices: tuple[Any, ...] = ()
    required: bool = False


def choices_of(model: type[ConfigModel], name: str) -> tuple[str, ...]:
    """The values a Literal setting takes (transport: plain_http, soap), or () for any other."""
    return tuple(_literals(model.model_fields[name].annotation))


def kind_of(model: type[ConfigModel], name: str) -> str:
    if name in LONG_TEXT:
        return 'textarea'
    if choices_of(model, name):
        return 'select'
    types_ = _types(model.model_fields[name].annotation)
    if bool in types_:
        return 'checkbox'
    if int in types_ or float in types_:
        return 'number'
    return 'text'


def form_fields(model: type[ConfigModel], names: Iterable[str], values: Mapping[str, Any],
                choices: Mapping[str, Sequence[Any]] | None = None) -> list[FormField]:
    """The inputs of these settings, with ``values`` (missing ones: the model's defaults).

    ``choices`` gives the options of settings the model cannot know, such as security's definitions.
    """
    fields = []
    for name in names:
        info = model.model_fields[name]
        own = tuple((choices or {}).get(name, ())) or choices_of(model, name)
        kind = 'select' if own else kind_of(model, name)
        value = values[name] if name in values else model.default_of(name)
        if kind == 'checkbox' and isinstance(value, str):
            # What a form posted back ('true' or 'false'), shown ticked or not as it was sent.
            value = value.strip().lower() in TICKED
        fields.append(FormField(name, kind, model.help_of(name), _shown(value), own, info.is_required()))
    return fields


def posted(model: type[ConfigModel], form: MultiDict[str, str], names: Iterable[str]) -> dict[str, str]:
    """The text the form posted for these settings; a checkbox not ticked reads false."""
    return {name: form.get(name, 'false' if kind_of(model, name) == 'checkbox' else '') for name in names
            if name in form or kind_of(model, name) == 'checkbox'}


def _shown(value: Any) -> Any:
    # 10.0 seconds reads better as 10; a bool stays a bool for the checkbox.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _literals(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(arg) for arg in typing.get_args(annotation)]
    if origin is typing.Annotated:
        return _literals(typing.get_args(annotation)[0])
    return []


def _types(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin is not None and origin is not typing.Literal:
        return {item for arg in typing.get_args(annotation) for item in _types(arg)}
    return {annotation}
