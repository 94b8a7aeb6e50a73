"""The simple methods, as pure functions over one series: naive, seasonal naive, drift.

Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., section
5.2; statsforecast's ``Naive``, ``SeasonalNaive``, ``RandomWalkWithDrift``. Each
comes with normal intervals from its residuals (:func:`simple_sigma`).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnncast.data.series import Freq
from rnncast.exceptions import DataError

__all__ = [
    "SeriesTask",
    "drift",
    "naive",
    "normal_bounds",
    "seasonal_naive",
    "simple_forecast",
    "simple_sigma",
]

Array = NDArray[np.float64]


def naive(y: Array, horizon: int) -> Array:
    r"""Repeat the last value: :math:`\hat y_{T+h} = y_T`."""
    return np.full(horizon, y[-1], dtype=np.float64)


def seasonal_naive(y: Array, horizon: int, season_length: int) -> Array:
    r"""Repeat the last season.

    :math:`\hat y_{T+h} = y_{T+h-m(\lfloor (h-1)/m \rfloor+1)}` for period :math:`m`.

    Examples
    --------
    >>> seasonal_naive(np.array([1.0, 2, 3, 4, 5]), horizon=3, season_length=2)
    array([4., 5., 4.])
    """
    m = season_length
    if len(y) < m:
        raise DataError(
            f"seasonal naive needs one full season ({m} values); the series has "
            f"{len(y)}."
        )
    last_season = y[-m:]
    return last_season[np.arange(horizon) % m].astype(np.float64)


def normal_bounds(mean: Array, sigma: Array, levels: tuple[float, ...]) -> Array:
    r"""Forecast and normal interval bounds, shape (horizon, 1 + 2 n_levels).

    Columns: ``mean``, the lower bounds of each level, the upper bounds of each
    level: :math:`\hat y_h \mp z_{(1 + \ell/100)/2}\, \sigma_h`.
    """
    z = np.array([NormalDist().inv_cdf((1 + lv / 100) / 2) for lv in levels])
    spread = sigma[:, None] * z[None, :]  # (horizon, n_levels)
    return np.column_stack([mean, mean[:, None] - spread, mean[:, None] + spread])


def simple_sigma(y: Array, horizon: int, method: str, season_length: int = 1) -> Array:
    r"""Return the std of the h-step forecast errors of naive, snaive and drift.

    From the one-step residuals :math:`e_t` (``naive``: :math:`y_t - y_{t-1}`;
    ``snaive``: :math:`y_t - y_{t-m}`; ``drift``: :math:`y_t - y_{t-1} - b`) with
    :math:`\hat\sigma = \sqrt{\overline{e^2}}` (Hyndman & Athanasopoulos, FPP3,
    table 5.2): naive :math:`\hat\sigma\sqrt h`; seasonal naive
    :math:`\hat\sigma\sqrt{k + 1}`, :math:`k = \lfloor (h - 1)/m \rfloor`; drift
    :math:`\hat\sigma\sqrt{h (1 + h/T)}`. A series too short for residuals gets 0.
    """
    h = np.arange(1, horizon + 1, dtype=np.float64)
    lag = season_length if method == "snaive" else 1
    residuals = y[lag:] - y[:-lag]
    if method == "drift" and len(residuals):
        residuals = residuals - residuals.mean()
    sigma = _rms(residuals)
    if method == "naive":
        return sigma * np.sqrt(h)
    if method == "snaive":
        return sigma * np.sqrt(np.floor((h - 1) / season_length) + 1)
    return sigma * np.sqrt(h * (1 + h / len(y)))


def _rms(values: Array) -> float:
    """Root mean square, safe from overflow for values near 1e154 and above."""
    peak = float(np.max(np.abs(values))) if len(values) else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return peak
    return peak * float(np.sqrt(np.mean((values / peak) ** 2)))


def drift(y: Array, horizon: int) -> Array:
    r"""Random walk with drift: :math:`\hat y_{T+h} = y_T + h \frac{y_T - y_1}{T - 1}`.

    The slope is the average change over the history; a single value has slope 0.
    """
    slope = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 0.0
    return y[-1] + slope * np.arange(1, horizon + 1, dtype=np.float64)


@dataclass(frozen=True)
class SeriesTask:
    """What one local fit needs: the values, their first time, frequency and sizes."""

    values: Array
    first_ds: Any
    freq: Freq
    horizon: int
    season_length: int
    levels: tuple[float, ...] = ()  # interval levels in percent; () for none
    exog: Array | None = None  # (n, k) future-known covariates of the values
    future_exog: Array | None = None  # (horizon, k) the same for the horizon


def simple_forecast(method: str, task: SeriesTask) -> Array:
    """``method``'s forecast of one series with its normal bounds.

    ``method``: ``"naive"``, ``"snaive"`` or ``"drift"``. Returns (horizon,
    1 + 2 n_levels): the forecast, the lower bounds, the upper bounds.
    """
    m = task.season_length
    if method == "naive":
        mean = naive(task.values, task.horizon)
    elif method == "snaive":
        mean = seasonal_naive(task.values, task.horizon, m)
    else:
        mean = drift(task.values, task.horizon)
    sigma = simple_sigma(task.values, task.horizon, method, m)
    return normal_bounds(mean, sigma, task.levels)
