"""Baselines from the libraries people script with: pmdarima and statsmodels.

* ``pmdarima``: pmdarima's ``auto_arima`` with the settings its documentation
  recommends for seasonal data (stepwise search, ``seasonal=True, m=season``,
  ``suppress_warnings=True, error_action="ignore"``); future-known covariates as
  its ``X``. Extra ``rnncast[pmdarima]``.
* ``sm-ets``: statsmodels' ``ETSModel`` with additive errors, chosen by AICc
  among no trend / damped additive trend, each without and (with two seasons of
  history) with an additive season. Extra ``rnncast[statsmodels]``.
* ``sarimax``: statsmodels' ``SARIMAX`` with the airline orders,
  :math:`(1,1,1)(0,1,1)_m` (:math:`(1,1,1)` without a season), future-known
  covariates as ``exog``.
* :class:`OwnModel`: a user's configured pmdarima estimator (``pm.ARIMA(...)``,
  ``pm.arima.AutoARIMA(...)``, cloned for each series) or statsmodels model
  factory (a callable ``y -> model``, e.g. ``functools.partial(SARIMAX,
  order=(2, 1, 0))``), under the name the user gives it.

Intervals are each library's own (``level=``); ``intervals="conformal"`` works
as for every baseline.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.baselines.base import Baseline
from rnncast.baselines.models import require_package
from rnncast.baselines.simple import SeriesTask
from rnncast.exceptions import ConfigError

__all__ = ["OwnModel", "PmdarimaAutoARIMA", "StatsmodelsETS", "StatsmodelsSARIMAX"]

Array = NDArray[np.float64]


class PmdarimaAutoARIMA(Baseline):
    """pmdarima's ``auto_arima``, seasonal where the series holds two seasons."""

    alias = "pmdarima"
    extra = "pmdarima"
    reads_covariates = True

    def _check_engine(self) -> None:
        require_package("pmdarima", self.extra)

    def forecast_one(self, task: SeriesTask) -> Array:
        """Search the orders on one series and forecast it."""
        import pmdarima as pm

        m = task.season_length
        seasonal = m > 1 and len(task.values) >= 2 * m
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pm.auto_arima(
                task.values,
                X=task.exog,
                seasonal=seasonal,
                m=m if seasonal else 1,
                stepwise=True,
                suppress_warnings=True,
                error_action="ignore",
            )
        return pmdarima_forecast(model, task)


class StatsmodelsETS(Baseline):
    """statsmodels' ETSModel (additive errors), the form chosen by AICc."""

    alias = "sm-ets"
    extra = "statsmodels"

    def _check_engine(self) -> None:
        require_package("statsmodels", self.extra)

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit the candidate forms on one series; forecast with the best."""
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        m = task.season_length
        y = pd.Series(task.values)
        forms = [{}, {"trend": "add", "damped_trend": True}]
        if m > 1 and len(y) >= 2 * m:
            forms += [{**f, "seasonal": "add", "seasonal_periods": m} for f in forms]
        fits = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for form in forms:
                try:
                    fits.append(ETSModel(y, error="add", **form).fit(disp=False))
                except (ValueError, np.linalg.LinAlgError):
                    continue  # a form the series cannot carry
        if not fits:
            raise ValueError("no ETS form could be fitted")
        best = min(fits, key=lambda r: r.aicc if np.isfinite(r.aicc) else np.inf)
        return statsmodels_forecast(best, task)


class StatsmodelsSARIMAX(Baseline):
    """statsmodels' SARIMAX with the airline orders (1,1,1)(0,1,1)m."""

    alias = "sarimax"
    extra = "statsmodels"
    reads_covariates = True

    def _check_engine(self) -> None:
        require_package("statsmodels", self.extra)

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit SARIMAX on one series and forecast it."""
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        m = task.season_length
        seasonal = (0, 1, 1, m) if m > 1 and len(task.values) >= 2 * m else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SARIMAX(
                pd.Series(task.values),
                exog=task.exog,
                order=(1, 1, 1),
                seasonal_order=seasonal or (0, 0, 0, 0),
            )
            return statsmodels_forecast(model.fit(disp=False), task)


class OwnModel(Baseline):
    """A user's configured pmdarima estimator or statsmodels model factory.

    Parameters
    ----------
    model : pmdarima estimator or callable
        A pmdarima model (``pm.ARIMA(order=(1, 1, 1))``,
        ``pm.arima.AutoARIMA(m=12)``...), cloned and fitted on each series; or
        a callable taking the series (a pandas Series) and, with
        ``futr_exog``, ``exog=`` and returning an unfitted statsmodels model
        (``functools.partial(ExponentialSmoothing, trend="add")``).
    alias : str, default "own"
        The model's name in backtests and leaderboards.
    **params
        The other :class:`~rnncast.baselines.Baseline` parameters.
    """

    reads_covariates = True  # when the model takes them

    def __init__(self, model: Any, *, alias: str = "own", **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        self.alias = alias  # type: ignore[misc]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the model, its alias and the baseline parameters."""
        return {"model": self.model, "alias": self.alias, **super().get_params(deep)}

    def _check_engine(self) -> None:
        if not (_is_pmdarima(self.model) or callable(self.model)):
            raise ConfigError(
                f"OwnModel takes a pmdarima model or a callable that builds a "
                f"statsmodels model from the series, got {type(self.model).__name__}."
            )

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit the user's model on one series and forecast it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if _is_pmdarima(self.model):
                from sklearn.base import clone

                model = clone(self.model).fit(task.values, X=task.exog)
                return pmdarima_forecast(model, task)
            build: Callable[..., Any] = self.model
            extra = {} if task.exog is None else {"exog": task.exog}
            results = build(pd.Series(task.values), **extra).fit()
            return statsmodels_forecast(results, task)

    def save(self, path: Any) -> None:
        """Refuse: a user's model object has no JSON form here."""
        raise ConfigError(
            "an OwnModel holds your own model object, which rnncast cannot write as "
            "JSON; save the model with its library, or refit it from the data."
        )


