"""The data a Forecaster reads: its input frames, and new history at predict time.

:func:`read_series` turns any accepted input into validated
:class:`~rnncast.data.series.SeriesData` under the model's column names, fill
policy, gap mode and resampling; the other functions give a fitted model's view of
new history: its series padded or checked against the lookback, scaled with the
fitted statistics for series seen by ``fit`` and their own for new ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnncast.collective import SINGLE_PROCESS, Collective
from rnncast.data.covariates import attach, dynamic_statistics
from rnncast.data.frame import validate_frame
from rnncast.data.inputs import to_long_frame, to_pandas
from rnncast.data.quality import ResampleReport, resample
from rnncast.data.scaling import (
    ScalerStats,
    fit_scaler,
    lowest_allowed,
    resolve_transform,
    transform,
)
from rnncast.data.seasonality import seasonal_series
from rnncast.data.series import Freq, SeriesData
from rnncast.data.windows import pad_front
from rnncast.exceptions import DataError, listing
from rnncast.forecaster.state import FittedState
from rnncast.intervals.methods import NoIntervals
from rnncast.options import ForecasterParams

__all__ = [
    "check_lengths",
    "fallback_forecasts",
    "fitted_or_own",
    "fitted_transform",
    "new_history",
    "padded",
    "read_series",
    "stats_for",
    "units_for",
]


def read_series(
    params: ForecasterParams,
    data: Any,
    freq: Freq | None = None,
    static_df: Any = None,
    *,
    static_needed: bool = True,
) -> tuple[SeriesData, ResampleReport | None, list[str]]:
    """Read, resample if asked, and validate ``data``, with its covariates.

    ``freq``: the frequency to expect (a fitted model's), else ``params.freq`` or
    inferred. ``static_df``: the static covariates, one row per series (else
    read from ``data``); ``static_needed=False`` (new history at predict time):
    they may be absent, then the fitted ones are used. Also returns what
    resampling changed and the input's columns that were not read.
    """
    dynamic = [*params.futr_exog, *params.hist_exog]
    static = list(params.stat_exog)
    frame = to_long_frame(
        data,
        id_col=params.id_col,
        time_col=params.time_col,
        target_col=params.target_col,
        keep=[*dynamic, *static],
    )
    ignored = list(frame.attrs.get("ignored_columns", []))
    if static_df is not None:
        static_df = to_pandas(static_df).rename(columns={params.id_col: "unique_id"})
    elif not static_needed and not set(static) <= set(frame.columns):
        static = []
    report = None
    if params.resample is not None and (dynamic or static):
        raise DataError(
            "resample puts the target on a grid, but covariates would need their "
            "own aggregation; resample the data (with its covariates) before "
            "fitting, or leave resample off."
        )
    if params.resample is not None:
        frame, report = resample(
            frame,
            params.resample,
            aggregation=params.aggregation,  # type: ignore[arg-type]
            max_gap=params.max_gap,
        )
        freq = params.resample
    series = validate_frame(
        frame,
        freq=freq or params.freq,
        fill=params.fill,  # type: ignore[arg-type]
        missing=params.missing,  # type: ignore[arg-type]
    )
    series = attach(series, frame, dynamic, static, static_df)
    return series, report, ignored


def padded(series: SeriesData, min_length: int) -> SeriesData:
    """``series`` with every series left-padded with NaN to ``min_length`` values.

    Dynamic covariates are padded with 0 (the inputs mark the padding unobserved).
    """
    values, offsets = pad_front(series.values, series.offsets, min_length)
    exog = series.exog
    if exog is not None:
        exog, _ = pad_front(exog, series.offsets, min_length, fill=0.0)
    return dataclasses.replace(series, values=values, offsets=offsets, exog=exog)


def check_lengths(series: SeriesData, lookback: int, horizon: int) -> None:
    """DataError naming every series shorter than ``lookback + horizon``."""
    needed = lookback + horizon
    short = np.flatnonzero(series.lengths < needed)
    if len(short):
        named = listing(f"{series.ids[i]} ({series.lengths[i]})" for i in short)
        raise DataError(
            f"{len(short)} series have fewer values than lookback={lookback} plus "
            f"horizon={horizon} = {needed}: {named} (values in brackets). "
            "missing='auto' (the default) or 'mask' pads them; or use a shorter "
            "lookback."
        )


def fallback_forecasts(
    series: SeriesData, min_values: int, horizon: int
) -> tuple[NDArray[np.float64] | None, dict[Hashable, str]]:
    """Naive forecasts of the series with fewer than ``min_values`` observed values.

    Such a series gives no training window (an input and a target), so its
    forecast is its last observed value. Returns (n_series, horizon) forecasts,
    NaN rows for the series the network forecasts (None when it forecasts all),
    and the reason of each series that falls back.
    """
    observed = np.add.reduceat(~np.isnan(series.values), series.offsets[:-1])
    short = np.flatnonzero(observed < min_values)
    if len(short) == 0:
        return None, {}
    forecasts = np.full((series.n_series, horizon), np.nan)
    for i in short:
        values = series.series(int(i))
        forecasts[i] = values[~np.isnan(values)][-1]
    reasons = {
        series.ids[i]: (
            f"{observed[i]} observed value(s), too few for a training window "
            f"({min_values}): the last value (naive)"
        )
        for i in short
    }
    return forecasts, reasons


def fitted_transform(
    params: ForecasterParams,
    series: SeriesData,
    collective: Collective = SINGLE_PROCESS,
) -> str:
    """Return the transform to fit: ``transform``, "auto" resolved on ``series``.

    ``collective``: ``series`` are one process's of a data-parallel fit.
    """
    kind = resolve_transform(params.transform, series.values, collective)
    check_range(series, kind)
    return kind


def check_range(series: SeriesData, kind: str) -> None:
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


def new_history(
    params: ForecasterParams, state: FittedState, data: Any, static_df: Any = None
) -> tuple[SeriesData, NDArray[np.float64] | None, dict[Hashable, str]]:
    """Read new history for ``predict``; each series at least a lookback long.

    A masked model pads shorter series with unobserved values, and forecasts
    those under ``state.min_length`` values by their last value: also returns
    those forecasts and reasons, as :func:`fallback_forecasts`.
    """
    series, _, _ = read_series(
        params, data, state.series.freq, static_df, static_needed=False
    )
    fallback, reasons = fallback_forecasts(
        series,
        state.min_length,
        int(params.horizon),  # type: ignore[arg-type]
    )
    if state.masked:
        series = padded(series, state.lookback)
    short = series.lengths < state.lookback
    if short.any():
        i = int(np.argmax(short))
        raise DataError(
            f"series {series.ids[i]!r} has {int(series.lengths[i])} values but the "
            f"model reads lookback={state.lookback}; give at least "
            f"{state.lookback} values per series, or fit with missing='mask', which "
            "pads short series."
        )
    return series, fallback, reasons


def fitted_or_own(
    rows: NDArray[np.int64],
    fitted: NDArray[np.float64],
    own: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Per series: the value fitted for it (``rows``: its fitted row), or its own."""
    return np.where(rows < 0, own, fitted[np.maximum(rows, 0)])


def stats_for(
    params: ForecasterParams, state: FittedState, series: SeriesData
) -> ScalerStats:
    """Scaling statistics for each series of ``series``, as ``predict`` uses them.

    Series seen by ``fit`` keep their fitted statistics (and seasonal flag); new
    series get statistics fitted on (and are tested on) their whole given history.
    """
    fitted = state.series.scaler
    check_range(series, state.transform)
    own = fit_scaler(
        series.values,
        series.offsets,
        series.lengths,
        params.scaler,  # type: ignore[arg-type]
        power=state.transform,  # type: ignore[arg-type]
        season_length=state.season_length,
    )
    rows = state.series.rows(series.ids)
    if fitted.power is None or fitted.shift is None:
        own_power = own_shift = None
    else:
        own_power = fitted_or_own(rows, fitted.power, own.power)  # type: ignore[arg-type]
        own_shift = fitted_or_own(rows, fitted.shift, own.shift)  # type: ignore[arg-type]
    seasonal = None
    if fitted.seasonal is not None:  # only new series are tested
        new = [int(i) for i in np.flatnonzero(rows < 0)]
        own_flags = np.zeros(series.n_series)
        own_flags[new] = seasonal_series(
            series.values,
            series.offsets,
            series.lengths,
            state.network.config.season_length,  # the window's season
            new,
        )
        seasonal = fitted_or_own(rows, fitted.seasonal, own_flags)
    return ScalerStats(
        fitted_or_own(rows, fitted.loc, own.loc),
        fitted_or_own(rows, fitted.scale, own.scale),
        own_power,
        own_shift,
        seasonal,
        **_covariate_stats(state, series, rows),
    )


def _covariate_stats(
    state: FittedState, series: SeriesData, rows: NDArray[np.int64]
) -> dict[str, NDArray[np.float64]]:
    """Return the covariates' statistics of ``series`` (``rows``: -1 for new).

    Dynamic covariates keep their fitted scaling, new series get their own
    history's; static ones are encoded from ``series`` where it has them, else
    the fitted encoding is kept (and a new series without them is an error).
    """
    layout, fitted = state.covariates, state.series.scaler
    stats: dict[str, NDArray[np.float64]] = {}
    new = rows < 0
    if layout.dynamic:
        own_loc, own_scale = dynamic_statistics(
            series.exog,  # type: ignore[arg-type]
            series.offsets,
            series.lengths,
        )
        stats["exog_loc"] = np.where(
            new[:, None],
            own_loc,
            fitted.exog_loc[np.maximum(rows, 0)],  # type: ignore[index]
        )
        stats["exog_scale"] = np.where(
            new[:, None],
            own_scale,
            fitted.exog_scale[np.maximum(rows, 0)],  # type: ignore[index]
        )
    if layout.static is not None:
        if series.static is not None:
            stats["static"] = layout.static.encode(series.static, list(series.ids))
        elif new.any():
            named = listing(series.ids[i] for i in np.flatnonzero(new))
            raise DataError(
                f"series {named} are new to the model, which reads the static "
                f"covariates {list(layout.static.columns)}; give them in the data "
                "(or static_df)."
            )
        else:
            stats["static"] = fitted.static[rows]  # type: ignore[index]
    return stats


def units_for(
    state: FittedState,
    intervals: NoIntervals,
    series: SeriesData,
    stats: ScalerStats,
) -> NDArray[np.float64] | None:
    """Conformal units of ``series``: fitted ones for series seen by ``fit``."""
    if state.series.unit is None:
        return None
    scaled = transform(series.values, series.offsets, stats)
    own = intervals.unit(scaled, series.offsets, series.lengths, state.season_length)
    if own is None:
        return None
    return fitted_or_own(state.series.rows(series.ids), state.series.unit, own)
