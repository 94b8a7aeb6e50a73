"""Checks of parameter values: each raises ConfigError naming the parameter.

:func:`check_combinations` checks values that are each allowed but not together.

Shared by the options of :class:`~rnncast.Forecaster` (:mod:`rnncast.options`),
the baselines and the backtest. ``check(name, value)`` returns nothing or raises;
the others return the checked value. No NumPy here: the command line's help
imports this module.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

from rnncast.exceptions import ConfigError

__all__ = [
    "check_combinations",
    "check_horizon",
    "check_levels",
    "column_names",
    "fraction",
    "layer_widths",
    "lookbacks",
    "non_negative_int",
    "optional_text",
    "positive_int",
    "positive_number",
    "require_positive_int",
    "seasons",
    "text",
]


def require_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int; raise ConfigError naming it unless positive."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def positive_int(name: str, value: Any) -> None:
    """Check that ``value`` is a positive integer, or None."""
    if value is not None:
        require_positive_int(name, value)


def non_negative_int(name: str, value: Any) -> None:
    """Check that ``value`` is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}.")


def positive_number(name: str, value: Any) -> None:
    """Check that ``value`` is a number > 0, or None."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}.")


def fraction(name: str, value: Any) -> None:
    """Check that ``value`` is a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}.")
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}.")


def lookbacks(name: str, value: Any) -> None:
    """Check a lookback: a positive integer, a non-empty list of them, or None."""
    if value is None or isinstance(value, numbers.Integral):
        positive_int(name, value)
        return
    values = list(value) if isinstance(value, Sequence) else []
    if not values:
        raise ConfigError(f"{name} must be an integer or a non-empty list of them.")
    for one in values:
        require_positive_int(name, one)


def dilation_groups(name: str, value: Any) -> None:
    """Check dilations: an int, one per layer, groups of them, or None."""
    if value is None or isinstance(value, numbers.Integral):
        positive_int(name, value)
        return
    values = list(value) if isinstance(value, Sequence) else []
    grouped = [v for v in values if isinstance(v, Sequence)]
    if isinstance(value, str) or not values or 0 < len(grouped) < len(values):
        raise ConfigError(
            f"{name} must be one integer per layer, such as (1, 24), or groups of "
            f"them, such as ((1, 4), (24, 168)); got {value!r}."
        )
    for group in grouped or [values]:
        if isinstance(group, str) or not group:
            raise ConfigError(f"{name} has an empty or text group: {value!r}.")
        for one in group:
            require_positive_int(name, one)


def seasons(name: str, value: Any) -> None:
    """Check seasonal periods: a positive integer, increasing numbers > 1, or None."""
    if value is None or isinstance(value, numbers.Integral):
        positive_int(name, value)
        return
    values = list(value) if isinstance(value, Sequence) else []
    numeric = all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    )
    if isinstance(value, str) or not values or not numeric:
        raise ConfigError(
            f"{name} must be an integer or a list of periods such as (24, 168), "
            f"got {value!r}."
        )
    if any(v <= 1 for v in values) or any(
        b <= a for a, b in itertools.pairwise(values)
    ):
        raise ConfigError(
            f"{name} must list periods greater than 1, shortest first, such as "
            f"(24, 168) or (7, 365.25); got {value!r}."
        )


def layer_widths(name: str, value: Any) -> None:
    """Check layer widths: a positive integer or a non-empty list of them."""
    widths = [value] if isinstance(value, numbers.Integral) else value
    if isinstance(value, str) or not isinstance(widths, Sequence) or not widths:
        raise ConfigError(f"{name} must hold integers, got {value!r}.")
    if not all(
        isinstance(w, numbers.Integral) and not isinstance(w, bool) for w in widths
    ):
        raise ConfigError(f"{name} must hold integers, got {value!r}.")
    if any(w <= 0 for w in widths):
        raise ConfigError(
            f"{name} must list one positive width per layer, e.g. (128, 64); "
            f"got {value!r}."
        )


