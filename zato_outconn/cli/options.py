"""Command-line options made from the config models' fields: their help and defaults are the model's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from zato_outconn.config.base import ConfigModel

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def setting_help(model: type[ConfigModel], setting: str) -> str:
    """The field's description, with its default when it has one people should know."""
    text = model.help_of(setting)
    default = model.default_of(setting)
    if isinstance(default, bool):
        return f'{text} Default: {"on" if default else "off"}.'
    if default not in (None, ''):
        return f'{text} Default: {default}.'
    return text


def model_options(model: type[ConfigModel], settings: Sequence[str], *, flags: Sequence[tuple[str, str]] = (),
                  **click_settings: Any) -> Decorator:
    """An option per setting (``--read-timeout`` for read_timeout), unset (None) unless given.

    ``flags`` are ``(setting, declaration)`` pairs for switches, as ``--active/--inactive``.
    Values pass to the model as given, so that its own messages name the field and the rule.
    """

    def add(function: Callable[..., Any]) -> Callable[..., Any]:
        for setting, declaration in reversed(flags):
            function = click.option(declaration, setting, default=None, help=setting_help(model, setting))(function)
        for setting in reversed(settings):
            function = click.option(f'--{setting.replace("_", "-")}', setting, default=None,
                                    help=setting_help(model, setting), **click_settings)(function)
        return function

    return add
