"""The baselines: naive, seasonal naive, drift; auto-ARIMA, ETS, Theta, MSTL; Prophet.

* Simple methods, computed here (:mod:`rnncast.baselines.simple`).
* Statistical models from well-kept libraries: auto-ARIMA, ETS, Theta and MSTL
  from statsforecast (extra ``rnncast[baselines]``) and Prophet (extra
  ``rnncast[prophet]``).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.baselines.base import Baseline
from rnncast.baselines.simple import SeriesTask, simple_forecast
from rnncast.data.series import seasons_from_freq, series_timestamps
from rnncast.exceptions import ConfigError

__all__ = [
    "MSTL",
    "AutoARIMA",
    "AutoETS",
    "AutoTheta",
    "Drift",
    "Naive",
    "Prophet",
    "SeasonalNaive",
]

Array = NDArray[np.float64]


class _Simple(Baseline):
    """Methods computed here in microseconds: no worker processes, no time limit."""

    isolated = False

    def forecast_one(self, task: SeriesTask) -> Array:
        """Forecast one series (and its normal intervals)."""
        return simple_forecast(self.alias, task)


class Naive(_Simple):
    """Last value carried forward (:func:`~rnncast.baselines.simple.naive`)."""

    alias = "naive"


class SeasonalNaive(_Simple):
    """Last season repeated (:func:`~rnncast.baselines.simple.seasonal_naive`)."""

    alias = "snaive"


class Drift(_Simple):
    """Random walk with drift (:func:`~rnncast.baselines.simple.drift`)."""

    alias = "drift"


class _StatsForecast(Baseline):
    """A statsforecast model fitted on one series (its ``forecast`` method)."""

    extra = "baselines"
    engine: ClassVar[str] = ""

    def _check_engine(self) -> None:
        # workers inherit the import
        require_package("statsforecast.models", self.extra)

    def model(self, task: SeriesTask) -> Any:
        """Return the statsforecast model to fit on one series."""
        import statsforecast.models as sf

        return getattr(sf, self.engine)(season_length=task.season_length)

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit the statsforecast model on one series and forecast it."""
        model = self.model(task)
        levels = list(task.levels)
        exog, future = task.exog, task.future_exog
        if exog is not None and future is not None:
            varying = np.ptp(exog, axis=0) > 0  # a constant one repeats the mean
            exog, future = (
                (exog[:, varying], future[:, varying])
                if varying.any()
                else (None, None)
            )
        out = model.forecast(
            y=task.values,
            h=task.horizon,
            X=exog,
            X_future=future,
            level=levels or None,
        )
        return np.column_stack(
            [out["mean"]]
            + [out[f"lo-{lv}"] for lv in levels]
            + [out[f"hi-{lv}"] for lv in levels]
        )


class AutoARIMA(_StatsForecast):
    """Automatic ARIMA (Hyndman & Khandakar, 2008) from statsforecast."""

    alias = "arima"
    engine = "AutoARIMA"
    reads_covariates = True  # regression with ARIMA errors


class AutoETS(_StatsForecast):
    """Automatic exponential smoothing (ETS state-space models) from statsforecast."""

    alias = "ets"
    engine = "AutoETS"


class AutoTheta(_StatsForecast):
    """Automatic Theta method (standard, optimised, dynamic) from statsforecast."""

    alias = "theta"
    engine = "AutoTheta"


class MSTL(_StatsForecast):
    """MSTL (Bandara, Hyndman and Bergmeir, 2021) from statsforecast, AutoETS trend.

    Every season is taken out by STL in turn, shortest first; the rest is
    forecast by a non-seasonal AutoETS and the seasons are added back. The
    seasons are ``season_length`` and the frequency's longer usual periods
    (:func:`~rnncast.data.series.seasons_from_freq`: a week of hourly data),
    rounded to whole steps, each kept where the series holds two of it; with
    none (or a season under 2) the forecast is the non-seasonal AutoETS alone.
    """

    alias = "mstl"
    engine = "MSTL"

    def model(self, task: SeriesTask) -> Any:
        """Return MSTL over the series' seasons, or AutoETS without any."""
        import statsforecast.models as sf

        periods = [task.season_length] + [
            round(p) for p in seasons_from_freq(task.freq) if p > task.season_length
        ]
        periods = [p for p in periods if p >= 2 and 2 * p <= len(task.values)]
        trend = sf.AutoETS(model="ZZN")
        if not periods:
            return trend
        return sf.MSTL(season_length=periods, trend_forecaster=trend)


class Prophet(Baseline):
    """Prophet (Taylor & Letham, 2018) with its default trend and seasonalities.

    Integer time steps are mapped to consecutive days, since Prophet needs dates.
    With ``futr_exog``, each covariate is an added regressor.
    """

    alias = "prophet"
    extra = "prophet"
    reads_covariates = True  # added regressors

    def _check_engine(self) -> None:
        _quiet_prophet()
        require_package("prophet", self.extra)

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit Prophet on one series and forecast it."""
        _quiet_prophet()
        from prophet import Prophet as _Prophet

        _quiet_prophet()

        integer_time = isinstance(task.freq, int)
        freq = "D" if integer_time else task.freq
        first = pd.Timestamp("2000-01-01") if integer_time else task.first_ds
        n = len(task.values)
        ds = series_timestamps(first, freq, n + task.horizon)
        if ds.tz is not None:  # Prophet needs naive timestamps
            ds = ds.tz_localize(None)
        model = _Prophet()
        past = pd.DataFrame({"ds": ds[:n], "y": task.values})
        future = pd.DataFrame({"ds": ds[n:]})
        if task.exog is not None and task.future_exog is not None:
            for j in range(task.exog.shape[1]):
                model.add_regressor(f"x{j}")
                past[f"x{j}"] = task.exog[:, j]
                future[f"x{j}"] = task.future_exog[:, j]
        model = model.fit(past)
        columns = [model.predict(future)["yhat"].to_numpy()]
        bounds = []
        for lv in task.levels:  # Prophet draws its intervals at interval_width
            model.interval_width = lv / 100
            np.random.seed(0)  # noqa: NPY002 - Prophet samples from the global RNG
            bounds.append(model.predict(future)[["yhat_lower", "yhat_upper"]])
        columns += [b["yhat_lower"].to_numpy() for b in bounds]
        columns += [b["yhat_upper"].to_numpy() for b in bounds]
        return np.column_stack(columns)


def _quiet_prophet() -> None:
    """Prophet and cmdstanpy log every fit at INFO level; the library prints nothing."""
    logging.getLogger("prophet").setLevel(logging.ERROR)
    # Prophet logs a missing optional plotly at ERROR level on import.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    try:
        from cmdstanpy.utils import get_logger
    except ImportError:
        return
    get_logger().setLevel(logging.ERROR)  # it sets DEBUG on first use


def require_package(module: str, extra: str | None) -> None:
    """ConfigError naming the extra to install when ``module`` is missing."""
    try:
        __import__(module)
    except ImportError as e:
        raise ConfigError(
            f"this baseline needs the '{module.split('.')[0]}' package; install it "
            f"with pip install 'rnncast[{extra}]'."
        ) from e
