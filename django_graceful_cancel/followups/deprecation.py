"""The follow-up modules' old dotted paths, kept for one release.

Each old module is a shim that reads every name from the new modules and warns, pointing at the
line that used the old path::

    from django_graceful_cancel.followups.deprecation import moved

    __getattr__, __dir__ = moved(__name__, "django_graceful_cancel.followups.links")
    del moved

Nothing in the package imports a shim, so a site that uses only the new paths sees no warning.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

#: The release that removes the old paths.
REMOVED_IN = "0.3"


def moved(old: str, *new: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the shim module ``old``, whose names now live in the
    modules ``new`` (searched in order)."""

    def targets() -> list[Any]:
        return [importlib.import_module(name) for name in new]

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            return sorted({n for m in targets() for n in dir(m) if not n.startswith("_")})
        if name.startswith("__"):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        found = [module for module in targets() if hasattr(module, name)]
        if not found:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        # Name the module that defines it rather than one that imports it.
        home = next(
            (m for m in found if getattr(getattr(m, name), "__module__", None) == m.__name__),
            found[0],
        )
        warnings.warn(
            f"{old}.{name} is deprecated and will be removed in {REMOVED_IN}: "
            f"use {home.__name__}.{name}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(home, name)

    def __dir__() -> list[str]:
        return sorted({n for m in targets() for n in dir(m)})

    return __getattr__, __dir__
