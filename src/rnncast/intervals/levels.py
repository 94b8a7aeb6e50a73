"""Interval levels, quantile bounds and the columns that hold them.

Intervals follow the long-format convention of the Nixtla tools: for a level of
80 (%), the columns ``yhat-lo-80`` and ``yhat-hi-80`` hold the 10 % and 90 %
quantiles of the forecast distribution.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rnncast.checks import check_levels

__all__ = [
    "Levels",
    "bound_column",
    "check_levels",
    "interval_columns",
    "level_quantiles",
    "nested_bounds",
    "quantile_bounds",
    "sort_quantiles",
]

Levels = tuple[float, ...]


def level_quantiles(levels: Levels) -> tuple[list[float], list[float]]:
    """Lower and upper quantiles of each central interval: ``(1 -+ level/100) / 2``."""
    lower = [(1 - lv / 100) / 2 for lv in levels]
    upper = [(1 + lv / 100) / 2 for lv in levels]
    return lower, upper


def nested_bounds(
    lower: NDArray[np.float64], upper: NDArray[np.float64], median: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds that nest around the median: lo-95 <= lo-80 <= median <= hi-80 <= hi-95.

    ``lower``, ``upper`` (n, horizon, n_levels) with levels ascending, ``median``
    (n, horizon). Each lower bound becomes the least of itself, the median and the
    lower bounds of the narrower levels; each upper bound likewise the greatest.
    """
    lower = np.minimum.accumulate(np.minimum(lower, median[:, :, None]), axis=2)
    upper = np.maximum.accumulate(np.maximum(upper, median[:, :, None]), axis=2)
    return lower, upper


def quantile_bounds(
    quantile_forecasts: NDArray[np.float64],
    quantiles: tuple[float, ...],
    levels: Levels,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return each level's bounds (n, horizon, n_levels) from quantile forecasts.

    ``quantile_forecasts`` is (n, horizon, len(quantiles)) with ascending
    ``quantiles`` (rounded to 6 decimals) that include every level's ends.
    """
    lower_q, upper_q = level_quantiles(levels)
    position = {q: k for k, q in enumerate(quantiles)}
    lower = [position[round(q, 6)] for q in lower_q]
    upper = [position[round(q, 6)] for q in upper_q]
    return quantile_forecasts[:, :, lower], quantile_forecasts[:, :, upper]


def sort_quantiles(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fix quantile crossing: sort the last axis, which holds ascending quantiles.

    Sorting is the monotone rearrangement of Chernozhukov et al. (2010): it never
    increases the pinball loss and makes ``lo-95 <= lo-80 <= median <= hi-80 <=
    hi-95``.
    """
    return np.sort(values, axis=-1)


def interval_columns(
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    levels: Levels,
    column: str = "yhat",
) -> dict[str, NDArray[np.float64]]:
    """Flat columns ``{column}-lo-{level}``, ``{column}-hi-{level}``.

    ``lower`` and ``upper`` are (n_series, horizon, n_levels), flattened series
    after series. Columns come in the Nixtla order: the lower bounds from the
    widest level in, then the upper bounds from the narrowest level out.
    """
    columns: dict[str, NDArray[np.float64]] = {}
    for j in reversed(range(len(levels))):
        columns[bound_column(column, "lo", levels[j])] = lower[:, :, j].reshape(-1)
    for j in range(len(levels)):
        columns[bound_column(column, "hi", levels[j])] = upper[:, :, j].reshape(-1)
    return columns


def bound_column(column: str, side: str, level: float) -> str:
    """Name of an interval bound column, e.g. ``yhat-lo-80`` (``side``: lo or hi)."""
    return f"{column}-{side}-{level}"
