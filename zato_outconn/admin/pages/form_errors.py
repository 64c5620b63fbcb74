"""A ConfigError as a form shows it: each message beside its field, and what belongs to no field on top."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from zato_outconn.exceptions import ConfigError


@dataclass(frozen=True)
class FormErrors:
    """Every error of one post: ``fields`` maps an input's name to its messages (the form macro's
    ``errors``); ``general`` holds those of settings the form has no input for, named in full."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, error: ConfigError, shown: Collection[str]) -> FormErrors:
        errors = cls()
        for name, rule in error.errors:
            errors.add(name, rule, shown)
        return errors

    @classmethod
    def one(cls, message: str) -> FormErrors:
        return cls(general=[message])

    def add(self, name: str, rule: str, shown: Collection[str]) -> None:
        if name in shown:
            self.fields.setdefault(name, []).append(rule)
        else:
            self.general.append(f'{name} {rule}' if name else rule)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)
