"""Forecasts of a fitted state: ``forecast(params, state, data, level) -> frame``.

The state is read, never changed: the network runs on each series' last
``lookback`` values (the fitted ones, or new history), its outputs are mixed with
the classical forecasts, the interval method adds bounds, and the transform and
scaling are inverted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from rnncast.combine import mixer
from rnncast.data.scaling import inverse_transform, transform_rows
from rnncast.data.series import forecast_frame
from rnncast.data.windows import last_inputs
from rnncast.exceptions import DataError
from rnncast.forecaster.features import InputSpec, network_inputs
from rnncast.forecaster.fitting import PREDICT_BATCH
from rnncast.forecaster.reading import new_history, stats_for, units_for
from rnncast.forecaster.state import FittedState, Network
from rnncast.intervals.levels import check_levels, interval_columns, sort_quantiles
from rnncast.intervals.methods import interval_method
from rnncast.options import ForecasterParams

__all__ = ["forecast", "network_outputs", "with_fallback"]


def forecast(
    params: ForecasterParams,
    state: FittedState,
    data: Any = None,
    level: Any = None,
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
    if data is None:
        ids, last_ds, context, stats = (
            fitted.ids,
            fitted.last_ds,
            fitted.context,
            fitted.scaler,
        )
        unit, classical = fitted.unit, fitted.classical
        fallback, fallbacks = fitted.fallback, state.fallbacks
    else:
        series, fallback, fallbacks = new_history(params, state, data)
        ids, last_ds = list(series.ids), list(series.last_ds)
        context = last_inputs(series.values, series.offsets, state.lookback)
        stats = stats_for(params, state, series)
        unit = units_for(state, intervals, series, stats)
        classical = mixer(params.combine).forecasts(
            series.values,
            series.offsets[:-1],
            series.lengths,
            int(params.horizon),  # type: ignore[arg-type]
            state.seasons,
        )
    config = state.network.config
    spec = InputSpec.of(params, config, state.seasons, fitted.freq, state.masked)
    inputs = network_inputs(spec, context, stats, phases=spec.phases(last_ds))
    z = network_outputs(state.network, inputs)
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
        last_ds,
        fitted.freq,
        yhat,
        column=column,
        id_col=params.id_col,
        time_col=params.time_col,
    )
    if levels:
        frame = frame.assign(**interval_columns(lower, upper, levels, column))
        frame.attrs["interval_method"] = method
    frame.attrs["fallbacks"] = dict(fallbacks)
    return frame


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


def network_outputs(network: Network, inputs: torch.Tensor) -> NDArray[np.float64]:
    """Scaled network outputs (n, horizon), or sorted quantiles (n, horizon, q)."""
    device = next(network.parameters()).device
    outputs = []
    network.eval()
    with torch.no_grad():
        for batch in inputs.split(PREDICT_BATCH):
            outputs.append(network(batch.to(device)).cpu())  # (b, h)
    z = torch.cat(outputs).double().numpy()
    return sort_quantiles(z) if z.ndim == 3 else z
