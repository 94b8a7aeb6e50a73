"""What a fitted Forecaster holds: one immutable :class:`FittedState`.

:func:`~rnncast.forecaster.fitting.fit_state` builds it, the Forecaster exposes its
parts as the fitted attributes (``network_``, ``scaler_``...), predicting reads it
and never changes it, and :mod:`rnncast.forecaster.files` writes it to and reads
it from a model folder.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnncast.combine import FittedMix
from rnncast.data.covariates import NO_COVARIATES, CovariateLayout
from rnncast.data.quality import DataReport
from rnncast.data.scaling import ScalerStats
from rnncast.data.series import Freq
from rnncast.intervals.methods import Calibration
from rnncast.models.networks import EnsembleNetwork, RecurrentNetwork
from rnncast.training import EpochRecord

__all__ = ["FittedSeries", "FittedState", "Network"]

Network = RecurrentNetwork | EnsembleNetwork


@dataclass(frozen=True)
class FittedSeries:
    """What a fitted model knows of each series it was fitted on, in ``ids`` order.

    Attributes
    ----------
    ids : list
        The series' ids.
    freq : str or int
        Their frequency.
    last_ds : list
        Each series' last timestamp.
    context : ndarray of shape (n_series, lookback)
        Each series' last ``lookback`` values (NaN padding for short series with
        ``missing="mask"``): what :meth:`~rnncast.Forecaster.predict` forecasts from.
    scaler : ScalerStats
        Each series' scaling (and seasonal flag).
    classical : ndarray of shape (n_series, horizon) or None
        With ``combine``: each series' classical forecast from its whole history.
    unit : ndarray of shape (n_series,) or None
        With calibrated intervals: each series' unit of the conformal bounds,
        measured on the values the network last trained on.
    filled : dict
        Values filled per series by the ``fill`` policy.
    fallback : ndarray of shape (n_series, horizon) or None
        The naive forecasts of the series too short for the network (see
        ``FittedState.min_length``), in the data's units; NaN rows for the
        others. None when every series has the network's forecast.
    context_exog : ndarray of shape (n_series, lookback, d) or None
        With dynamic covariates: their raw values at the ``context`` steps.
    """

    ids: list[Hashable]
    freq: Freq
    last_ds: list[Any]
    context: NDArray[np.float64]
    scaler: ScalerStats
    classical: NDArray[np.float64] | None = None
    unit: NDArray[np.float64] | None = None
    filled: dict[Hashable, int] = field(default_factory=dict)
    fallback: NDArray[np.float64] | None = None
    context_exog: NDArray[np.float64] | None = None

    def rows(self, ids: list[Hashable]) -> NDArray[np.int64]:
        """Index of each of ``ids`` among the fitted series; -1 for a new one."""
        known = {uid: k for k, uid in enumerate(self.ids)}
        return np.array([known.get(uid, -1) for uid in ids], dtype=np.int64)


@dataclass(frozen=True)
class FittedState:
    """Everything :meth:`~rnncast.Forecaster.fit` produced.

    Attributes
    ----------
    network : RecurrentNetwork or EnsembleNetwork
        The trained network, in eval mode.
    series : FittedSeries
        The fitted series.
    season_length, lookback : int
        The season length and the longest member lookback used.
    seasons : tuple of float
        Every seasonal period of the fit, shortest first (``season_length`` is
        the first, rounded).
    lookbacks : tuple of int
        Each ensemble member's lookback.
    transform : str
        The transform fitted (``transform`` with "auto" resolved).
    level_choice : str or None
        ``"last"`` when the naive check chose a network forecasting changes from
        the last value, else None.
    level_scores : dict or None
        The validation losses the naive check compared.
    mix : FittedMix
        The classical mix (method, weight, validation errors).
    calibration : Calibration or None
        Calibration scores of calibrated intervals.
    history : list of EpochRecord
        Every epoch of every training.
    n_train_windows, validation_windows : int
        Training windows of the last training; validation windows per series.
    masked : bool
        Whether the network reads gaps and padding as masked (``missing``
        resolved on the data).
    min_length : int
        Series with fewer observed values get their last value as forecast, at
        fit and at predict time (0: none does).
    fallbacks : dict
        Each fitted series too short for the network, and why.
    data_report : DataReport or None
        What reading the data changed or noticed (not saved in model files).
    covariates : CovariateLayout
        The covariates the network reads (none by default).
    """

    network: Network
    series: FittedSeries
    season_length: int
    seasons: tuple[float, ...]
    lookback: int
    lookbacks: tuple[int, ...]
    transform: str
    level_choice: str | None
    level_scores: dict[str, float] | None
    mix: FittedMix
    calibration: Calibration | None
    history: list[EpochRecord]
    n_train_windows: int
    validation_windows: int
    masked: bool = False
    min_length: int = 0
    fallbacks: dict[Hashable, str] = field(default_factory=dict)
    data_report: DataReport | None = None
    covariates: CovariateLayout = NO_COVARIATES

    @property
    def window_level(self) -> str:
        """The window level the network uses (``window_level`` resolved)."""
        return self.network.config.level
