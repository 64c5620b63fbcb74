"""The base of the typed config models: frozen pydantic models that fail as ``ConfigError``.

Every field carries its own check (a ``BeforeValidator`` with the rule people read) and its
constraints and help text as ``Field`` metadata, so that one model gives the core its
validation, the CLI its help and defaults, and an API its JSON schema. pydantic collects the
errors of every field; ``ConfigError.errors`` lists them all, and no message echoes a secret.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self, cast

from annotated_types import MaxLen
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo
from pydantic_core import PydanticUndefined

from zato_outconn.exceptions import ConfigError

_TRUE = frozenset(('true', 'yes', 'on', '1'))
_FALSE = frozenset(('false', 'no', 'off', '0'))


def checked(check: Callable[..., Any], *args: Any, nullable: bool = False, **kwargs: Any) -> BeforeValidator:
    """A field validator running ``check(field, value, ...)``; with nullable, None passes as it is."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        if nullable and value is None:
            return None
        assert info.field_name is not None
        return check(info.field_name, value, *args, **kwargs)

    return BeforeValidator(validate)


class Problems:
    """Collects the errors of checks that span fields, to raise them together."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, field: str, rule: str) -> None:
        self.errors.append((field, rule))

    def check(self, check: Callable[..., Any], *args: Any) -> None:
        try:
            check(*args)
        except ConfigError as error:
            self.errors.extend(error.errors)

    def raise_any(self) -> None:
        if self.errors:
            raise ConfigError.of(self.errors)


class ConfigModel(BaseModel):
    """Shared behaviour: frozen, unknown fields refused, built from loose input such as CLI options."""

    # The validators are built on first use: a command that only lists stored templates (rebuilt with
    # from_stored) never needs them, and building them costs more than importing pydantic.
    model_config = ConfigDict(frozen=True, extra='forbid', hide_input_in_errors=True, defer_build=True)

    # How text input is coerced per field ('float', 'int' or 'bool'), and which fields may be None.
    _kinds: ClassVar[dict[str, str]] = {}
    _nullable: ClassVar[frozenset[str]] = frozenset()
    # The fields in their order, read without pydantic's model_fields lookup (from_stored is hot).
    _field_order: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kinds: dict[str, str] = {}
        nullable = set()
        for name, info in cls.model_fields.items():
            types_ = _plain_types(info.annotation)
            if type(None) in types_:
                nullable.add(name)
            for kind in (bool, int, float):
                if kind in types_:
                    kinds[name] = kind.__name__
                    break
        cls._kinds, cls._nullable = kinds, frozenset(nullable)
        cls._field_order = tuple(cls.model_fields)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _config_error(error, type(self)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as error:
            raise _config_error(error, cls) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as error:
            raise _config_error(error, cls) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__private_attributes__:
            super().__setattr__(name, value)
            return
        # The error a frozen value has always raised, never pydantic's own.
        raise dataclasses.FrozenInstanceError(f'cannot assign to field {name!r}: configs are frozen; '
                                              'use with_changes for a changed copy')

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f'cannot delete field {name!r}: configs are frozen')

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    @classmethod
    def default_of(cls, name: str) -> Any:
        """The field's default, or None for a required field."""
        default = cls.model_fields[name].default
        return None if default is PydanticUndefined else default

    @classmethod
    def max_length_of(cls, name: str) -> int | None:
        """The most characters the field may have (its database column's length), or None for no limit."""
        lengths = [item.max_length for item in cls.model_fields[name].metadata if isinstance(item, MaxLen)]
        return min(lengths) if lengths else None

    @classmethod
    def help_of(cls, name: str) -> str:
        return cls.model_fields[name].description or ''

    @classmethod
    def from_input(cls, raw: Mapping[str, Any]) -> Self:
        """Build from loose input: text is coerced to each field's type, unknown fields refused.

        Every bad field is reported at once, those whose text cannot be coerced among them.
        """
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for key, value in raw.items():
            try:
                values[key] = cls._coerce(key, value)
            except ConfigError as error:
                errors.extend(error.errors)
        try:
            config = cls(**values)
        except ConfigError as error:
            failed = {field for field, _ in errors}
            # A field whose text was refused is missing from values; 'is required' would say it twice.
            errors.extend((field, rule) for field, rule in error.errors if field not in failed)
        else:
            if not errors:
                return config
        order = {name: index for index, name in enumerate(cls.model_fields)}
        raise ConfigError.of(sorted(errors, key=lambda item: order.get(item[0], -1)))

    @classmethod
    def from_stored(cls, values: Mapping[str, Any]) -> Self:
        """A config from the values the store wrote: every field, as the checks left it.

        The checks ran when the values were written (every write goes through the model), so they
        are not run again: a process loading ten thousand templates would spend most of its start
        on them. What a connection needs of them at its first call (its parsed URL path) is made then.
        """
        order = cls._field_order
        if len(values) != len(order) or values.keys() != set(order):
            return cast(Self, cls.model_construct(None, **values))
        # What model_construct does when every field is given, without its per-field loop of
        # defaults and aliases: a quarter of the time, which a start with many templates notices.
        config = object.__new__(cls)
        in_order = tuple(values) == order
        object.__setattr__(config, '__dict__', dict(values) if in_order else {name: values[name] for name in order})
        object.__setattr__(config, '__pydantic_fields_set__', set(order))
        object.__setattr__(config, '__pydantic_extra__', None)
        object.__setattr__(config, '__pydantic_private__', None)
        return config

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        """A validated copy with these changes applied (loose input, as in ``from_input``)."""
        return type(self).from_input({**dict(self), **changes})

    @classmethod
    def _coerce(cls, key: str, value: Any) -> Any:
        if key in cls._nullable and (value is None or value == ''):
            return None
        if not isinstance(value, str):
            return value
        kind = cls._kinds.get(key)
        text = value.strip()
        if kind == 'float':
            try:
                return float(text)
            except ValueError:
                raise ConfigError(key, f'must be a number of seconds; got {value!r}') from None
        if kind == 'int':
            try:
                return int(text)
            except ValueError:
                raise ConfigError(key, f'must be a whole number; got {value!r}') from None
        if kind == 'bool':
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ConfigError(key, f'must be true or false; got {value!r}')
        return value


