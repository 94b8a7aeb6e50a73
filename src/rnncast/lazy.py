"""Public names of a package that load on first use (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, where: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a package's ``__getattr__`` and ``__dir__`` for lazily loaded names.

    ``where`` maps each name to the module that defines it; a name is imported
    on first use and kept in ``namespace`` (the package's globals).
    """

    def getattr_(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value  # loaded once
        return value

    def dir_() -> list[str]:
        return sorted(namespace.get("__all__", where))

    return getattr_, dir_
