"""Benchmark forecasters with the same interface as :class:`~rnncast.Forecaster`.

* Simple methods, computed here as pure functions over one series: naive, seasonal
  naive and drift (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
  3rd ed., section 5.2; statsforecast's ``Naive``, ``SeasonalNaive``,
  ``RandomWalkWithDrift``).
* Statistical models from well-kept libraries: auto-ARIMA, ETS and Theta from
  statsforecast (extra ``rnncast[baselines]``) and Prophet (extra ``rnncast[prophet]``).

Every model is local: ``fit`` estimates it on each series separately, in worker
processes with a per-series time limit. A series whose fit fails or runs past the
limit gets the seasonal-naive forecast instead (naive if it is shorter than a season),
and the reason is recorded in ``fallbacks_``; the run never stops for one series.
``save`` writes JSON (parameters and the training data) and ``load`` refits from it:
local statistical models are cheap to re-estimate and exactly reproducible.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast._checks import require_positive_int
from rnncast._version import __version__
from rnncast.data.frame import (
    Freq,
    SeriesData,
    decode_time,
    encode_time,
    forecast_frame,
    python_scalar,
    season_length_from_freq,
    series_timestamps,
    to_long_frame,
    validate_frame,
)
from rnncast.exceptions import ConfigError, DataError, ModelFileError, NotFittedError
from rnncast.intervals import (
    check_conformal_errors,
    check_conformal_unit,
    check_levels,
    conformal_bounds,
    conformal_unit,
    interval_columns,
)
from rnncast.io import atomic_path
from rnncast.runner import default_jobs, run_all

__all__ = [
    "BASELINES",
    "AutoARIMA",
    "AutoETS",
    "AutoTheta",
    "Baseline",
    "Drift",
    "Naive",
    "Prophet",
    "SeasonalNaive",
    "drift",
    "make_baseline",
    "naive",
    "seasonal_naive",
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


class Baseline:
    """A local forecasting model; subclasses implement :meth:`forecast_one`.

    Parameters
    ----------
    horizon : int
        Steps to forecast.
    season_length : int, optional
        Seasonal period; inferred from the frequency if omitted.
    freq : str or int, optional
        Frequency of the data; inferred if omitted.
    time_limit : float or None, default 60
        Seconds one series may take before it falls back to seasonal naive.
    n_jobs : int, optional
        Worker processes; default all available cores.
    levels : sequence of float, default ()
        Interval levels in percent computed by ``fit``. :meth:`predict` with
        another level re-estimates the model.
    intervals : {"model", "conformal"}, default "model"
        ``"model"``: the model's own intervals (normal intervals from the
        residuals for the simple methods, statsforecast's ``level=``, Prophet's
        uncertainty intervals). ``"conformal"``: split-conformal intervals as the
        networks make them: the model is refitted at ``calibration_windows``
        origins, 1 to ``calibration_windows`` steps before the last ``horizon``
        values, and its errors there, divided by each series' unit on the values
        before each origin (:func:`~rnncast.intervals.conformal_unit`; see
        ``conformal_unit``), give per-step offsets
        (:func:`~rnncast.intervals.conformal_offsets`).
    calibration_windows : int, default 3
        Origins per series for ``intervals="conformal"``.
    conformal_errors : {"signed", "absolute"}, default "signed"
        As the networks' parameter of that name: each tail from the signed
        errors (symmetric where they, or the independent origins, are too few:
        origins less than a horizon apart count once), or symmetric from the
        absolute errors.
    conformal_unit : {"recent", "seasonal"}, default "recent"
        As the networks' parameter of that name: each series' unit of the
        conformal errors, its seasonal-naive MAE or (the default) that MAE's
        geometric mean with the series' recent noise.
    """

    alias: ClassVar[str] = ""
    extra: ClassVar[str | None] = None  # the pip extra that provides the engine
    isolated: ClassVar[bool] = True  # fit in worker processes under a time limit

    def __init__(
        self,
        *,
        horizon: int,
        season_length: int | None = None,
        freq: Freq | None = None,
        time_limit: float | None = 60.0,
        n_jobs: int | None = None,
        levels: Sequence[float] = (),
        intervals: str = "model",
        calibration_windows: int = 3,
        conformal_errors: str = "signed",
        conformal_unit: str = "recent",
    ) -> None:
        self.horizon = horizon
        self.season_length = season_length
        self.freq = freq
        self.time_limit = time_limit
        self.n_jobs = n_jobs
        self.levels = levels
        self.intervals = intervals
        self.calibration_windows = calibration_windows
        self.conformal_errors = conformal_errors
        self.conformal_unit = conformal_unit

    def get_params(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (scikit-learn convention)."""
        return {
            "horizon": self.horizon,
            "season_length": self.season_length,
            "freq": self.freq,
            "time_limit": self.time_limit,
            "n_jobs": self.n_jobs,
            "levels": list(check_levels(self.levels)),
            "intervals": self.intervals,
            "calibration_windows": self.calibration_windows,
            "conformal_errors": self.conformal_errors,
            "conformal_unit": self.conformal_unit,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(horizon={self.horizon!r})"

    def fit(self, data: Any) -> Baseline:
        """Fit the model on every series of ``data`` and compute its forecasts.

        Returns
        -------
        Baseline
            ``self``, fitted; ``fallbacks_`` maps each series that fell back to
            seasonal naive to the reason.
        """
        require_positive_int("horizon", self.horizon)
        require_positive_int("calibration_windows", self.calibration_windows)
        if self.intervals not in ("model", "conformal"):
            raise ConfigError(
                f"unknown intervals {self.intervals!r}; choose 'model' or 'conformal'."
            )
        check_conformal_errors(self.conformal_errors)
        check_conformal_unit(self.conformal_unit)
        if self.season_length is not None:
            require_positive_int("season_length", self.season_length)
        self._check_engine()
        self.levels_ = check_levels(self.levels)
        self.series_ = validate_frame(to_long_frame(data), freq=self.freq)
        self.outputs_, self.fallbacks_ = self._forecast_all(self.series_, self.levels_)
        return self

    def predict(
        self, data: Any = None, *, level: float | Sequence[float] | None = None
    ) -> pd.DataFrame:
        """Return ``unique_id, ds, <alias>`` with ``horizon`` rows per series.

        With ``data``, the model is re-estimated on that history first (a local
        model has no parameters that carry over from one history to another).
        With ``level``, the columns ``<alias>-lo-<level>`` and ``<alias>-hi-<level>``
        are added (re-estimating the model if ``fit`` did not compute that level).
        """
        if not hasattr(self, "series_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) first."
            )
        levels = check_levels(level)
        if data is not None:
            series = validate_frame(to_long_frame(data), freq=self.series_.freq)
            computed = levels
            outputs, self.fallbacks_ = self._forecast_all(series, computed)
        else:
            if not set(levels) <= set(self.levels_):  # refit with the new levels too
                self.levels_ = tuple(sorted({*levels, *self.levels_}))
                self.outputs_, self.fallbacks_ = self._forecast_all(
                    self.series_, self.levels_
                )
            series, outputs, computed = self.series_, self.outputs_, self.levels_
        frame = forecast_frame(
            series.ids, series.last_ds, series.freq, outputs[:, :, 0], column=self.alias
        )
        if not levels:
            return frame
        n = len(computed)
        picks = [computed.index(lv) for lv in levels]
        lower = outputs[:, :, 1 : 1 + n][:, :, picks]
        upper = outputs[:, :, 1 + n :][:, :, picks]
        return frame.assign(**interval_columns(lower, upper, levels, self.alias))

    @property
    def forecasts_(self) -> Array:
        """Point forecasts of the fitted series, (n_series, horizon)."""
        return self.outputs_[:, :, 0]

    def forecast_one(self, task: SeriesTask) -> Array:
        """Forecast ``task.horizon`` steps of one series."""
        raise NotImplementedError

    def _forecast_all(
        self, series: SeriesData, levels: tuple[float, ...] = ()
    ) -> tuple[Array, dict[Any, str]]:
        """Forecasts and bounds (n_series, horizon, 1 + 2 n_levels), and fallbacks."""
        if self.intervals == "conformal" and levels:
            return self._conformal(series, levels)
        return self._run(series, levels)

    def _conformal(
        self, series: SeriesData, levels: tuple[float, ...]
    ) -> tuple[Array, dict[Any, str]]:
        """Return point forecasts with split-conformal bounds from earlier refits.

        Each calibration error is divided by its series' unit
        (:func:`~rnncast.intervals.conformal_unit`) measured on the values before
        that window's origin, as the bounds use the unit of the whole history
        before the forecast's origin; the networks' scores likewise use the values
        before their validation windows.
        """
        point, fallbacks = self._run(series, ())
        m = self._season(series)
        kind = self.conformal_unit
        scale = conformal_unit(series.values, series.offsets, series.lengths, m, kind)
        scores = []
        for j in range(self.calibration_windows):
            lengths = series.lengths - self.horizon - j
            usable = lengths >= 2
            cut = series.head(np.maximum(lengths, 1))
            unit = conformal_unit(cut.values, cut.offsets, cut.lengths, m, kind)
            forecast, _ = self._run(cut, ())
            actual = np.stack(
                [
                    series.series(i)[lengths[i] : lengths[i] + self.horizon]
                    if usable[i]
                    else np.full(self.horizon, np.nan)
                    for i in range(series.n_series)
                ]
            )
            errors = (actual - forecast[:, :, 0]) / unit[:, None]
            scores.append(np.where(usable[:, None], errors, np.nan))
        mean = point[:, :, 0]
        lower, upper, _ = conformal_bounds(
            mean,
            np.concatenate(scores),
            scale,
            levels,
            signed=check_conformal_errors(self.conformal_errors),
            owners=np.tile(np.arange(series.n_series), self.calibration_windows),
            overlap=self.horizon,  # origins 1 step apart
        )
        return np.concatenate([mean[:, :, None], lower, upper], axis=2), fallbacks

    def _run(
        self, series: SeriesData, levels: tuple[float, ...]
    ) -> tuple[Array, dict[Any, str]]:
        m = self._season(series)
        tasks = [
            SeriesTask(
                series.series(i),
                series.first_ds[i],
                series.freq,
                self.horizon,
                m,
                levels,
            )
            for i in range(series.n_series)
        ]
        # Simple methods run here; the others in workers under the time limit.
        outcomes = run_all(
            self._checked_forecast,
            tasks,
            time_limit=self.time_limit if self.isolated else None,
            n_jobs=(self.n_jobs or default_jobs()) if self.isolated else 1,
        )
        forecasts = np.empty((series.n_series, self.horizon, 1 + 2 * len(levels)))
        fallbacks: dict[Any, str] = {}
        for i, (task, outcome) in enumerate(zip(tasks, outcomes, strict=True)):
            if outcome.ok:
                forecasts[i] = outcome.value
                continue
            fallbacks[series.ids[i]] = outcome.reason
            forecasts[i] = _fallback(task)
        return forecasts, fallbacks

    def _season(self, series: SeriesData) -> int:
        return self.season_length or season_length_from_freq(series.freq)

    def _checked_forecast(self, task: SeriesTask) -> Array:
        values = np.asarray(self.forecast_one(task), dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        shape = (task.horizon, 1 + 2 * len(task.levels))
        if values.shape != shape or not np.isfinite(values).all():
            raise ValueError("the model returned missing or non-finite forecasts")
        return values

    def _check_engine(self) -> None:
        """Raise ConfigError naming the extra to install when the engine is missing."""

    # ---------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a JSON file with the parameters and the training data (atomic)."""
        if not hasattr(self, "series_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet.")
        s = self.series_
        content = {
            "format": "rnncast-baseline",
            "format_version": 1,
            "rnncast_version": __version__,
            "model": self.alias,
            "params": self.get_params(),
            "data": {
                "ids": [python_scalar(i) for i in s.ids],
                "values": s.values.tolist(),
                "offsets": s.offsets.tolist(),
                "first_ds": [encode_time(t) for t in s.first_ds],
                "freq": s.freq,
            },
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(content))

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Baseline:
        """Read a file written by :meth:`save` and refit the model on its data."""
        file = Path(path)
        if not file.is_file():
            raise ModelFileError(f"no baseline file at {str(file)!r}.")
        try:
            content = json.loads(file.read_text())
            if content.get("format") != "rnncast-baseline":
                raise ModelFileError(
                    f"{str(file)!r} does not hold an rnncast baseline."
                )
            # parameters added since, with the value that files saved before meant
            before = {"conformal_errors": "absolute", "conformal_unit": "seasonal"}
            model = make_baseline(content["model"], **{**before, **content["params"]})
            data = content["data"]
            offsets = data["offsets"]
            parts = [
                pd.DataFrame(
                    {
                        "unique_id": uid,
                        "ds": series_timestamps(
                            decode_time(first),
                            data["freq"],
                            offsets[k + 1] - offsets[k],
                        ),
                        "y": data["values"][offsets[k] : offsets[k + 1]],
                    }
                )
                for k, (uid, first) in enumerate(
                    zip(data["ids"], data["first_ds"], strict=True)
                )
            ]
        except ModelFileError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ModelFileError(
                f"{str(file)!r} is damaged: {type(e).__name__}: {e}"
            ) from e
        return model.fit(pd.concat(parts, ignore_index=True))


def _fallback(task: SeriesTask) -> Array:
    if len(task.values) >= task.season_length:
        return SeasonalNaive.forecast_one(None, task)  # type: ignore[arg-type]
    return Naive.forecast_one(None, task)  # type: ignore[arg-type]


class _Simple(Baseline):
    """Methods computed here in microseconds: no worker processes, no time limit."""

    isolated = False


class Naive(_Simple):
    """Last value carried forward (:func:`naive`)."""

    alias = "naive"

    def forecast_one(self, task: SeriesTask) -> Array:
        """Forecast one series with :func:`naive` (and its normal intervals)."""
        mean = naive(task.values, task.horizon)
        sigma = simple_sigma(task.values, task.horizon, "naive")
        return normal_bounds(mean, sigma, task.levels)


class Drift(_Simple):
    """Random walk with drift (:func:`drift`)."""

    alias = "drift"

    def forecast_one(self, task: SeriesTask) -> Array:
        """Forecast one series with :func:`drift` (and its normal intervals)."""
        mean = drift(task.values, task.horizon)
        sigma = simple_sigma(task.values, task.horizon, "drift")
        return normal_bounds(mean, sigma, task.levels)


class SeasonalNaive(_Simple):
    """Last season repeated (:func:`seasonal_naive`)."""

    alias = "snaive"

    def forecast_one(self, task: SeriesTask) -> Array:
        """Forecast one series with :func:`seasonal_naive` (and its intervals)."""
        m = task.season_length
        mean = seasonal_naive(task.values, task.horizon, m)
        sigma = simple_sigma(task.values, task.horizon, "snaive", m)
        return normal_bounds(mean, sigma, task.levels)


class _StatsForecast(Baseline):
    """A statsforecast model fitted on one series (its ``forecast`` method)."""

    extra = "baselines"
    engine: ClassVar[str] = ""

    def _check_engine(self) -> None:
        _require("statsforecast.models", self.extra)  # workers inherit the import

    def forecast_one(self, task: SeriesTask) -> Array:
        """Fit the statsforecast model on one series and forecast it."""
        import statsforecast.models as sf

        model = getattr(sf, self.engine)(season_length=task.season_length)
        levels = list(task.levels)
        out = model.forecast(y=task.values, h=task.horizon, level=levels or None)
        return np.column_stack(
            [out["mean"]]
            + [out[f"lo-{lv}"] for lv in levels]
            + [out[f"hi-{lv}"] for lv in levels]
        )


class AutoARIMA(_StatsForecast):
    """Automatic ARIMA (Hyndman & Khandakar, 2008) from statsforecast."""

    alias = "arima"
    engine = "AutoARIMA"


class AutoETS(_StatsForecast):
    """Automatic exponential smoothing (ETS state-space models) from statsforecast."""

    alias = "ets"
    engine = "AutoETS"


class AutoTheta(_StatsForecast):
    """Automatic Theta method (standard, optimised, dynamic) from statsforecast."""

    alias = "theta"
    engine = "AutoTheta"


class Prophet(Baseline):
    """Prophet (Taylor & Letham, 2018) with its default trend and seasonalities.

    Integer time steps are mapped to consecutive days, since Prophet needs dates.
    """

    alias = "prophet"
    extra = "prophet"

    def _check_engine(self) -> None:
        _quiet_prophet()
        _require("prophet", self.extra)

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
        model = _Prophet().fit(pd.DataFrame({"ds": ds[:n], "y": task.values}))
        future = pd.DataFrame({"ds": ds[n:]})
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


def _require(module: str, extra: str | None) -> None:
    try:
        __import__(module)
    except ImportError as e:
        raise ConfigError(
            f"this baseline needs the '{module.split('.')[0]}' package; install it "
            f"with pip install 'rnncast[{extra}]'."
        ) from e


BASELINES: dict[str, type[Baseline]] = {
    cls.alias: cls
    for cls in (Naive, SeasonalNaive, Drift, AutoARIMA, AutoETS, AutoTheta, Prophet)
}


def make_baseline(name: str, **params: Any) -> Baseline:
    """Create the baseline called ``name`` (see ``BASELINES``)."""
    if name not in BASELINES:
        raise ConfigError(
            f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}."
        )
    return BASELINES[name](**params)
