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

__all__ = [
    "ConfigError",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "RnncastError",
]


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
