"""Forecasts of a fitted state: ``forecast(params, state, data, level) -> frame``.

The state is read, never changed: the network runs on each series' last
``lookback`` values (the fitted ones, or new history), its outputs are mixed with
the classical forecasts, the interval method adds bounds, and the transform and
scaling are inverted.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast.combine import mixer
from rnncast.data.covariates import horizon_values
from rnncast.data.inputs import to_pandas
from rnncast.data.scaling import ScalerStats, inverse_transform, transform_rows
from rnncast.data.series import forecast_frame, horizon_stamps
from rnncast.data.windows import last_inputs
from rnncast.exceptions import DataError
from rnncast.forecaster.features import (
    InputSpec,
    WindowCovariates,
    future_inputs,
    network_inputs,
    window_stamps,
)
from rnncast.forecaster.fitting import PREDICT_BATCH
from rnncast.forecaster.reading import new_history, stats_for, units_for
from rnncast.forecaster.state import FittedState, Network
from rnncast.intervals.levels import check_levels, interval_columns, sort_quantiles
from rnncast.intervals.methods import interval_method
from rnncast.options import ForecasterParams

__all__ = [
    "ForecastInputs",
    "forecast",
    "forecast_covariates",
    "forecast_inputs",
    "network_outputs",
    "with_fallback",
]


def forecast(
    params: ForecasterParams,
    state: FittedState,
    data: Any = None,
    level: Any = None,
    futr_df: Any = None,
    static_df: Any = None,
) -> pd.DataFrame:
    """Forecast ``horizon`` steps after every series; see ``Forecaster.predict``.

    The frame's ``attrs["interval_method"]`` says how the bounds were computed
    (e.g. ``"per-step, signed"``) when ``level`` is given; ``attrs["fallbacks"]``
    maps each series too short for the network (its last value) to why.
    """
    intervals = interval_method(params)
    levels = check_levels(level)
    intervals.check_asked(levels)
    fitted = state.series
    prepared = forecast_inputs(params, state, data, futr_df, static_df)
    ids, stats, unit = prepared.ids, prepared.stats, prepared.unit
    classical, fallback = prepared.classical, prepared.fallback
    config = state.network.config
    z = network_outputs(state.network, prepared.inputs, prepared.future)
    median = config.quantiles.index(0.5) if config.quantiles else None
    if classical is not None:
        z = state.mix.apply(z, transform_rows(classical, stats), median)
    fell_back = np.zeros(len(ids), dtype=bool)  # series too short for the network
    if fallback is not None:
        fell_back = ~np.isnan(fallback).any(axis=1)
        z = with_fallback(z, transform_rows(fallback, stats), fell_back, median)
    rows = fitted.rows(ids) if levels else None
    lower, upper, method = intervals.bounds(
        z, levels, config.quantiles, unit, state.calibration, rows
    )
    point = z if median is None else z[:, :, median]
    with np.errstate(over="ignore", invalid="ignore"):
        yhat = inverse_transform(point, stats)
        lower = inverse_transform(lower, stats)
        upper = inverse_transform(upper, stats)
    lower[fell_back] = upper[fell_back] = np.nan  # one value: no spread to size by
    if not (np.isfinite(yhat).all() and np.isfinite(lower[~fell_back]).all()):
        raise DataError(
            "the forecasts overflowed to inf/NaN: the series' values are too large "
            "for the float32 network after scaling. Rescale the data (e.g. divide "
            "by a constant) and fit again."
        )
    column = params.alias or "yhat"
    frame = forecast_frame(
        ids,
        prepared.last_ds,
        fitted.freq,
        yhat,
        column=column,
        id_col=params.id_col,
        time_col=params.time_col,
    )
    if levels:
        frame = frame.assign(**interval_columns(lower, upper, levels, column))
        frame.attrs["interval_method"] = method
    frame.attrs["fallbacks"] = dict(prepared.fallbacks)
    return frame


@dataclass(frozen=True)
class ForecastInputs:
    """What the network reads to forecast each series, and what goes with it.

    ``inputs`` (n, lookback, channels) and ``future`` (n, horizon, f) or None:
    the network's arguments; ``stats`` the series' scaling, ``unit`` their
    conformal units, ``classical`` and ``fallback`` their classical and naive
    forecasts (raw units), ``fallbacks`` why a series got its naive one.
    """

    ids: list[Hashable]
    last_ds: list[Any]
    stats: ScalerStats
    inputs: torch.Tensor
    future: torch.Tensor | None
    unit: NDArray[np.float64] | None
    classical: NDArray[np.float64] | None
    fallback: NDArray[np.float64] | None
    fallbacks: dict[Hashable, str]


def forecast_inputs(
    params: ForecasterParams,
    state: FittedState,
    data: Any = None,
    futr_df: Any = None,
    static_df: Any = None,
    dtype: torch.dtype = torch.float32,
) -> ForecastInputs:
    """Return what the network reads to forecast every series, as ``forecast`` does.

    From the fitted series' last values, or from new history ``data``;
    ``futr_df`` the future-known covariates of the horizon. ``dtype``: float32
    for the network, float64 for the NumPy reference.
    """
    fitted = state.series
    if data is None:
        ids, last_ds, context, stats = (
            fitted.ids,
            fitted.last_ds,
            fitted.context,
            fitted.scaler,
        )
        unit, classical = fitted.unit, fitted.classical
        fallback, fallbacks = fitted.fallback, state.fallbacks
        context_exog = fitted.context_exog
    else:
        series, fallback, fallbacks = new_history(params, state, data, static_df)
        ids, last_ds = list(series.ids), list(series.last_ds)
        context = last_inputs(series.values, series.offsets, state.lookback)
        context_exog = None
        if series.exog is not None:
            context_exog = last_inputs(series.exog, series.offsets, state.lookback)
        stats = stats_for(params, state, series)
        unit = units_for(state, interval_method(params), series, stats)
        classical = mixer(params.combine).forecasts(
            series.values,
            series.offsets[:-1],
            series.lengths,
            int(params.horizon),  # type: ignore[arg-type]
            state.seasons,
        )
    if futr_df is not None:
        futr_df = to_pandas(futr_df).rename(
            columns={params.id_col: "unique_id", params.time_col: "ds"}
        )
    config = state.network.config
    spec = InputSpec.of(
        params, config, state.seasons, fitted.freq, state.masked, state.covariates
    )
    covariates = forecast_covariates(spec, state, ids, last_ds, context_exog, futr_df)
    inputs = network_inputs(
        spec, context, stats, dtype, phases=spec.phases(last_ds), covariates=covariates
    )
    future = future_inputs(spec, stats, covariates, config.horizon, dtype)
    return ForecastInputs(
        ids, last_ds, stats, inputs, future, unit, classical, fallback, dict(fallbacks)
    )


def with_fallback(
    z: NDArray[np.float64],
    fallback: NDArray[np.float64],
    rows: NDArray[np.bool_],
    median: int | None,
) -> NDArray[np.float64]:
    """Return ``z`` with the fallback forecasts (scaled) put in at ``rows``.

    Every quantile of quantile outputs (n, horizon, q) is the fallback.
    """
    z = z.copy()
    z[rows] = fallback[rows] if median is None else fallback[rows][:, :, None]
    return z


def forecast_covariates(
    spec: InputSpec,
    state: FittedState,
    ids: list[Hashable],
    last_ds: list[Any],
    context_exog: NDArray[np.float64] | None,
    futr_df: Any,
) -> WindowCovariates | None:
    """Return the covariates of the windows ending at ``last_ds`` (None without).

    ``context_exog``: the dynamic covariates of the input steps; ``futr_df``
    gives the future-known ones of the horizon.
    """
    layout = state.covariates
    if not layout.inputs:
        return None
    freq, horizon = state.series.freq, state.network.config.horizon
    calendar = bool(layout.calendar)
    futr = None
    if layout.futr:
        futr = horizon_values(ids, last_ds, freq, horizon, futr_df, layout.futr)
    return WindowCovariates(
        stamps=window_stamps(last_ds, freq, state.lookback) if calendar else None,
        exog=context_exog,
        future_stamps=horizon_stamps(last_ds, freq, horizon) if calendar else None,
        futr=futr,
    )


def network_outputs(
    network: Network, inputs: torch.Tensor, future: torch.Tensor | None = None
) -> NDArray[np.float64]:
    """Scaled network outputs (n, horizon), or sorted quantiles (n, horizon, q).

    ``future``: the future-known inputs (n, horizon, f) of a network reading them.
    """
    device = next(network.parameters()).device
    outputs = []
    network.eval()
    with torch.no_grad():
        for k, batch in enumerate(inputs.split(PREDICT_BATCH)):
            known = None
            if future is not None:
                known = future[k * PREDICT_BATCH : (k + 1) * PREDICT_BATCH].to(device)
            outputs.append(network(batch.to(device), known).cpu())  # (b, h)
    z = torch.cat(outputs).double().numpy()
    return sort_quantiles(z) if z.ndim == 3 else z
