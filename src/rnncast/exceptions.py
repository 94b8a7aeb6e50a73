"""Errors raised by rnncast.

Every error a user can cause derives from :class:`RnncastError` and also from the
built-in exception it resembles, so ``except ValueError`` keeps working::

    RnncastError
    ├── DataError        (ValueError)      bad input data: columns, values, timestamps
    ├── ConfigError      (ValueError)      bad parameters: horizon, lookback, cell, ...
    ├── NotFittedError   (ValueError, AttributeError)  predict/save before fit
    └── ModelFileError   (ValueError)      missing, damaged or incompatible model folder

Each message says what is wrong, shows the values involved, and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "RnncastError",
    "listing",
]

LISTED = 20  # names an error message lists before it counts the rest


def listing(names: Iterable[Any]) -> str:
    """Name things in an error message: ``'a', 'b', 'c'``; past 20, the count too.

    >>> listing(["m1", "m7"])
    "'m1', 'm7'"
    """
    items = [repr(name) for name in names]
    shown = ", ".join(items[:LISTED])
    if len(items) > LISTED:
        shown += f" and {len(items) - LISTED} more ({len(items)} in all)"
    return shown


class RnncastError(Exception):
    """Base class of every error rnncast raises on purpose."""


class DataError(RnncastError, ValueError):
    """The input data cannot be used as given (columns, values or timestamps)."""


class ConfigError(RnncastError, ValueError):
    """A parameter has a value rnncast cannot work with."""


class NotFittedError(RnncastError, ValueError, AttributeError):
    """A model was used before :meth:`fit` was called."""


class ModelFileError(RnncastError, ValueError):
    """A saved model folder is missing, damaged or from an incompatible version."""
