"""The recurrent forecaster: fit / predict / save / load.

A :class:`Forecaster` is one global network (RNN, LSTM or GRU) trained on windows
drawn from every series, with per-series scaling fitted on each series' training part.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast._checks import require_positive_int
from rnncast.classical import (
    EQUAL_WEIGHT,
    check_combine,
    classical_forecasts,
    combination_weight,
    mixed_forecast,
)
from rnncast.data.frame import (
    MISSING_MODES,
    FillPolicy,
    Freq,
    MissingMode,
    SeriesData,
    forecast_frame,
    season_length_from_freq,
    to_long_frame,
    validate_frame,
)
from rnncast.data.quality import (
    Aggregation,
    DataReport,
    ResampleReport,
    data_report,
    resample,
)
from rnncast.data.scaling import (
    SCALERS,
    TRANSFORMS,
    ScalerStats,
    fit_scaler,
    inverse_transform,
    lowest_allowed,
    per_value,
    resolve_transform,
    transform,
    transform_rows,
)
from rnncast.data.seasonality import seasonal_series
from rnncast.data.timeline import season_phases
from rnncast.data.windows import (
    gather,
    last_inputs,
    masked_inputs,
    pad_front,
    phase_angles,
    phase_channels,
    training_starts,
    validation_starts,
)
from rnncast.exceptions import ConfigError, DataError, NotFittedError
from rnncast.intervals import (
    CALIBRATED_INTERVALS,
    NETWORK_INTERVALS,
    QUANTILE_INTERVALS,
    Levels,
    check_conformal_errors,
    check_conformal_unit,
    check_levels,
    conformal_bounds,
    conformal_unit,
    conformalized_quantile_bounds,
    independent_windows,
    interval_columns,
    level_quantiles,
    nested_bounds,
    quantile_bounds,
    quantile_scores,
    sort_quantiles,
)
from rnncast.model_files import read_model_dir, write_model_dir
from rnncast.models.networks import (
    SEASONAL_LEVELS,
    SEASONAL_PATTERNS,
    SNAIVE_LEVELS,
    EnsembleNetwork,
    NetworkConfig,
    RecurrentNetwork,
)
from rnncast.training import (
    EpochRecord,
    TrainConfig,
    naive_loss,
    seed_everything,
    train,
)

__all__ = ["Forecaster"]

_PREDICT_BATCH = 1024  # windows per forward pass; smaller stayed in cache, faster
_LOOKBACK_FACTORS = (1.0, 1.5, 2.0)  # lookbacks of ensemble members, times the base


class Forecaster:
    r"""Forecast many series with one recurrent network (RNN, LSTM or GRU).

    Parameters
    ----------
    horizon : int
        Number of future steps to forecast.
    cell : {"lstm", "gru", "rnn"}, default "lstm"
        Recurrent cell of every layer; "rnn" is the vanilla tanh RNN.
    lookback : int or sequence of int, optional
        Past values the network reads per forecast. Default
        ``max(2 * horizon, 2 * season_length)``. With ``ensemble > 1`` a sequence
        gives the members' lookbacks in turn; the default then cycles through the
        base lookback times 1, 1.5 and 2.
    hidden : int or sequence of int, default (64,)
        Width of each stacked layer: ``(128, 64)`` is LSTM 128 -> LSTM 64 -> linear.
    dropout : float, default 0.0
        Dropout between stacked layers.
    output : {"direct", "recursive"}, default "direct"
        Forecast all steps at once, or one step at a time fed back as input.
    level : {"auto", "snaive", "detect", "adaptive", "season", "last", "none"}, \
