"""The local forecasting model every baseline is: fitted series by series, safely.

Every model is local: ``fit`` estimates it on each series separately, in worker
processes with a per-series time limit. A series whose fit fails or runs past the
limit gets the seasonal-naive forecast instead (naive if it is shorter than a season),
and the reason is recorded in ``fallbacks_``; the run never stops for one series.
``save`` writes JSON (parameters and the training data) and ``load`` refits from it:
local statistical models are cheap to re-estimate and exactly reproducible.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.baselines.simple import SeriesTask, simple_forecast
from rnncast.checks import require_positive_int
from rnncast.data.covariates import attach, horizon_values
from rnncast.data.frame import validate_frame
from rnncast.data.inputs import to_long_frame
from rnncast.data.series import (
    Freq,
    SeriesData,
    decode_time,
    encode_time,
    forecast_frame,
    python_scalar,
    season_length_from_freq,
    series_timestamps,
)
from rnncast.exceptions import ConfigError, ModelFileError, NotFittedError
from rnncast.intervals import (
    check_conformal_errors,
    check_conformal_unit,
    check_levels,
    conformal_bounds,
    conformal_unit,
    interval_columns,
)
from rnncast.io import atomic_path
from rnncast.protocol import set_known_params
from rnncast.runner import default_jobs, run_all
from rnncast.version import __version__

__all__ = ["Baseline", "make_baseline"]

Array = NDArray[np.float64]


class Baseline:
    """A local forecasting model; subclasses implement :meth:`forecast_one`.

    Parameters
    ----------
    horizon : int
        Steps to forecast (required by ``fit``; a backtest sets its own).
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
    futr_exog : sequence of str, default ()
        Future-known covariates (columns of the data) as regressors, for the
        baselines that take them (``reads_covariates``: auto-ARIMA, Prophet);
        ``predict`` then needs them for the horizon (``futr_df``), as a
        Forecaster does.
    """

    alias: ClassVar[str] = ""
    reads_covariates: ClassVar[bool] = False  # takes regressors (futr_exog)
    extra: ClassVar[str | None] = None  # the pip extra that provides the engine
    isolated: ClassVar[bool] = True  # fit in worker processes under a time limit
    # every baseline by its alias, filled as the subclasses are defined
    registry: ClassVar[dict[str, type[Baseline]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.alias:
            Baseline.registry[cls.alias] = cls

    def __init__(
        self,
        *,
        horizon: int | None = None,
        season_length: int | None = None,
        freq: Freq | None = None,
        time_limit: float | None = 60.0,
        n_jobs: int | None = None,
        levels: Sequence[float] = (),
        intervals: str = "model",
        calibration_windows: int = 3,
        conformal_errors: str = "signed",
        conformal_unit: str = "recent",
        futr_exog: Sequence[str] = (),
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
        self.futr_exog = futr_exog

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor arguments as given (scikit-learn's contract)."""
        names = inspect.signature(Baseline.__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def set_params(self, **params: Any) -> Baseline:
        """Set parameters by name; return ``self`` (fit again to use them)."""
        return set_known_params(self, params)

    @property
    def name(self) -> str:
        """The model's name in backtests: its alias."""
        return self.alias

    @property
    def forecast_column(self) -> str:
        """The column of the point forecasts: the alias."""
        return self.alias

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
        _check_covariates(self)
        self.levels_ = check_levels(self.levels)
        self.series_ = self._read(data, self.freq)
        self.outputs_, self.fallbacks_ = None, {}
        if not self.futr_exog:  # else the horizon's regressors come with predict
            self.outputs_, self.fallbacks_ = self._forecast_all(
                self.series_, self.levels_
            )
        return self

    def predict(
        self,
        data: Any = None,
        *,
        level: float | Sequence[float] | None = None,
        futr_df: Any = None,
    ) -> pd.DataFrame:
        """Return ``unique_id, ds, <alias>`` with ``horizon`` rows per series.

        With ``data``, the model is re-estimated on that history first (a local
        model has no parameters that carry over from one history to another).
        With ``level``, the columns ``<alias>-lo-<level>`` and ``<alias>-hi-<level>``
        are added (re-estimating the model if ``fit`` did not compute that level).
        With ``futr_exog``, ``futr_df`` gives the regressors of the horizon.
        """
        if not hasattr(self, "series_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) first."
            )
        levels = check_levels(level)
        if data is not None or self.futr_exog:
            series = (
                self.series_ if data is None else self._read(data, self.series_.freq)
            )
            future = None
            if self.futr_exog:
                future = horizon_values(
                    series.ids,
                    series.last_ds,
                    series.freq,
                    self.horizon,  # type: ignore[arg-type]
                    futr_df,
                    self.futr_exog,
                )
            computed = levels
            outputs, self.fallbacks_ = self._run(series, computed, future)
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
        if self.outputs_ is None:
            raise NotFittedError("with futr_exog the forecasts come from predict().")
        return self.outputs_[:, :, 0]

    def _read(self, data: Any, freq: Freq | None) -> SeriesData:
        """Return the series of ``data``, with the ``futr_exog`` columns."""
        names = list(self.futr_exog)
        frame = to_long_frame(data, keep=names)
        return attach(validate_frame(frame, freq=freq), frame, names)

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
        self,
        series: SeriesData,
        levels: tuple[float, ...],
        future: Array | None = None,
    ) -> tuple[Array, dict[Any, str]]:
        """Forecast every series; ``future`` (n, horizon, k): the regressors."""
        m = self._season(series)
        exog = series.exog
        tasks = [
            SeriesTask(
                series.series(i),
                series.first_ds[i],
                series.freq,
                self.horizon,  # type: ignore[arg-type]
                m,
                levels,
                None
                if exog is None
                else exog[series.offsets[i] : series.offsets[i + 1]],
                None if future is None else future[i],
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
            forecasts[i], used = _fallback(task)
            fallbacks[series.ids[i]] = f"{outcome.reason.rstrip('.')}; {used} used"
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
                "exog": None if s.exog is None else s.exog.tolist(),
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
            offsets, exog = data["offsets"], data.get("exog")
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
                        **{
                            name: [row[j] for row in exog[offsets[k] : offsets[k + 1]]]
                            for j, name in enumerate(model.futr_exog)
                        },
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


def _check_covariates(model: Baseline) -> None:
    """ConfigError unless ``model`` can read its ``futr_exog``."""
    if not model.futr_exog:
        return
    if not model.reads_covariates:
        readers = sorted(a for a, c in Baseline.registry.items() if c.reads_covariates)
        raise ConfigError(
            f"{model.alias} takes no covariates; futr_exog works with {readers}."
        )
    if model.intervals == "conformal":
        raise ConfigError(
            "intervals='conformal' refits the model at earlier origins without "
            "their regressors; use the model's own intervals with futr_exog."
        )


def _fallback(task: SeriesTask) -> tuple[Array, str]:
    """Seasonal naive where the series has a season of values, else naive; its name."""
    if len(task.values) >= task.season_length:
        return simple_forecast("snaive", task), "seasonal naive"
    return simple_forecast("naive", task), "naive"


def make_baseline(name: str, **params: Any) -> Baseline:
    """Create the baseline called ``name`` (see ``BASELINES``)."""
    if name not in Baseline.registry:
        raise ConfigError(
            f"unknown baseline {name!r}; choose one of {sorted(Baseline.registry)}."
        )
    return Baseline.registry[name](**params)
