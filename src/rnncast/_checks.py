"""Parameter checks shared by the models and configs."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncast.exceptions import ConfigError


def require_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int; raise ConfigError naming it unless positive."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