default "auto"
        Per-window normalisation (see
        :class:`~rnncast.models.networks.RecurrentNetwork`): inputs are centred on
        the mean of each window's last ``season_length`` values (``"snaive"``,
        ``"season"``) or on its last value (``"last"``); the network forecasts
        corrections to the window's seasonal-naive forecast (``"snaive"``) or
        changes from that level; ``"adaptive"`` takes the seasonal naive in the
        windows where it fits the window itself better than the previous season's
        mean, else the level; ``"detect"`` decides per series: the series whose
        differenced training part passes the seasonality test of the M4
        benchmarks and Theta (:func:`~rnncast.data.seasonality.seasonal_series`:
        autocorrelation at lag ``season_length``, 90 %) start from the level
        plus the seasonal pattern averaged over the window's whole seasons
        (:func:`~rnncast.models.networks.seasonal_profile`, less noisy than one
        season; with ``transform="none"`` and ``seasonal_pattern="auto"``, in
        windows whose values are all positive, the multiplicative pattern of
        :func:`~rnncast.models.networks.seasonal_ratios`, a season's swing in
        proportion to its level), the others from the level alone; the network
        also reads each series' flag as an input channel, and series new to
        :meth:`predict` are tested on the history given there. ``"none"``
        leaves windows as they are. ``"auto"``: ``"detect"`` for the direct
        head, ``"season"`` for the recursive one, with a naive check when
        validating: if that network's best validation loss is not below the
        naive (last-value) forecast's on the same windows
        (:func:`~rnncast.training.naive_loss`), a second network is trained
        with ``"last"`` and the one with the lower validation loss is kept
        (``level_``, ``level_scores_``). A start from the seasonal pattern
        around the last season's mean suits horizons of a season or more; when
        the horizon is a small part of a long season whose peaks move (8 weeks
        of weekly influenza), the last value is the better start, and a network
        too far from it does not learn the way back. For non-seasonal data
        (``season_length=1``) ``"snaive"``, ``"season"`` and ``"last"`` are the
        same.
    seasonal_pattern : {"auto", "additive"}, default "auto"
        The seasonal pattern that ``level="detect"`` starts seasonal series
        from. ``"auto"``: multiplicative (a season's swing in proportion to its
        distance from zero) in windows whose values are all positive, additive
        elsewhere; only without a ``transform``, since ratios need the data's
        own zero. ``"additive"``: always the additive pattern, for data whose
        zero is arbitrary (temperatures in degrees Fahrenheit, index levels),
        where a swing does not grow with the value.
    transform : {"auto", "log", "log1p", "boxcox", "none"}, default "none"
        Per-series power transform before scaling, inverted on the forecasts:
        ``"log"``; ``"log1p"``, ``log(1 + y)`` for counts with zeros;
        ``"boxcox"`` with each series' power in [0, 1] by Guerrero's
        method (:func:`~rnncast.data.scaling.guerrero_power`); ``"auto"`` takes
        the log when every value is positive, log1p when the smallest is 0, else
        nothing. ``transform_`` tells which one was fitted. The log turns
        multiplicative seasonality and growth into additive patterns that one
        network can share across series of any size.
    scaler : {"mase", "standard", "robust", "none"}, default "mase"
        Per-series scaling, fitted on the training part of each series;
        ``"mase"`` divides by the in-sample seasonal-naive MAE, the denominator
        of MASE (see :func:`~rnncast.data.scaling.fit_scaler`).
    loss : {"mae", "mse", "huber", "smape"}, default "mae"
        Training loss in scaled units. With ``scaler="mase"`` the MAE of a window
        is its MASE, so the default trains for the metric it is judged by.
        ``"smape"`` (:func:`~rnncast.training.smape_loss`) is computed on the
        values put back in the data's units (after ``transform``, if any), for
        the sMAPE the M3 and M4 competitions rank by.
    epochs, batch_size, learning_rate, clip_norm, patience
        Training settings, see :class:`~rnncast.training.TrainConfig`.
    max_steps : int, optional
        Stop training each network after this many optimiser steps, within an
        epoch too (that epoch's windows so far are then scored and validated as
        an epoch); a time budget finer than ``epochs``. ``None``: no limit.
    ensemble : int, default 1
        Number of networks trained with seeds ``seed, seed + 1, ...`` and the
        lookbacks of ``lookback``; the forecast is their median, step by step
        (:class:`~rnncast.models.networks.EnsembleNetwork`). Costs one training
        per member.
    combine : {"theta", "theta+damped", "none"}, default "theta"
        Mix the network's forecast with a classical one, on each series' whole
        history (:mod:`rnncast.classical`), whose errors differ from a network
        that sees one window, as the hybrid that won M4 did: ``"theta"``, the
        Theta method of the M3 and M4 competitions; ``"theta+damped"``, the mean
        of it and damped-trend exponential smoothing; ``"none"`` (or None), the
        network alone. The forecast is
        :math:`w \hat y_{net} + (1 - w) \hat y_{classical}`,
        in scaled units (the data's own units without ``transform``), with the
        network's weight :math:`w` chosen on the validation windows: the
        :math:`\hat w` of 0, 0.1, ..., 1 of the lowest mean absolute error there
        (ties go to the larger), pulled towards 0.5 when few independent
        windows validate it (one series: 0.375 to 0.625;
        :func:`~rnncast.classical.combination_weight`). ``combine_weight_`` holds
        :math:`w`, ``combine_scores_`` every :math:`\hat w`'s error; without
        ``validation``, :math:`w = 0.5`. Conformal intervals are calibrated on
        the mixed forecast's errors; quantile heads are moved by the median's
        change. The default since session 14: on the competition sets the mix
        beat the network alone (benchmarks/README.md).
    validation : bool, default True
        Hold out the last ``horizon + validation_windows - 1`` values of each
        series for early stopping, best-weights restore and conformal calibration;
        they are never trained on nor used by the scaler. A series shorter than
        ``lookback + horizon`` plus that holdout then gives validation windows but
        no training window.
    validation_windows : int, optional
        Rolling validation windows per series, one step apart, whose mean loss is
        monitored. Default 1; with ``intervals="conformal"``
        ``min(horizon, ceil(40 / n_series))``, so that every horizon step gets
        at least about 40 calibration errors.
    refit_full : bool, default True
        After validation has chosen each network's number of epochs (the epoch
        of its lowest validation loss), train it again from its seed on whole
        series, the held-out last values included (the scaler and the
        seasonality flags too), for that many epochs: the forecast then learns
        from the most recent values, which for short series are a large share
        of the data. Conformal intervals keep the validated networks' errors,
        the only out-of-sample errors there are, and ``history_`` holds both
        trainings (the refit's records have ``refit=True``). Costs those epochs
        again per network; without ``validation`` nothing is held out and this
        does nothing.
    intervals : {"conformal", "quantile", "cqr"}, optional
        Prediction intervals for :meth:`predict` with ``level=``. ``"conformal"``:
        split-conformal intervals from the errors on the validation windows, per
        horizon step, each error divided by its series' unit (see
        ``conformal_unit``), so that widths follow each series' own variability;
        see ``conformal_errors``. Any level works
        at predict time. ``"quantile"``: the network forecasts the quantiles of
        ``levels`` and the median (the point forecast), trained with the pinball
        loss (``loss`` is then not used); crossing quantiles are sorted.
        ``"cqr"``: conformalized quantile regression (Romano et al., 2019), the
        quantile heads' intervals moved out (or in) by the conformal quantile of
        how far the validation targets fell outside them, per horizon step and
        level (:func:`~rnncast.intervals.conformalized_quantile_bounds`): the
        coverage guarantee of conformal intervals with widths that the heads
        adapt to each series and window; only the levels of ``levels``.
    levels : sequence of float, default (80, 95)
        Interval levels in percent that quantile heads are trained for.
    conformal_errors : {"signed", "absolute"}, default "signed"
        Which calibration errors set the bounds of ``intervals="conformal"``.
        ``"signed"``: each tail from its own quantile of the errors
        :math:`y - \hat y` (:func:`~rnncast.intervals.signed_conformal_offsets`),
        so an interval follows a bias or a skew of the validation errors. It
        needs twice as many errors (39 for 95 %) and as many independent
        validation windows (:func:`~rnncast.intervals.independent_windows`:
        windows of one series count once per ``horizon``, so e.g. 39 series, or
        one series with ``validation_windows=39 * horizon``), and is symmetric
        where there are fewer: a few series' overlapping windows share one
        stretch of history, whose direction signed intervals would carry on.
        ``"absolute"``: symmetric :math:`\hat y \mp q_k` from the absolute
        errors (:func:`~rnncast.intervals.conformal_widths`), the only kind
        before; model files saved without this parameter load so.
        Chosen by measurement (benchmarks/README.md): signed intervals were
        closer to nominal and had a lower MSIS on the Tourism and M3 sets.
    conformal_unit : {"recent", "seasonal"}, default "recent"
        The unit that each series' calibration errors are divided by and its
        offsets multiplied by (:func:`~rnncast.intervals.conformal_unit`).
        ``"seasonal"``: the in-sample seasonal-naive MAE, the denominator of MASE
        and MSIS, so every series gets the same interval in MASE units;
        ``"recent"``: its geometric mean with the spread of the series' seasonal
        changes over the last three seasons around their mean, so a series that
        has been calm (or a steady trend) lately gets a narrower interval and a
        turbulent one a wider one. Chosen by measurement (benchmarks/README.md):
        MSIS 5-6 % lower at the same coverage on the Tourism and M3 sets. Model
        files saved without this parameter load with ``"seasonal"``.
    conformal_per_series : bool, default False
        ``intervals="conformal"`` only: each series seen by ``fit`` that has
        enough validation errors of its own for the highest level (39 for 95 %
        signed; set ``validation_windows``) gets its bounds from them alone
        (:func:`~rnncast.intervals.series_conformal_offsets`), the others and
        new series from the pool of all series' errors. For a few long series
        whose errors differ in shape, not only in scale; with many short series
        the pool is steadier.
    fill : {"interpolate", "ffill", "drop-leading"}, optional
        Policy for missing or infinite targets; without one (and without
        ``missing="mask"``) they are an error.
    missing : {"error", "mask"}, default "error"
        ``"mask"`` keeps gaps as gaps: the network gets a second input channel,
        1 where a value was observed and 0 where not (the value channel carries
        the last observation forward), and the loss skips unobserved targets, so
        no invented value is ever learned. See
        :func:`~rnncast.data.windows.masked_inputs`. Series shorter than a window
        are then padded at the front with unobserved values instead of refused.
    resample : str or int, optional
        Put irregular series on a regular grid of this step first (``"5min"``,
        ``"h"``, ``"MS"``, or an integer step); see
        :func:`~rnncast.data.quality.resample`. What changed is in
        ``data_report_``.
    aggregation : str, default "mean"
        How rows that fall into one grid step are combined when resampling:
        "mean", "median", "sum", "last", "first", "min" or "max".
    max_gap : int, default 0
        When resampling, interpolate runs of at most this many empty steps;
        longer gaps stay missing (use ``missing="mask"`` or ``fill``).
    freq : str or int, optional
        Frequency alias (``"MS"``, ``"h"``...) or integer step; inferred if omitted.
    season_length : int, optional
        Seasonal period; inferred from the frequency if omitted.
    id_col, time_col, target_col : str
        Column names of the input frame; forecasts use ``id_col``, ``time_col`` and
        ``yhat``.
    seed : int, default 0
        Seeds Python, NumPy and torch: the same seed gives the same forecast on the
        same machine.
    device : str, default "auto"
        ``"auto"`` uses CUDA when present, else the CPU; or ``"cpu"``, ``"cuda"``.
    season_inputs : bool, default False
        Give the network where in the season each input value lies: two extra
        input channels :math:`\sin(2\pi p_t/m), \cos(2\pi p_t/m)` of the phase
        :math:`p_t` (month of the year, hour of the day...; see
        :func:`~rnncast.data.timeline.season_phases`) with :math:`m` the season
        length. Needs a season length of at least 2 and ``output="direct"``.
    cuda_graphs : bool, default True
        On a CUDA device, capture each training step once as a CUDA graph and
        replay it: the same numbers, about 10x faster steps for small networks,
        whose eager steps wait on Python (see :mod:`rnncast.training`). Not used
        on the CPU or with ``missing="mask"``; with ``dropout`` the masks are drawn
        in a different order than without.
    progress : bool, default False
        Show a progress bar of epochs with the losses on stderr.

    Attributes
    ----------
    network_ : RecurrentNetwork or EnsembleNetwork
        The trained network (the median ensemble of the members with
        ``ensemble > 1``), in eval mode.
    history_ : list of EpochRecord
        Training and validation loss of every epoch (scaled units), per member;
        with ``refit_full`` the validated training's epochs, then the refit's
        (``refit=True``).
    level_ : str
        The per-window normalisation the network uses: ``level`` with "auto"
        resolved, "last" where the naive check chose it.
    level_scores_ : dict or None
        The validation losses the naive check compared: ``"naive"`` (the last
        value), the resolved level's network (e.g. ``"detect"``) and, when it
        did not beat the naive forecast, ``"last"``. In scaled units (MASE
        units with the default ``scaler="mase"``). None without validation or
        with quantile heads.
    combine_weight_ : float or None
        With ``combine``: the network's weight :math:`w` in the mixed forecast.
    combine_scores_ : dict or None
        With ``combine`` and validation: the validation mean absolute error
        (scaled units) of every grid weight :math:`\hat w`, ``{w: error}``.
    classical_ : ndarray of shape (n_series, horizon) or None
        With ``combine``: each fitted series' classical forecast from its whole
        history, in the data's units.
    ids_, freq_, season_length_, lookback_, transform_
        The fitted series' ids (in order), their frequency, the season length
        and (first member's) lookback used, and the resolved transform.
    scaler_
        Per-series scaling statistics (``y = z * scale + loc``) of the fitted
        series.
    n_train_windows_ : int
        Training windows of the last training (the refit's with ``refit_full``).
    validation_windows_ : int
        Validation windows per series (see ``validation_windows``).
    conformal_scores_ : ndarray of shape (n_windows, horizon) or None
        Conformal intervals: the validated network's errors ``y - yhat`` (or
        their absolute values with ``conformal_errors="absolute"``) on the
        validation windows, each divided by its series' unit
        (``interval_scale_``); ``intervals="cqr"``: the quantile heads' conformity
        scores (n_windows, horizon, n_levels). None without calibrated intervals.
    conformal_series_ : ndarray of int or None
        The series (row of ``ids_``) of each row of ``conformal_scores_``.
    interval_scale_ : ndarray of shape (n_series,) or None
        Each fitted series' unit of its conformal bounds
        (:func:`~rnncast.intervals.conformal_unit` of ``conformal_unit``), measured
        on the values the network last trained on: whole series after
        ``refit_full``, else the values before the validation windows (the
        scores are always in the units of the values before the validation
        windows).
    interval_method_ : str
        Set by :meth:`predict` with ``level``: how the last conformal bounds were
        computed, e.g. ``"per-step, signed"`` (each step's quantiles from its own
        errors and those of the steps within two of it, in units of each step's
        mean absolute error; each tail its own quantile), ``"pooled,
        symmetric"`` (too few errors per step or too few independent windows
        for signed tails: all steps' errors in units of each step's mean
        absolute error), with the number of series
        that had their own offsets under ``conformal_per_series``.
    data_report_
        What fitting changed in the data (filled values, resampling, gaps kept).
    filled_ : dict
        Values filled per series by the ``fill`` policy.

    Examples
    --------
    >>> from rnncast import Forecaster
    >>> from rnncast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> f = Forecaster(horizon=12, hidden=(8,), epochs=2, seed=0).fit(df)
    >>> fc = f.predict()
    >>> list(fc.columns), len(fc)
    (['unique_id', 'ds', 'yhat'], 12)
    """

    def __init__(
        self,
        *,
        horizon: int,
        cell: str = "lstm",
        lookback: int | Sequence[int] | None = None,
        hidden: int | Sequence[int] = (64,),
        dropout: float = 0.0,
        output: Literal["direct", "recursive"] = "direct",
        level: Literal[
            "auto", "snaive", "detect", "adaptive", "season", "last", "none"
        ] = "auto",
        seasonal_pattern: Literal["auto", "additive"] = "auto",
        transform: Literal["auto", "log", "log1p", "boxcox", "none"] = "none",
        scaler: Literal["mase", "standard", "robust", "none"] = "mase",
        loss: Literal["mae", "mse", "huber"] = "mae",
        epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        clip_norm: float | None = 1.0,
        patience: int = 20,
        max_steps: int | None = None,
        ensemble: int = 1,
        combine: Literal["theta", "theta+damped", "none"] | None = "theta",
        validation: bool = True,
        validation_windows: int | None = None,
        refit_full: bool = True,
        intervals: Literal["conformal", "quantile", "cqr"] | None = None,
        levels: Sequence[float] = (80, 95),
        conformal_errors: Literal["signed", "absolute"] = "signed",
        conformal_unit: Literal["recent", "seasonal"] = "recent",
        conformal_per_series: bool = False,
        fill: FillPolicy | None = None,
        missing: MissingMode = "error",
        resample: Freq | None = None,
        aggregation: Aggregation = "mean",
        max_gap: int = 0,
        freq: Freq | None = None,
        season_length: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        seed: int = 0,
        device: str = "auto",
        season_inputs: bool = False,
        cuda_graphs: bool = True,
        progress: bool = False,
    ) -> None:
        self.horizon = horizon
        self.cell = cell
        self.lookback = lookback
        self.hidden = hidden
        self.dropout = dropout
        self.output = output
        self.level = level
        self.seasonal_pattern = seasonal_pattern
        self.transform = transform
        self.scaler = scaler
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clip_norm = clip_norm
        self.max_steps = max_steps
        self.patience = patience
        self.ensemble = ensemble
        self.combine = combine
        self.validation = validation
        self.validation_windows = validation_windows
        self.refit_full = refit_full
        self.intervals = intervals
        self.levels = levels
        self.conformal_errors = conformal_errors
        self.conformal_unit = conformal_unit
        self.conformal_per_series = conformal_per_series
        self.fill = fill
        self.missing = missing
        self.resample = resample
        self.aggregation = aggregation
        self.max_gap = max_gap
        self.freq = freq
        self.season_length = season_length
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.seed = seed
        self.device = device
        self.season_inputs = season_inputs
        self.cuda_graphs = cuda_graphs
        self.progress = progress
        self._level_choice: str | None = None  # "last" when the naive check chose it

    def get_params(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (scikit-learn convention)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]
        ]
        return f"Forecaster({', '.join(changed)})"

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Any,
        *,
        on_epoch: Callable[[EpochRecord], None] | None = None,
    ) -> Forecaster:
        """Train the network on every series of ``data``.

        Parameters
        ----------
        data : DataFrame, Series, ndarray or path
            Long frame (``id_col``, ``time_col``, ``target_col``), one series, or a
            CSV/Parquet path; see :func:`rnncast.data.frame.to_long_frame`.
        on_epoch : callable, optional
            Called after every epoch with an :class:`~rnncast.training.EpochRecord`.

        Returns
        -------
        Forecaster
            ``self``, fitted.

        Raises
        ------
        ConfigError
            A parameter is invalid.
        DataError
            The data is invalid or too short; nothing is trained.
        """
        self._configs()  # parameter errors before the data is read
        series, resampled = self._read_reporting(data)
        season = self._season_length(series.freq)
        report = data_report(series, season, resampled=resampled)
        if not self.validation:
            self._fit(series, report, on_epoch)
        elif not self.refit_full:
            self._fit_validated(series, report, on_epoch)
        else:
            validated = Forecaster(**{**self.get_params(), "refit_full": False})
            validated._fit_validated(series, report, on_epoch)
            epochs = [_best_epoch(validated.history_, k) for k in range(self.ensemble)]
            self._level_choice = validated._level_choice
            self._fit(series, report, on_epoch, refit_epochs=epochs)
            self.history_ = validated.history_ + self.history_
            self.validation_windows_ = validated.validation_windows_
            self.conformal_scores_ = validated.conformal_scores_
            self.conformal_series_ = validated.conformal_series_
            self.level_scores_ = validated.level_scores_
            self.combine_weight_ = validated.combine_weight_
            self.combine_scores_ = validated.combine_scores_
        # once, from whole series: the trainings above need only the validation ones
        self.classical_ = self._new_classical(series)
        return self

    def _fit_validated(
        self,
        series: SeriesData,
        report: DataReport,
        on_epoch: Callable[[EpochRecord], None] | None,
    ) -> Forecaster:
        """:meth:`_fit` with validation, then ``level="auto"``'s naive check.

        When the network's best validation loss is not below the naive
        (last-value) forecast's on the same windows, a network with
        ``level="last"`` is trained too, and the one with the lower validation
        loss is kept; ``level_scores_`` holds the losses compared.
        """
        self._level_choice = None
        self._fit(series, report, on_epoch)
        first, scores = self.level_, self.level_scores_
        if (
            self.level != "auto"
            or scores is None
            or first == "last"
            or scores[first] < scores["naive"]
        ):
            return self
        kept = {k: v for k, v in vars(self).items() if k.endswith("_")}
        self._level_choice = "last"
        self._fit(series, report, on_epoch)
        scores = {**scores, **self.level_scores_}
        if not scores["last"] < scores[first]:
            vars(self).update(kept)
            self._level_choice = None
        self.level_scores_ = scores
        return self

    def _fit(
        self,
        series: SeriesData,
        report: DataReport,
        on_epoch: Callable[[EpochRecord], None] | None,
        refit_epochs: list[int] | None = None,
    ) -> Forecaster:
        """Fit as :meth:`fit` describes, on validated ``series``.

        With ``refit_epochs``, the refit: every window is trained on (no holdout;
        the scaler and the seasonality flags are fitted on whole series), member
        ``k`` for ``refit_epochs[k]`` epochs; :meth:`fit` then adds what the
        validated training measured (its history, the conformal scores).
        """
        network_config, train_config = self._configs()
        season = self._season_length(series.freq)
        lookbacks = self._member_lookbacks(season)
        lookback = max(lookbacks)
        network_config = self._checked_seasonal(
            network_config, season, lookbacks, series.freq
        )
        n_val = self._validation_windows(series.n_series)
        validated = self.validation and refit_epochs is None
        holdout = self.horizon + n_val - 1 if validated else 0
        series, train_starts = self._training_windows(series, lookback, holdout, n_val)
        power = self._power(series)
        stats = self._fitted_scaler(series, holdout, season, network_config, power)
        device = resolve_device(self.device)
        scaled_values = _scaled_values(series, stats)
        scaled = torch.as_tensor(scaled_values, dtype=torch.float32).to(device)
        channels = self._value_channels(
            series, stats, season, network_config.multiplicative
        )
        if channels is not None:
            channels = channels.to(device)
        units = (
            _loss_units(stats, series.offsets, device)
            if train_config.loss == "smape"  # scored in the data's own units
            else None
        )
        members, history = [], []
        for k, member_lookback in enumerate(lookbacks):
            config = train_config
            if refit_epochs is not None:
                epochs = refit_epochs[k]
                config = dataclasses.replace(config, epochs=epochs, patience=epochs)
            network, records = self._train_member(
                network_config,
                scaled,
                series.offsets,
                member=(k, member_lookback, holdout, n_val if validated else 0),
                config=config,
                channels=channels,
                units=units,
                on_epoch=on_epoch,
                refit=refit_epochs is not None,
            )
            members.append(network)
            history += records
        # every member's validation windows end at the same targets: one set serves
        val_starts = (
            validation_starts(series.offsets, lookback, self.horizon, n_val)
            if validated
            else None
        )
        self.level_ = network_config.level
        self.level_scores_ = None
        if val_starts is not None and not network_config.quantiles:
            naive = naive_loss(
                scaled,
                torch.as_tensor(val_starts).to(device),
                lookback=lookback,
                horizon=int(self.horizon),
                config=train_config,
                masked=self.missing == "mask",
                channels=channels,
                units=units,
            )
            self.level_scores_ = _level_scores(naive, self.level_, history, lookbacks)
        self.network_ = _combined(members, lookbacks)
        self.transform_ = power
        self.ids_ = list(series.ids)
        self.freq_ = series.freq
        self.season_length_ = season
        self.lookback_ = lookback
        self.last_ds_ = list(series.last_ds)
        self.scaler_ = stats
        self.context_ = last_inputs(series.values, series.offsets, lookback)
        self.history_ = history
        self.n_train_windows_ = len(train_starts)
        self.filled_ = dict(series.filled)
        self.data_report_ = report
        self.validation_windows_ = n_val
        self.conformal_scores_ = self.interval_scale_ = None
        self.conformal_series_ = None
        if self.intervals in CALIBRATED_INTERVALS:
            self.interval_scale_ = conformal_unit(
                scaled_values,
                series.offsets,
                series.lengths - holdout,
                season,
                self.conformal_unit,
            )
        calibrated = self.intervals in CALIBRATED_INTERVALS
        if val_starts is not None and (check_combine(self.combine) or calibrated):
            # one pass over the validation windows serves the weight and the scores
            outputs, targets = self._validation_outputs(
                scaled, torch.as_tensor(val_starts).to(device), channels
            )
        val_classical = self._fit_combination(series, stats, lookback, val_starts)
        if val_classical is not None:
            self.combine_weight_, self.combine_scores_ = combination_weight(
                self._point(outputs),
                val_classical,
                targets,
                independent_windows(series.owners(val_starts), self.horizon),
            )
        if calibrated and val_starts is not None:
            # (a refit has no validation windows: fit keeps the validated scores)
            scores = self._calibration_scores(outputs, targets, val_classical)
            self.conformal_series_ = series.owners(val_starts)
            unit = self.interval_scale_[self.conformal_series_]
            shape = (-1,) + (1,) * (scores.ndim - 1)  # one unit per window
            self.conformal_scores_ = scores / unit.reshape(shape)
        return self

    def _checked_seasonal(
        self, config: NetworkConfig, season: int, lookbacks: list[int], freq: Freq
    ) -> NetworkConfig:
        """:meth:`_seasonal` of ``config``, after the checks that need the season."""
        if self.season_inputs and season < 2:
            raise ConfigError(
                f"season_inputs=True needs a season of at least 2 steps, but the "
                f"season length is {season} (frequency {freq!r}); pass "
                "season_length=, or leave season_inputs off."
            )
        config = self._seasonal(config, season, min(lookbacks))
        if config.level in SNAIVE_LEVELS and min(lookbacks) < season:
            raise ConfigError(
                f"level={config.level!r} repeats the last season of each window, "
                f"but lookback={min(lookbacks)} is shorter than "
                f"season_length={season}; use a lookback of at least one season."
            )
        return config

    def _training_windows(
        self, series: SeriesData, lookback: int, holdout: int, n_val: int
    ) -> tuple[SeriesData, NDArray[np.int64]]:
        """``series`` (padded with ``missing="mask"``) and its training window starts.

        Each series keeps its last ``holdout`` values out of training windows.
        """
        if self.missing == "mask":  # short series: padded with unobserved values
            series = _padded(series, lookback + self.horizon + holdout)
        else:
            _check_lengths(series, lookback, self.horizon)
        train_starts = training_starts(series.offsets, lookback, self.horizon, holdout)
        if len(train_starts) == 0:
            longest = int(series.lengths.max())
            raise DataError(
                f"no training windows: with validation=True and {n_val} validation "
                f"window(s) a series needs lookback + horizon + {holdout} = "
                f"{lookback + self.horizon + holdout} values, the longest has "
                f"{longest}. Use a shorter lookback, fewer validation_windows or "
                "validation=False."
            )
        return series, train_starts

    def _fitted_scaler(
        self,
        series: SeriesData,
        holdout: int,
        season: int,
        config: NetworkConfig,
        power: str,
    ) -> ScalerStats:
        """Fit the scaler of every series without its last ``holdout`` values.

        With ``level="detect"`` the stats also carry each series' seasonality flag,
        tested on the same values.
        """
        fitted = series.lengths - holdout
        stats = fit_scaler(
            series.values,
            series.offsets,
            fitted,
            self.scaler,
            power=power,
            season_length=season,
        )
        if config.level != "detect":
            return stats
        flags = seasonal_series(series.values, series.offsets, fitted, season)
        return dataclasses.replace(stats, seasonal=flags.astype(np.float64))

    def _value_channels(
        self,
        series: SeriesData,
        stats: ScalerStats,
        season: int,
        multiplicative: bool = False,
    ) -> torch.Tensor | None:
        """Extra input channels of every value (n_points, k), float32; None if none.

        ``season_inputs``: sin and cos of each value's season phase; ``level=
        "detect"``: its series' seasonal flag, last, after its series' scaled
        zero ``-loc / scale`` when ``multiplicative``.
        """
        parts = []
        if self.season_inputs:
            phases = season_phases(series.last_ds, series.freq, season)
            angles = phase_angles(phases, series.lengths, season)
            parts.append(phase_channels(torch.as_tensor(angles)))
        per_series = _series_channels(stats, multiplicative)
        if per_series is not None:
            parts.append(torch.as_tensor(np.repeat(per_series, series.lengths, axis=0)))
        if not parts:
            return None
        return torch.cat(parts, dim=1).to(torch.float32)

    def _train_member(
        self,
        network_config: NetworkConfig,
        scaled: torch.Tensor,
        offsets: NDArray[np.int64],
        *,
        member: tuple[int, int, int, int],
        config: TrainConfig,
        on_epoch: Callable[[EpochRecord], None] | None,
        channels: torch.Tensor | None = None,
        units: tuple[torch.Tensor, torch.Tensor] | None = None,
        refit: bool = False,
    ) -> tuple[RecurrentNetwork, list[EpochRecord]]:
        """Train a new network, member ``k`` of the ensemble, on its own windows.

        ``member`` is ``(k, lookback, holdout, validation windows)``. The network
        starts from the seed ``seed + k``, so a refit (``refit_full=True``, its
        records stamped so) starts where its validated training did.
        """
        k, lookback, holdout, n_val = member
        generator = seed_everything(self.seed + k)
        network = RecurrentNetwork(network_config).to(scaled.device)
        starts = [training_starts(offsets, lookback, self.horizon, holdout)]
        starts.append(
            validation_starts(offsets, lookback, self.horizon, n_val)
            if n_val
            else np.empty(0, dtype=np.int64)
        )
        train_starts, val_starts = (
            torch.as_tensor(s).to(scaled.device) for s in starts
        )
        fit_args = {
            "lookback": lookback,
            "horizon": self.horizon,
            "config": config,
            "generator": generator,
            "masked": self.missing == "mask",
            "channels": channels,
            "units": units,
            "member": k,
            "refit": refit,
        }
        if not self.progress:
            records = train(
                network, scaled, train_starts, val_starts, **fit_args, on_epoch=on_epoch
            )
            return network, records
        from rnncast.progress import training_bar

        label = self.cell.upper() + (f" {k + 1}" if self.ensemble > 1 else "")
        label += " last-value start" if self._level_choice == "last" else ""
        label += " refit" if refit else ""
        with training_bar(label, config.epochs) as bar:
            records = train(
                network,
                scaled,
                train_starts,
                val_starts,
                **fit_args,
                on_epoch=_both(bar, on_epoch),
            )
        return network, records

    def _fit_combination(
        self,
        series: SeriesData,
        stats: ScalerStats,
        lookback: int,
        val_starts: NDArray[np.int64] | None,
    ) -> NDArray[np.float64] | None:
        """Set the default weight; return the validation windows' classical forecasts.

        The returned array (n_windows, horizon), in scaled units, holds the
        classical forecast from the values before each validation window's
        targets (None without ``combine`` or validation windows). :meth:`fit`
        sets ``classical_``, from whole series, once.
        """
        self.combine_weight_ = self.combine_scores_ = None
        if check_combine(self.combine) is None:
            return None
        self.combine_weight_ = EQUAL_WEIGHT
        if val_starts is None:
            return None
        owners = series.owners(val_starts)
        firsts = series.offsets[owners]
        classical = self._classical(
            series.values, firsts, val_starts + lookback - firsts
        )
        return transform_rows(classical, stats.take(owners))

    def _classical(
        self,
        values: NDArray[np.float64],
        starts: NDArray[np.int64],
        lengths: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """:func:`~rnncast.classical.classical_forecasts` of ``combine``."""
        return classical_forecasts(
            values, starts, lengths, self.horizon, self.season_length_, self.combine
        )

    def _validation_outputs(
        self,
        scaled: torch.Tensor,
        val_starts: torch.Tensor,
        channels: torch.Tensor | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the network's outputs and the targets on the validation windows."""
        masked = self.missing == "mask"
        outputs, observed = [], []
        self.network_.eval()
        with torch.no_grad():
            for batch in val_starts.split(_PREDICT_BATCH):
                inputs, targets = gather(
                    scaled,
                    batch,
                    self.lookback_,
                    self.horizon,
                    masked=masked,
                    channels=channels,
                )
                outputs.append(self.network_(inputs).cpu())
                observed.append(targets.cpu())
        z = torch.cat(outputs).double().numpy()
        y = torch.cat(observed).double().numpy()
        return z, y

    def _calibration_scores(
        self,
        z: NDArray[np.float64],
        y: NDArray[np.float64],
        classical: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        r"""Conformity scores on the validation windows, in scaled units.

        ``z``, ``y``: the network's outputs and the targets there
        (:meth:`_validation_outputs`). ``"conformal"``: errors :math:`y - \hat y`
        (n_windows, horizon); ``"cqr"``:
        :func:`~rnncast.intervals.quantile_scores` of each level's quantile
        interval (n_windows, horizon, n_levels). With ``combine``, the errors
        are the mixed forecast's (``classical``: the validation windows'
        classical forecasts, scaled). NaN where a target is a gap
        (``missing="mask"``). :meth:`fit` divides them by each series'
        :func:`~rnncast.intervals.conformal_unit`.
        """
        z = self._mixed(z, classical)
        if z.ndim == 2:
            return y - z
        levels = check_levels(self.levels)
        lower, upper = quantile_bounds(
            sort_quantiles(z), self.network_.config.quantiles, levels
        )
        return quantile_scores(lower, upper, y)

    def _validation_windows(self, n_series: int) -> int:
        if self.validation_windows is not None:
            return require_positive_int("validation_windows", self.validation_windows)
        if self.intervals in CALIBRATED_INTERVALS:
            return max(1, min(int(self.horizon), math.ceil(40 / n_series)))
        return 1

    # -------------------------------------------------------------- predict
    def predict(
        self, data: Any = None, *, level: float | Sequence[float] | None = None
    ) -> pd.DataFrame:
        """Forecast ``horizon`` steps after the end of every series.

        Parameters
        ----------
        data : DataFrame, Series, ndarray or path, optional
            New history to forecast from. Without it, the series seen by ``fit``
            are forecast from their last values. Series seen by ``fit`` keep their
            fitted scaling; new series are scaled by statistics of their own history.
        level : float or sequence of float, optional
            Prediction interval levels in percent, e.g. ``[80, 95]``; needs a model
            fitted with ``intervals=``.

        Returns
        -------
        DataFrame
            Long frame ``id_col, time_col, yhat`` with ``horizon`` rows per series,
            plus ``yhat-lo-{level}`` and ``yhat-hi-{level}`` for each level.
        """
        self._check_fitted("predict")
        levels = self._check_predict_levels(level)
        if data is None:
            ids, last_ds, context, stats = (
                self.ids_,
                self.last_ds_,
                self.context_,
                self.scaler_,
            )
            unit, classical = self.interval_scale_, getattr(self, "classical_", None)
        else:
            series = self._new_series(data)
            ids, last_ds = list(series.ids), list(series.last_ds)
            context = last_inputs(series.values, series.offsets, self.lookback_)
            stats = self.scaler_for(series)
            unit = self._interval_units(series, stats)
            classical = self._new_classical(series)
        phases = self.season_phases(last_ds)
        rows = self._fitted_rows(ids) if levels and self.conformal_per_series else None
        yhat, lower, upper = self._forecast(
            context, stats, levels, unit, phases, rows, classical
        )
        frame = forecast_frame(
            ids,
            last_ds,
            self.freq_,
            yhat,
            column="yhat",
            id_col=self.id_col,
            time_col=self.time_col,
        )
        if levels:
            frame = frame.assign(**interval_columns(lower, upper, levels))
        return frame

    def _check_predict_levels(self, level: float | Sequence[float] | None) -> Levels:
        levels = check_levels(level)
        if not levels:
            return levels
        if self.intervals is None:
            raise ConfigError(
                "this model has no intervals: fit it with intervals='conformal', "
                "'quantile' or 'cqr' to predict with level=."
            )
        if self.intervals in QUANTILE_INTERVALS:
            trained = check_levels(self.levels)
            missing = [lv for lv in levels if lv not in trained]
            if missing:
                raise ConfigError(
                    f"the quantile heads were trained for levels {list(trained)}, "
                    f"not {missing}; fit with levels= including them, or use "
                    "intervals='conformal', which serves any level."
                )
        return levels

    def history_frame(self, data: Any) -> pd.DataFrame:
        """Return ``data`` as the model reads it: validated, sorted, filled, long.

        Columns are ``unique_id, ds, y`` whatever the input's column names.
        """
        return self._read(data, freq=getattr(self, "freq_", None)).to_frame()

    def _interval_units(
        self, series: SeriesData, stats: ScalerStats
    ) -> NDArray[np.float64] | None:
        """Conformal units of ``series``: fitted ones for series seen by ``fit``."""
        if self.interval_scale_ is None:
            return None
        scaled = transform(series.values, series.offsets, stats)
        own = conformal_unit(
            scaled,
            series.offsets,
            series.lengths,
            self.season_length_,
            self.conformal_unit,
        )
        return self._fitted_or_own(series.ids, self.interval_scale_, own)

    def _forecast(
        self,
        context: NDArray[np.float64],
        stats: ScalerStats,
        levels: Levels = (),
        unit: NDArray[np.float64] | None = None,
        phases: NDArray[np.int64] | None = None,
        rows: NDArray[np.int64] | None = None,
        classical: NDArray[np.float64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Forecasts and interval bounds in original units, from raw contexts.

        Returns yhat (n_series, horizon) and the lower and upper bounds
        (n_series, horizon, n_levels). ``unit``: each series' conformal unit;
        ``phases``: each context's last season phase (with ``season_inputs``);
        ``rows``: each context's series in the fitted ones, -1 if new (for
        ``conformal_per_series``); ``classical``: each context's classical
        forecast in the data's units, mixed in with ``combine``.
        """
        z = self._network_outputs(context, stats, phases)
        if classical is not None:
            z = self._mixed(z, transform_rows(classical, stats))
        lower, upper = self._scaled_bounds(z, levels, unit, rows)
        z = self._point(z)
        with np.errstate(over="ignore", invalid="ignore"):
            yhat = inverse_transform(z, stats)
            lower = inverse_transform(lower, stats)
            upper = inverse_transform(upper, stats)
        if not (np.isfinite(yhat).all() and np.isfinite(lower).all()):
            raise DataError(
                "the forecasts overflowed to inf/NaN: the series' values are too large "
                "for the float32 network after scaling. Rescale the data (e.g. divide "
                "by a constant) and fit again."
            )
        return yhat, lower, upper

    def _mixed(
        self, z: NDArray[np.float64], classical: NDArray[np.float64] | None
    ) -> NDArray[np.float64]:
        r"""Return the forecast of ``combine``, :math:`w z + (1 - w)\,c` (scaled).

        ``z`` unchanged without ``combine`` (``classical`` None); where a
        classical forecast :math:`c` has no scaled value (below a log
        transform's range), the network's alone. Quantile heads (``z``
        (n, horizon, n_quantiles)) are all moved by the median's change,
        :math:`(1 - w)(c - z_{0.5})`: the mix sets the centre, the network's
        quantiles keep their spread around it.
        """
        weight = getattr(self, "combine_weight_", None)
        if classical is None or weight is None:
            return z
        point = self._point(z)
        mixed = mixed_forecast(point, classical, weight)
        return mixed if z.ndim == 2 else z + (mixed - point)[:, :, None]

    def _point(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the point forecasts of outputs ``z``: the median of quantile heads."""
        if z.ndim == 2:
            return z
        return z[:, :, self.network_.config.quantiles.index(0.5)]

    def _new_classical(self, series: SeriesData) -> NDArray[np.float64] | None:
        """Return each series' classical forecast from all its values, or None."""
        if check_combine(self.combine) is None:
            return None
        return self._classical(series.values, series.offsets[:-1], series.lengths)

    def _scaled_bounds(
        self,
        z: NDArray[np.float64],
        levels: Levels,
        unit: NDArray[np.float64] | None,
        rows: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Interval bounds (n, horizon, n_levels) in scaled units."""
        if not levels:
            empty = np.empty((z.shape[0], z.shape[1], 0))
            return empty, empty
        if z.ndim == 2:
            lower, upper, self.interval_method_ = conformal_bounds(
                z,
                self.conformal_scores_,
                unit,
                levels,
                signed=check_conformal_errors(self.conformal_errors),
                owners=self.conformal_series_,
                overlap=int(self.horizon),  # validation windows are 1 step apart
                rows=rows,
            )
            return lower, upper
        lower, upper = quantile_bounds(z, self.network_.config.quantiles, levels)
        if self.intervals != "cqr":
            return lower, upper
        trained = check_levels(self.levels)
        scores = self.conformal_scores_[:, :, [trained.index(lv) for lv in levels]]
        lower, upper, self.interval_method_ = conformalized_quantile_bounds(
            lower, upper, scores, unit, levels
        )
        median = z[:, :, self.network_.config.quantiles.index(0.5)]
        return nested_bounds(lower, upper, median)

    def _network_outputs(
        self,
        context: NDArray[np.float64],
        stats: ScalerStats,
        phases: NDArray[np.int64] | None,
    ) -> NDArray[np.float64]:
        """Scaled network outputs (n, horizon) or sorted quantiles (n, horizon, q)."""
        inputs = self.network_inputs(context, stats, phases=phases)
        device = next(self.network_.parameters()).device
        outputs = []
        self.network_.eval()
        with torch.no_grad():
            for batch in inputs.split(_PREDICT_BATCH):
                outputs.append(self.network_(batch.to(device)).cpu())  # (b, h)
        z = torch.cat(outputs).double().numpy()
        return sort_quantiles(z) if z.ndim == 3 else z

    def network_inputs(
        self,
        windows: NDArray[np.float64],
        stats: ScalerStats,
        dtype: torch.dtype = torch.float32,
        *,
        phases: NDArray[np.int64] | None = None,
    ) -> torch.Tensor:
        """Scaled network inputs (n, lookback, channels) from raw windows (n, lookback).

        One channel, ``(g(y) - loc) / scale``; models fitted with ``missing="mask"``
        get the two channels of :func:`~rnncast.data.windows.masked_inputs`, and
        models fitted with ``season_inputs=True`` two more,
        :func:`~rnncast.data.windows.phase_channels` of each window's phases,
        counted back from ``phases``, the phase of each window's last value
        (:meth:`season_phases`); with ``level="detect"`` the series' seasonal
        flag (``stats.seasonal``) comes last, after the series' scaled zero
        ``-loc / scale`` when the network's patterns are multiplicative.
        ``dtype``: float32 for the network, float64 for the NumPy reference.
        """
        scaled = transform_rows(windows, stats)
        inputs = torch.as_tensor(scaled, dtype=dtype)
        if self.missing != "mask":
            inputs = inputs[:, :, None]
        else:
            unseen = np.isnan(windows).all(axis=1)
            if unseen.any():
                raise DataError(
                    f"{int(unseen.sum())} window(s) have no observed value in their "
                    f"last lookback={windows.shape[1]} values, so there is nothing "
                    "to forecast from; give more recent data for those series."
                )
            inputs = masked_inputs(inputs)
        n, lookback = windows.shape
        parts = [inputs]
        if self.season_inputs:
            if phases is None:
                raise ValueError("a model with season_inputs needs the phases.")
            angles = phase_angles(
                np.asarray(phases), np.full(n, lookback), self.season_length_
            )
            channels = phase_channels(torch.as_tensor(angles, dtype=dtype))
            parts.append(channels.view(n, lookback, 2))
        per_series = _series_channels(stats, self.network_.config.multiplicative)
        if per_series is not None:
            columns = torch.as_tensor(per_series, dtype=dtype)
            parts.append(columns[:, None, :].expand(n, lookback, -1))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else inputs

    def season_phases(self, last_ds: Sequence[Any]) -> NDArray[np.int64] | None:
        """Season phase of each timestamp (None for models without season inputs)."""
        if not self.season_inputs:
            return None
        return season_phases(last_ds, self.freq_, self.season_length_)

    def _new_series(self, data: Any) -> SeriesData:
        """Read new history for :meth:`predict`; each series at least a lookback."""
        series = self._read(data, freq=self.freq_)
        if self.missing == "mask":
            series = _padded(series, self.lookback_)
        short = series.lengths < self.lookback_
        if short.any():
            i = int(np.argmax(short))
            raise DataError(
                f"series {series.ids[i]!r} has {int(series.lengths[i])} values but the "
                f"model reads lookback={self.lookback_}; give at least "
                f"{self.lookback_} values per series."
            )
        return series

    def scaler_for(self, series: SeriesData) -> ScalerStats:
        """Scaling statistics for each series of ``series``, as :meth:`predict` uses.

        Series seen by ``fit`` keep their fitted statistics (and seasonal flag);
        new series get statistics fitted on (and are tested on) their whole given
        history.
        """
        self._check_fitted("scaler_for")
        fitted = self.scaler_
        self._check_range(series, self.transform_)
        own = fit_scaler(
            series.values,
            series.offsets,
            series.lengths,
            self.scaler,
            power=self.transform_,
            season_length=self.season_length_,
        )
        if fitted.power is None or fitted.shift is None:
            own_power = own_shift = None
        else:
            own_power = self._fitted_or_own(series.ids, fitted.power, own.power)
            own_shift = self._fitted_or_own(series.ids, fitted.shift, own.shift)
        seasonal = None
        if fitted.seasonal is not None:  # only new series are tested
            known = set(self.ids_)
            new = [i for i, uid in enumerate(series.ids) if uid not in known]
            own_flags = np.zeros(series.n_series)
            own_flags[new] = seasonal_series(
                series.values, series.offsets, series.lengths, self.season_length_, new
            )
            seasonal = self._fitted_or_own(series.ids, fitted.seasonal, own_flags)
        return ScalerStats(
            self._fitted_or_own(series.ids, fitted.loc, own.loc),
            self._fitted_or_own(series.ids, fitted.scale, own.scale),
            own_power,
            own_shift,
            seasonal,
        )

    def _fitted_or_own(
        self,
        ids: list[Hashable],
        fitted: NDArray[np.float64],
        own: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Per series of ``ids``: the value fitted for it, or ``own`` if it is new."""
        rows = self._fitted_rows(ids)
        return np.where(rows < 0, own, fitted[np.maximum(rows, 0)])

    def _fitted_rows(self, ids: Sequence[Hashable]) -> NDArray[np.int64]:
        """Index of each of ``ids`` among the series seen by ``fit``; -1 if new."""
        known = {uid: k for k, uid in enumerate(self.ids_)}
        return np.array([known.get(uid, -1) for uid in ids], dtype=np.int64)

    # ------------------------------------------------------------ save/load
    def save(self, path: str | Path) -> None:
        """Save the fitted model to the folder ``path`` (safetensors + JSON, no pickle).

        The folder is built beside ``path`` and moved into place at the end, so an
        interrupted save leaves any previous model at ``path`` intact.
        """
        self._check_fitted("save")
        from rnncast.forecaster_files import saved_parts

        fitted, tensors = saved_parts(self)
        write_model_dir(
            Path(path), params=self.get_params(), fitted=fitted, tensors=tensors
        )

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> Forecaster:
        """Load a model saved by :meth:`save`; it predicts exactly as the saved one.

        Raises
        ------
        ModelFileError
            The folder or a file in it is missing, damaged, or from an incompatible
            version of rnncast.
        """
        from rnncast.forecaster_files import restore

        params, fitted, tensors = read_model_dir(Path(path))
        return restore(cls, params, fitted, tensors, device)

    # -------------------------------------------------------------- helpers
    def _configs(self) -> tuple[NetworkConfig, TrainConfig]:
        require_positive_int("horizon", self.horizon)
        _check_lookback(self.lookback)
        require_positive_int("ensemble", self.ensemble)
        check_combine(self.combine)
        if self.transform not in TRANSFORMS:
            raise ConfigError(
                f"unknown transform {self.transform!r}; choose one of {TRANSFORMS}."
            )
        if self.scaler not in SCALERS:
            raise ConfigError(
                f"unknown scaler {self.scaler!r}; choose one of {SCALERS}."
            )
        hidden = (self.hidden,) if isinstance(self.hidden, int) else tuple(self.hidden)
        if not all(isinstance(h, int | np.integer) for h in hidden):
            raise ConfigError(f"hidden must hold integers, got {self.hidden!r}.")
        if self.missing not in MISSING_MODES:
            raise ConfigError(
                f"unknown missing mode {self.missing!r}; choose one of {MISSING_MODES}."
            )
        if self.missing == "mask" and self.fill is not None:
            raise ConfigError(
                f"missing='mask' keeps gaps as gaps, so it cannot be combined with "
                f"fill={self.fill!r}; choose one of them."
            )
        if self.season_inputs and self.output == "recursive":
            raise ConfigError(
                "season_inputs=True needs output='direct': a recursive head feeds "
                "its forecasts back as inputs, without their season phase."
            )
        network = NetworkConfig(
            cell=self.cell,  # type: ignore[arg-type]
            hidden=tuple(int(h) for h in hidden),
            horizon=int(self.horizon),
            dropout=self.dropout,
            output=self.output,
            level=self._network_level(),
            input_size=self._input_size(self._network_level()),
            quantiles=self._quantiles(),
            multiplicative=self._multiplicative(),
        )
        training = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            loss="pinball" if network.quantiles else self.loss,
            clip_norm=self.clip_norm,
            patience=self.patience,
            quantiles=network.quantiles,
            cuda_graphs=self.cuda_graphs,
            max_steps=self.max_steps,
        )
        return network, training

    def _input_size(self, level: str) -> int:
        """Input channels of the network: the target, then the optional ones."""
        return (
            (2 if self.missing == "mask" else 1)  # + the observed indicator
            + (2 if self.season_inputs else 0)  # + sin, cos of the season phase
            + (level == "detect")  # + the seasonal flag
        )

    def _multiplicative(self) -> bool:
        """Whether ``level="detect"`` may start windows from multiplicative patterns.

        Ratios of values need the data's own zero: never after a transform, and
        not with ``seasonal_pattern="additive"``.
        """
        if self.seasonal_pattern not in SEASONAL_PATTERNS:
            raise ConfigError(
                f"unknown seasonal_pattern {self.seasonal_pattern!r}; choose one of "
                f"{SEASONAL_PATTERNS}."
            )
        return (
            self._network_level() == "detect"
            and self.transform == "none"
            and self.seasonal_pattern == "auto"
        )

    def _network_level(self) -> str:
        """``level`` with "auto" resolved: "detect" (direct) or "season" (recursive).

        Or "last", where the naive check of :meth:`_fit_validated` chose it.
        """
        if self._level_choice is not None:
            return self._level_choice
        if self.level != "auto":
            return self.level
        return "detect" if self.output == "direct" else "season"

    def _quantiles(self) -> tuple[float, ...]:
        """Return the heads' quantiles: the median and both ends of each level."""
        if self.intervals not in (None, *NETWORK_INTERVALS):
            raise ConfigError(
                f"unknown intervals {self.intervals!r}; choose 'conformal', "
                "'quantile', 'cqr' or None."
            )
        check_conformal_errors(self.conformal_errors)
        check_conformal_unit(self.conformal_unit)
        if self.conformal_per_series and self.intervals != "conformal":
            raise ConfigError(
                "conformal_per_series=True calibrates conformal intervals per "
                f"series; it needs intervals='conformal', not {self.intervals!r} "
                "(in the CLI: --level with --intervals conformal)."
            )
        if self.intervals in CALIBRATED_INTERVALS and not self.validation:
            raise ConfigError(
                f"intervals={self.intervals!r} are calibrated on the validation "
                "windows; use validation=True."
            )
        levels = check_levels(self.levels)  # checked before any training
        if self.intervals not in QUANTILE_INTERVALS:
            return ()
        if not levels:
            raise ConfigError(
                f"intervals={self.intervals!r} needs levels, e.g. (80, 95)."
            )
        lower, upper = level_quantiles(levels)
        return tuple(sorted({round(q, 6) for q in (*lower, 0.5, *upper)}))

    def _read(self, data: Any, freq: Freq | None = None) -> SeriesData:
        return self._read_reporting(data, freq)[0]

    def _read_reporting(
        self, data: Any, freq: Freq | None = None
    ) -> tuple[SeriesData, ResampleReport | None]:
        """Read, resample if asked, and validate ``data``; report the resampling."""
        frame = to_long_frame(
            data, id_col=self.id_col, time_col=self.time_col, target_col=self.target_col
        )
        report = None
        if self.resample is not None:
            frame, report = resample(
                frame,
                self.resample,
                aggregation=self.aggregation,
                max_gap=self.max_gap,
            )
            freq = self.resample
        series = validate_frame(
            frame, freq=freq or self.freq, fill=self.fill, missing=self.missing
        )
        return series, report

    def _season_length(self, freq: Freq) -> int:
        if self.season_length is None:
            return season_length_from_freq(freq)
        return require_positive_int("season_length", self.season_length)

    def _member_lookbacks(self, season: int) -> list[int]:
        """Lookback of each ensemble member: ``lookback`` cycled over the members.

        Default: ``max(2 * horizon, 2 * season)`` for one network; an ensemble
        cycles through that base times 1, 1.5 and 2 (rounded up), so its members
        see different stretches of history.
        """
        require_positive_int("ensemble", self.ensemble)
        if self.lookback is None:
            base = max(2 * int(self.horizon), 2 * season)
            choices = [math.ceil(base * f) for f in _LOOKBACK_FACTORS]
        elif isinstance(self.lookback, int | np.integer):
            choices = [int(self.lookback)]
        else:
            choices = [int(v) for v in self.lookback]
        if self.ensemble == 1:
            return choices[:1]
        return [choices[k % len(choices)] for k in range(self.ensemble)]

    def _power(self, series: SeriesData) -> str:
        """Return the transform to fit: ``transform``, "auto" resolved on ``series``."""
        kind = resolve_transform(self.transform, series.values)
        self._check_range(series, kind)
        return kind

    def _check_range(self, series: SeriesData, kind: str) -> None:
        """DataError naming the first series with a value outside ``kind``'s range."""
        lowest = lowest_allowed(kind)
        if lowest is None:
            return
        bad = series.values <= lowest  # NaN gaps compare False
        if not bad.any():
            return
        i = int(series.owners(np.argmax(bad)))
        needs = "positive values" if lowest == 0 else "values >= 0"
        raise DataError(
            f"transform={kind!r} needs {needs}, but series {series.ids[i]!r} has "
            f"{np.nanmin(series.series(i)):g}. Use transform='none' (or 'auto', "
            "which picks the log only for positive data and log1p for counts)."
        )

    def _seasonal(
        self, config: NetworkConfig, season: int, lookback: int
    ) -> NetworkConfig:
        """``config`` with the season of ``level="season"`` or ``"snaive"``.

        ``level="auto"`` falls back to ``"last"`` when the shortest ``lookback``
        is shorter than a season.
        """
        if self.level == "auto" and lookback < season:
            return dataclasses.replace(
                config,
                level="last",
                input_size=self._input_size("last"),
                multiplicative=False,
            )
        if config.level not in SEASONAL_LEVELS:
            return config
        return dataclasses.replace(config, season_length=season)

    def _check_fitted(self, action: str) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(
                f"this Forecaster is not fitted yet; call fit(data) before {action}()."
            )


def _loss_units(
    stats: ScalerStats, offsets: NDArray[np.int64], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(loc, scale)`` of every value on ``device``: ``y = z * scale + loc``."""
    each = per_value(stats, offsets)
    loc, scale = (
        torch.as_tensor(a, dtype=torch.float32).to(device)
        for a in (each.loc, each.scale)
    )
    return loc, scale


def _series_channels(
    stats: ScalerStats, multiplicative: bool
) -> NDArray[np.float64] | None:
    """Input channels that are constant per series, (n_series, k); None if none.

    With ``level="detect"`` (``stats.seasonal`` set): the series' scaled zero
    ``-loc / scale`` when the patterns are ``multiplicative`` (the network drops
    it before its layers), then the seasonal flag, last, where the network reads
    it. Training repeats them for every value, :meth:`Forecaster.network_inputs`
    for every step of a window.
    """
    if stats.seasonal is None:
        return None
    columns = [stats.seasonal]
    if multiplicative:
        columns.insert(0, -stats.loc / stats.scale)
    return np.stack(columns, axis=1)


def _combined(
    members: list[RecurrentNetwork], lookbacks: list[int]
) -> RecurrentNetwork | EnsembleNetwork:
    """Return the one network, or the median ensemble of several."""
    return members[0] if len(members) == 1 else EnsembleNetwork(members, lookbacks)


def _best_epoch(history: list[EpochRecord], member: int) -> int:
    """Return the epoch of ``member``'s lowest validation loss (no refit epochs).

    The epoch whose weights :func:`~rnncast.training.train` restored; a refit
    trains that many epochs. Ties go to the earliest, as in ``train``.
    """
    best = _best_record(history, member)
    return 1 if best is None else best.epoch


def _best_record(history: list[EpochRecord], member: int) -> EpochRecord | None:
    """Return ``member``'s epoch of lowest monitored loss (no refit epochs).

    The monitored loss is the validation loss, or the training loss of epochs
    without one. Ties go to the earliest; None without any epoch.
    """
    best_loss, best = math.inf, None
    for record in history:
        if record.member != member or record.refit:
            continue
        loss = record.train_loss if record.val_loss is None else record.val_loss
        if loss < best_loss:
            best_loss, best = loss, record
    return best


def _level_scores(
    naive: float | None,
    level: str,
    history: list[EpochRecord],
    lookbacks: list[int],
) -> dict[str, float] | None:
    """Return the naive forecast's validation loss and the network's best, by name.

    The network's: the mean over the ensemble's members of each one's lowest
    validation loss (:func:`_best_record`). None when either is missing (no
    observed validation target).
    """
    best = [_best_record(history, k) for k in range(len(lookbacks))]
    losses = [None if b is None else b.val_loss for b in best]
    if naive is None or any(loss is None for loss in losses):
        return None
    return {"naive": naive, level: float(np.mean(losses))}


def _scaled_values(series: SeriesData, stats: ScalerStats) -> NDArray[np.float64]:
    """Scaled values for training; DataError if a series overflows float32."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = transform(series.values, series.offsets, stats)
        overflow = np.abs(scaled) > np.finfo(np.float32).max
    if overflow.any():
        i = int(series.owners(np.argmax(overflow)))
        raise DataError(
            f"series {series.ids[i]!r} spans too many orders of magnitude: scaled by "
            "its training part, some values exceed float32 (about 3.4e38). Check the "
            "series for corrupt values, or use scaler='robust' or a log transform."
        )
    return scaled


def _padded(series: SeriesData, min_length: int) -> SeriesData:
    """``series`` with every series left-padded with NaN to ``min_length`` values."""
    values, offsets = pad_front(series.values, series.offsets, min_length)
    return dataclasses.replace(series, values=values, offsets=offsets)


def _check_lookback(lookback: int | Sequence[int] | None) -> None:
    if lookback is None:
        return
    if isinstance(lookback, int | np.integer):
        require_positive_int("lookback", lookback)
        return
    values = list(lookback)
    if not values:
        raise ConfigError("lookback must be an integer or a non-empty list of them.")
    for value in values:
        require_positive_int("lookback", value)


def _check_lengths(series: SeriesData, lookback: int, horizon: int) -> None:
    needed = lookback + horizon
    short = np.flatnonzero(series.lengths < needed)
    if len(short):
        i = int(short[0])
        others = f" ({len(short) - 1} other series too)" if len(short) > 1 else ""
        raise DataError(
            f"series {series.ids[i]!r} has {int(series.lengths[i])} values but "
            f"lookback={lookback} plus horizon={horizon} needs {needed}{others}. Use a "
            f"shorter lookback or drop series under {needed} values."
        )


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(
            f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'."
        ) from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device='cuda' but no CUDA GPU is available; use 'auto' or 'cpu'."
        )
    return resolved


def _both(
    first: Callable[[EpochRecord], None], second: Callable[[EpochRecord], None] | None
) -> Callable[[EpochRecord], None]:
    def call(record: EpochRecord) -> None:
        first(record)
        if second is not None:
            second(record)

    return call
