"""Short series and gaps: masking resolved on the data, a fallback for the shortest.

:func:`planned` decides whether a fit masks (``missing="auto"``: only where the
data needs it); :func:`with_fallbacks` extends a network fitted on the series long
enough for a training window to the series too short for one (a single observed
value), forecast by their last value.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.data.covariates import CovariateLayout
from rnncast.data.seasonality import kept_seasons
from rnncast.data.series import SeriesData
from rnncast.data.windows import last_inputs
from rnncast.forecaster.plan import FitPlan, make_plan
from rnncast.forecaster.reading import (
    fallback_forecasts,
    padded,
    stats_for,
    units_for,
)
from rnncast.forecaster.state import FittedSeries, FittedState
from rnncast.intervals.methods import Calibration
from rnncast.options import ForecasterParams

__all__ = ["planned", "with_fallbacks"]


def planned(
    params: ForecasterParams,
    series: SeriesData,
    collective: Collective = SINGLE_PROCESS,
) -> FitPlan:
    """Plan the fit, the seasons and ``missing="auto"`` resolved on ``series``.

    Without ``season_length`` the frequency's periods are kept where the data
    shows them (:func:`~rnncast.data.seasonality.kept_seasons`, on each series
    without its validation holdout). ``auto`` masks when the data has gaps, a
    series shorter than ``lookback + horizon`` (what ``missing="error"``
    refuses) or no series long enough for a training window before its
    validation holdout (where ``"error"`` fails), so data that fits without
    masking gets the model ``"error"`` gives it. Each decision reads every
    process's series (``collective``).
    """
    static = series.static
    if static is not None and collective.distributed:  # one row per series
        static = pd.concat(collective.gather(static))
    covariates = CovariateLayout.of(params, series.freq, static)
    n_series = collective.total(series.n_series)
    plan = make_plan(
        params, series.freq, n_series, covariates=covariates, collective=collective
    )
    if params.season_length is None and len(plan.seasons) > 1:
        fitted = np.maximum(series.lengths - plan.holdout, 0)
        seasons = kept_seasons(
            series.values, series.offsets, fitted, plan.seasons, collective=collective
        )
        plan = make_plan(
            params,
            series.freq,
            n_series,
            seasons=seasons,
            covariates=covariates,
            collective=collective,
        )
    if params.missing != "auto":
        return plan
    horizon = int(params.horizon)  # type: ignore[arg-type]
    short = series.lengths < plan.lookback + horizon
    no_window = (series.lengths < plan.window).all()  # unmasked, nothing to train on
    gaps = np.isnan(series.values).any()
    if collective.any(short.any() or gaps) or collective.all(no_window):
        return make_plan(
            params,
            series.freq,
            n_series,
            masked=True,
            seasons=plan.seasons,
            covariates=covariates,
            collective=collective,
        )
    return plan


def with_fallbacks(
    plan: FitPlan, state: FittedState, series: SeriesData
) -> FittedState:
    """Extend the network's ``state`` to every series of ``series``.

    The series it was not trained on (too short) get their naive forecasts, and
    what predicting reads of every series, as new series get it at predict
    time: statistics, seasonal flag and conformal unit of their own history, and
    their last ``lookback`` values padded. Calibration rows keep their series.
    """
    params = plan.params
    horizon = int(params.horizon)  # type: ignore[arg-type]
    fallback, reasons = fallback_forecasts(series, plan.min_length, horizon)
    stats = stats_for(params, state, series)
    unit = units_for(state, plan.intervals, series, stats)
    rows = state.series.rows(list(series.ids))  # -1: not trained on
    classical = state.series.classical
    if classical is not None:
        classical = np.full((series.n_series, horizon), np.nan)
        classical[rows >= 0] = state.series.classical
        own = rows < 0
        classical[own] = plan.mix.forecasts(
            series.values,
            series.offsets[:-1][own],
            series.lengths[own],
            horizon,
            state.seasons,
        )
    whole = padded(series, state.lookback)
    fitted_series = FittedSeries(
        ids=list(series.ids),
        freq=series.freq,
        last_ds=list(series.last_ds),
        context=last_inputs(whole.values, whole.offsets, state.lookback),
        scaler=stats,
        classical=classical,
        unit=unit,
        filled=dict(series.filled),
        fallback=fallback,
        context_exog=None
        if whole.exog is None
        else last_inputs(whole.exog, whole.offsets, state.lookback),
    )
    calibration = state.calibration
    if calibration is not None and calibration.owners is not None:
        trained_rows = np.flatnonzero(rows >= 0)
        calibration = Calibration(calibration.scores, trained_rows[calibration.owners])
    return dataclasses.replace(
        state, series=fitted_series, calibration=calibration, fallbacks=reasons
    )