def text(name: str, value: Any) -> None:
    """Check that ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}.")


def column_names(name: str, value: Any) -> None:
    """Check that ``value`` is a sequence of distinct non-empty column names."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ConfigError(
            f"{name} must be a list of column names, e.g. ['price', 'promo']; "
            f"got {value!r}."
        )
    for column in value:
        text(name, column)
    repeated = sorted({c for c in value if list(value).count(c) > 1})
    if repeated:
        raise ConfigError(f"{name} names {repeated} more than once.")


def optional_text(name: str, value: Any) -> None:
    """Check that ``value`` is a non-empty string, or None."""
    if value is not None:
        text(name, value)


def check_levels(level: Any) -> tuple[float, ...]:
    """Validate interval levels in percent, e.g. ``[80, 95]``; return them sorted.

    ``80.0`` becomes ``80`` so that column names read ``yhat-lo-80``.
    """
    if level is None:
        return ()
    one = isinstance(level, numbers.Real) and not isinstance(level, bool)
    levels = (level,) if one else tuple(level)
    for value in levels:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"levels must be numbers in (0, 100), got {value!r}.")
        if not 0 < float(value) < 100:
            raise ConfigError(
                f"levels are percentages in (0, 100), e.g. [80, 95]; got {value!r}."
            )
    return tuple(sorted({_plain(v) for v in levels}))


def _plain(value: Any) -> float:
    value = float(value)
    return int(value) if value.is_integer() else value


def check_horizon(horizon: int | None) -> None:
    """ConfigError unless a horizon is given."""
    if horizon is None:
        raise ConfigError(
            "horizon is required: give the number of steps to forecast, e.g. "
            "Forecaster(horizon=12)."
        )


def check_combinations(params: Any) -> None:
    """Raise ConfigError for values that are each allowed but not together."""
    if params.missing == "mask" and params.fill is not None:
        raise ConfigError(
            f"missing='mask' keeps gaps as gaps, so it cannot be combined with "
            f"fill={params.fill!r}; choose one of them."
        )
    _check_covariates(params)
    if params.season_inputs and params.output == "recursive":
        raise ConfigError(
            "season_inputs=True needs output='direct': a recursive head feeds "
            "its forecasts back as inputs, without their season phase."
        )
    if params.conformal_per_series and params.intervals not in ("conformal", "auto"):
        raise ConfigError(
            "conformal_per_series=True calibrates conformal intervals per "
            f"series; it needs intervals='conformal', not {params.intervals!r} "
            "(in the CLI: --intervals conformal)."
        )
    if params.intervals in ("conformal", "cqr") and not params.validation:
        raise ConfigError(
            f"intervals={params.intervals!r} are calibrated on the validation "
            "windows; use validation=True."
        )
    if params.intervals in ("quantile", "cqr") and not check_levels(params.levels):
        raise ConfigError(
            f"intervals={params.intervals!r} needs levels, e.g. (80, 95)."
        )


def _check_covariates(params: Any) -> None:
    """ConfigError for a covariate named twice, or named like a key column."""
    keys = {params.id_col, params.time_col, params.target_col}
    named: dict[str, str] = {}
    for kind in ("futr_exog", "hist_exog", "stat_exog"):
        for column in getattr(params, kind):
            if column in keys:
                raise ConfigError(
                    f"{kind} names {column!r}, which is the id, time or target "
                    "column; covariates are the other columns."
                )
            if column in named:
                raise ConfigError(
                    f"column {column!r} is named in both {named[column]} and "
                    f"{kind}; a covariate is of one kind."
                )
            named[column] = kind
    if params.holidays is not None and not params.calendar:
        raise ConfigError(
            f"holidays={params.holidays!r} adds a flag to the calendar inputs; "
            "use it with calendar=True (in the CLI: --calendar)."
        )
    if params.hist_exog and params.output == "recursive":
        raise ConfigError(
            "hist_exog needs output='direct': a recursive head feeds each forecast "
            "back as the next input, and past covariates have no values for the "
            "steps it feeds back (future-known and static ones do)."
        )
