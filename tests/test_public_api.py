"""The public API: what ``zato_outconn`` exports."""

from __future__ import annotations

import types

import zato_outconn
from zato_outconn import exceptions


def test_all_is_sorted_and_importable() -> None:
    assert zato_outconn.__all__ == sorted(zato_outconn.__all__)
    for name in zato_outconn.__all__:
        assert hasattr(zato_outconn, name), name


def test_every_exception_is_exported_and_under_the_root() -> None:
    classes = [value for value in vars(exceptions).values()
               if isinstance(value, type) and issubclass(value, BaseException)
               and value.__module__ == exceptions.__name__]
    for cls in classes:
        assert issubclass(cls, zato_outconn.OutconnError)
        assert cls.__name__ in zato_outconn.__all__, cls.__name__
        # The tree in the module docstring lists every class.
        assert cls.__name__ in exceptions.__doc__, cls.__name__


def test_every_public_name_is_exported() -> None:
    # As httpx checks its own: the namespace and __all__ hold the same names, modules aside.
    # Names imported on first use count as soon as they can be asked for (dir lists them).
    public = {name for name in dir(zato_outconn)
              if not name.startswith('_') and not isinstance(getattr(zato_outconn, name), types.ModuleType)}
    assert public == set(zato_outconn.__all__) - {'__version__'}