def pmdarima_forecast(model: Any, task: SeriesTask) -> Array:
    """Return a fitted pmdarima model's forecast and bounds, (horizon, 1 + 2 levels)."""
    mean = np.asarray(model.predict(n_periods=task.horizon, X=task.future_exog))
    lower, upper = [], []
    for level in task.levels:
        _, bounds = model.predict(
            n_periods=task.horizon,
            X=task.future_exog,
            return_conf_int=True,
            alpha=1 - level / 100,
        )
        lower.append(bounds[:, 0])
        upper.append(bounds[:, 1])
    return np.column_stack([mean, *lower, *upper])


def statsmodels_forecast(results: Any, task: SeriesTask) -> Array:
    """Return fitted statsmodels results' forecast and bounds.

    ``get_forecast`` (SARIMAX, ARIMA) or ``get_prediction`` (ETSModel) give the
    bounds; results with only ``forecast`` (Holt-Winters) give the point
    forecast, and bounds from 1,000 simulated paths.
    """
    n, h = len(task.values), task.horizon
    extra = {} if task.future_exog is None else {"exog": task.future_exog}
    if hasattr(results, "get_forecast"):
        prediction = results.get_forecast(h, **extra)
        bounds = ("mean_ci_lower", "mean_ci_upper")
    elif hasattr(results, "get_prediction"):
        prediction = results.get_prediction(start=n, end=n + h - 1, **extra)
        bounds = ("pi_lower", "pi_upper")
    else:
        mean = np.asarray(results.forecast(h), dtype=np.float64)
        if not task.levels:
            return mean[:, None]
        paths = np.asarray(results.simulate(h, repetitions=1000, random_state=0))
        lows = [np.quantile(paths, (1 - lv / 100) / 2, axis=1) for lv in task.levels]
        highs = [np.quantile(paths, (1 + lv / 100) / 2, axis=1) for lv in task.levels]
        return np.column_stack([mean, *lows, *highs])
    mean = np.asarray(prediction.predicted_mean, dtype=np.float64)
    frames = [prediction.summary_frame(alpha=1 - lv / 100) for lv in task.levels]
    lows = [f[bounds[0]].to_numpy() for f in frames]
    highs = [f[bounds[1]].to_numpy() for f in frames]
    return np.column_stack([mean, *lows, *highs])


def _is_pmdarima(model: Any) -> bool:
    return type(model).__module__.startswith("pmdarima")
