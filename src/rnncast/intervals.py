r"""Prediction intervals: levels, split-conformal widths, quantile fix-up, columns.

Intervals follow the long-format convention of the Nixtla tools: for a level of
80 (%), the columns ``yhat-lo-80`` and ``yhat-hi-80`` hold the 10 % and 90 %
quantiles of the forecast distribution.

Split conformal prediction (Vovk et al., 2005; Stankeviciute et al., 2021 for
multi-step forecasts): a model's absolute errors :math:`s_{j,k} = |y_{j,k} - \hat
y_{j,k}|` on ``n`` calibration windows that it was not trained on, per horizon
step ``k``, give the width :math:`q_k` of a symmetric interval
:math:`\hat y_k \pm q_k` at level :math:`1 - \alpha`: the
:math:`\lceil (n + 1)(1 - \alpha) \rceil`-th smallest score. If the windows and
the future are exchangeable, the interval covers the truth with probability at
least :math:`1 - \alpha`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from rnncast.data.scaling import seasonal_maes
from rnncast.exceptions import ConfigError

__all__ = [
    "CALIBRATED_INTERVALS",
    "NETWORK_INTERVALS",
    "QUANTILE_INTERVALS",
    "bound_column",
    "check_levels",
    "conformal_bounds",
    "conformal_widths",
    "conformalized_quantile_bounds",
    "interval_columns",
    "level_quantiles",
    "nested_bounds",
    "quantile_bounds",
    "quantile_scores",
    "seasonal_scale",
    "sort_quantiles",
]

Levels = tuple[float, ...]

NETWORK_INTERVALS = ("conformal", "quantile", "cqr")  # Forecaster(intervals=...)
CALIBRATED_INTERVALS = ("conformal", "cqr")  # calibrated on validation windows
QUANTILE_INTERVALS = ("quantile", "cqr")  # the network forecasts quantiles


def check_levels(level: float | Sequence[float] | None) -> Levels:
    """Validate interval levels in percent, e.g. ``[80, 95]``; return them sorted."""
    if level is None:
        return ()
    levels = (level,) if isinstance(level, int | float) else tuple(level)
    for value in levels:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ConfigError(f"levels must be numbers in (0, 100), got {value!r}.")
        if not 0 < float(value) < 100:
            raise ConfigError(
                f"levels are percentages in (0, 100), e.g. [80, 95]; got {value!r}."
            )
    return tuple(sorted({_plain(v) for v in levels}))


def _plain(value: float) -> float:
    """80.0 -> 80 so that column names read ``yhat-lo-80``."""
    value = float(value)
    return int(value) if value.is_integer() else value


def level_quantiles(levels: Levels) -> tuple[list[float], list[float]]:
    """Lower and upper quantiles of each central interval: ``(1 -+ level/100) / 2``."""
    lower = [(1 - lv / 100) / 2 for lv in levels]
    upper = [(1 + lv / 100) / 2 for lv in levels]
    return lower, upper


def conformal_widths(
    scores: NDArray[np.float64], levels: Levels
) -> tuple[NDArray[np.float64], str]:
    r"""Half-widths of split-conformal intervals per horizon step and level.

    Parameters
    ----------
    scores : ndarray of shape (n_windows, horizon)
        Absolute calibration errors; NaN where a target was not observed.
    levels : tuple of float

    Returns
    -------
    widths : ndarray of shape (horizon, n_levels)
    method : {"per-step", "pooled"}
        ``"per-step"``: the conformal quantile of each step's own scores, used when
        every step has enough scores for the highest level,
        :math:`n_k \ge 1/\alpha - 1`. Otherwise ``"pooled"``: the scores of all
        steps are divided by their step's mean score :math:`\bar s_k`, pooled, and
        the conformal quantile :math:`\hat q` of the pool gives
        :math:`q_k = \hat q\,\bar s_k`; widths still grow with the step.
    """
    widths = np.empty((scores.shape[1], len(levels)))
    counts = (~np.isnan(scores)).sum(axis=0)
    needed = max((_needed(lv) for lv in levels), default=1)
    if counts.min() >= needed:
        for k in range(scores.shape[1]):
            column = scores[:, k][~np.isnan(scores[:, k])]
            widths[k] = [_conformal_quantile(column, lv) for lv in levels]
        return widths, "per-step"
    mean_score = np.nanmean(scores, axis=0) if counts.min() > 0 else None
    if mean_score is None or not np.all(mean_score > 0):
        raise ConfigError(
            "too few calibration errors for conformal intervals: a horizon step has "
            f"{int(counts.min())} observed error(s) or only zero errors. Use more "
            "validation_windows or longer series."
        )
    pooled = (scores / mean_score).reshape(-1)
    pooled = pooled[~np.isnan(pooled)]
    for j, lv in enumerate(levels):
        widths[:, j] = _conformal_quantile(pooled, lv) * mean_score
    if not np.isfinite(widths).all():
        raise ConfigError(
            f"too few calibration errors ({len(pooled)}) for a {levels[-1]} % "
            f"conformal interval, which needs at least {_needed(levels[-1])}. Use "
            "more validation_windows, longer series or a lower level."
        )
    return widths, "pooled"


def _needed(level: float) -> int:
    """Fewest scores whose conformal quantile at ``level`` is finite."""
    alpha = 1 - level / 100
    return math.ceil(1 / alpha - 1 - 1e-9)


def _conformal_quantile(scores: NDArray[np.float64], level: float) -> float:
    """Return the ``ceil((n + 1) level / 100)``-th smallest score (inf beyond n)."""
    n = len(scores)
    rank = math.ceil((n + 1) * level / 100 - 1e-9)
    if rank > n:
        return math.inf
    return float(np.partition(scores, rank - 1)[rank - 1])


def seasonal_scale(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    season_length: int,
) -> NDArray[np.float64]:
    r"""Per-series unit of conformal scores: the in-sample MAE of seasonal naive.

    :math:`d_i = \operatorname{mean}_t |y_t - y_{t-m}|` over the first
    ``lengths[i]`` values of series ``i`` (:func:`~rnncast.data.scaling.seasonal_mae`
    of every series at once, :func:`~rnncast.data.scaling.seasonal_maes`: pairs
    with a gap left out, lag 1 when no two values a season apart are observed),
    the denominator of MASE and MSIS.
    Errors divided by it are comparable across series of any level and
    volatility, so one pool of scores serves all series, and interval widths come
    out proportional to each series' own step-to-step variability. 1 where it is
    zero or undefined.

    Returns
    -------
    ndarray of shape (n_series,)
    """
    maes = seasonal_maes(values, offsets, lengths, season_length)
    return np.where(np.isnan(maes), 1.0, maes)


def conformal_bounds(
    forecasts: NDArray[np.float64],
    scores: NDArray[np.float64],
    unit: NDArray[np.float64],
    levels: Levels,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    r"""Return symmetric conformal bounds :math:`\hat y \mp q_k u_i` of forecasts.

    ``forecasts`` (n_series, horizon), ``scores`` the calibration errors in
    conformal units (n_windows, horizon), ``unit`` each series' unit
    (:func:`seasonal_scale`). Returns lower and upper bounds (n_series, horizon,
    n_levels) and the method of :func:`conformal_widths`.
    """
    widths, method = conformal_widths(scores, levels)  # (horizon, n_levels)
    spread = widths[None, :, :] * unit[:, None, None]  # (n, horizon, n_levels)
    return forecasts[:, :, None] - spread, forecasts[:, :, None] + spread, method


def quantile_scores(
    lower: NDArray[np.float64], upper: NDArray[np.float64], targets: NDArray[np.float64]
) -> NDArray[np.float64]:
    r"""Conformity scores of quantile intervals (Romano et al., 2019).

    :math:`E = \max(\hat q_{lo} - y,\; y - \hat q_{hi})`: negative when ``y`` lies
    inside the interval (by how far from its nearer bound), positive outside.
    ``lower``, ``upper`` (n, horizon, n_levels), ``targets`` (n, horizon); returns
    (n, horizon, n_levels), NaN where a target is NaN.
    """
    y = targets[:, :, None]
    return np.maximum(lower - y, y - upper)


def conformalized_quantile_bounds(
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    scores: NDArray[np.float64],
    unit: NDArray[np.float64],
    levels: Levels,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    r"""Conformalized quantile regression: widen (or narrow) quantile intervals.

    For each level :math:`1 - \alpha` and horizon step :math:`k`, :math:`c_k` is the
    :math:`\lceil (n + 1)(1 - \alpha) \rceil`-th smallest of the ``n`` calibration
    scores :func:`quantile_scores` (in conformal units), and the interval becomes
    :math:`[\hat q_{lo} - c_k u_i,\; \hat q_{hi} + c_k u_i]`: it covers with
    probability at least :math:`1 - \alpha` under exchangeability, and keeps the
    heads' width from series to series. ``c_k`` is negative when the heads'
    intervals were too wide.

    ``lower``, ``upper`` (n, horizon, n_levels) from the quantile heads, ``scores``
    (n_windows, horizon, n_levels) for the same levels, ``unit`` (n,). Returns the
    bounds and the method: ``"per-step"`` when every step has enough scores for
    the highest level, else ``"pooled"`` (one :math:`c` from all steps' scores).
    """
    counts = (~np.isnan(scores[:, :, -1])).sum(axis=0)
    needed = _needed(levels[-1])
    per_step = counts.min() >= needed
    shift = np.empty((scores.shape[1], len(levels)))  # (horizon, n_levels)
    for j, level in enumerate(levels):
        columns = (
            [scores[:, k, j] for k in range(scores.shape[1])]
            if per_step
            else [scores[:, :, j].reshape(-1)]
        )
        values = [_conformal_quantile(c[~np.isnan(c)], level) for c in columns]
        shift[:, j] = values
    if not np.isfinite(shift).all():
        raise ConfigError(
            f"too few calibration scores ({int(counts.sum())}) for a {levels[-1]} % "
            f"conformalized interval, which needs at least {needed}. Use more "
            "validation_windows, longer series or a lower level."
        )
    spread = shift[None, :, :] * unit[:, None, None]
    method = "per-step" if per_step else "pooled"
    return lower - spread, upper + spread, method


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
