"""Simple benchmark forecasters: naive, seasonal naive and drift.

Each method's arithmetic is a pure function over one series; the classes are thin
wrappers with the same ``fit`` / ``predict`` interface as
:class:`~rnncast.forecaster.Forecaster`. Formulas follow Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice* (3rd ed.), section 5.2, and statsforecast's
``Naive``, ``SeasonalNaive`` and ``RandomWalkWithDrift``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast._checks import require_positive_int
from rnncast.data.frame import (
    Freq,
    forecast_frame,
    season_length_from_freq,
    to_long_frame,
    validate_frame,
)
from rnncast.exceptions import DataError, NotFittedError

__all__ = ["Drift", "Naive", "SeasonalNaive", "drift", "naive", "seasonal_naive"]


def naive(y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
    r"""Repeat the last value: :math:`\hat y_{T+h} = y_T`."""
    return np.full(horizon, y[-1], dtype=np.float64)


def seasonal_naive(
    y: NDArray[np.float64], horizon: int, season_length: int
) -> NDArray[np.float64]:
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


def drift(y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
    r"""Random walk with drift: :math:`\hat y_{T+h} = y_T + h \frac{y_T - y_1}{T - 1}`.

    The slope is the average change over the history; a single value has slope 0.
    """
    slope = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 0.0
    return y[-1] + slope * np.arange(1, horizon + 1, dtype=np.float64)


class _LocalBaseline:
    """Fit stores each series' history; predict applies the method per series."""

    alias = ""

    def __init__(self, *, horizon: int, freq: Freq | None = None) -> None:
        self.horizon = horizon
        self.freq = freq

    def fit(self, data: Any) -> _LocalBaseline:
        """Store the validated history of every series; return ``self``."""
        require_positive_int("horizon", self.horizon)
        self.series_ = validate_frame(to_long_frame(data), freq=self.freq)
        return self

    def predict(self) -> pd.DataFrame:
        """Return ``unique_id, ds, <alias>`` with ``horizon`` rows per series."""
        if not hasattr(self, "series_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) first."
            )
        s, h = self.series_, self.horizon
        values = np.stack([self._forecast(s.series(i), h) for i in range(s.n_series)])
        return forecast_frame(s.ids, s.last_ds, s.freq, values, column=self.alias)

    def _forecast(self, y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
        raise NotImplementedError


class Naive(_LocalBaseline):
    """Last value carried forward (:func:`naive`)."""

    alias = "naive"

    def _forecast(self, y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
        return naive(y, horizon)


class Drift(_LocalBaseline):
    """Random walk with drift (:func:`drift`)."""

    alias = "drift"

    def _forecast(self, y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
        return drift(y, horizon)


class SeasonalNaive(_LocalBaseline):
    """Last season repeated (:func:`seasonal_naive`).

    Parameters
    ----------
    horizon : int
        Steps to forecast.
    season_length : int, optional
        Seasonal period; inferred from the frequency if omitted.
    freq : str or int, optional
        Frequency of the data; inferred if omitted.
    """

    alias = "snaive"

    def __init__(
        self,
        *,
        horizon: int,
        season_length: int | None = None,
        freq: Freq | None = None,
    ) -> None:
        super().__init__(horizon=horizon, freq=freq)
        self.season_length = season_length

    def _forecast(self, y: NDArray[np.float64], horizon: int) -> NDArray[np.float64]:
        m = self.season_length or season_length_from_freq(self.series_.freq)
        return seasonal_naive(y, horizon, m)