def _plain_types(annotation: Any) -> set[Any]:
    """The types an annotation admits: ``float | None`` gives {float, NoneType}."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _plain_types(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return {item for arg in typing.get_args(annotation) for item in _plain_types(arg)}
    if typing.get_origin(annotation) is typing.Literal:
        return {type(arg) for arg in typing.get_args(annotation)}
    return {annotation}


def _config_error(error: ValidationError, model: type[ConfigModel]) -> ConfigError:
    """Every error pydantic found, as (field, rule); our checks' rules as they wrote them."""
    errors: list[tuple[str, str]] = []
    for item in error.errors(include_url=False, include_input=False):
        field = str(item['loc'][0]) if item['loc'] else ''
        cause = (item.get('ctx') or {}).get('error')
        if isinstance(cause, ConfigError):
            errors.extend(cause.errors)
        elif item['type'] == 'missing':
            errors.append((field, 'is required'))
        elif item['type'] == 'string_too_long':
            # pydantic's words say "String"; ours name the limit and the fix, never the value.
            errors.append((field, f'must be at most {item["ctx"]["max_length"]} characters long; shorten it'))
        elif item['type'] == 'extra_forbidden':
            errors.append((field, f'is not a setting; known settings are {", ".join(sorted(model.model_fields))}'))
        else:
            # pydantic's own wording, which never includes the value (hide_input_in_errors).
            errors.append((field, item['msg']))
    return ConfigError.of(errors or [('', str(error))])
