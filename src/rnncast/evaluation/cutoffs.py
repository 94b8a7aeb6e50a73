"""Where each backtest window ends, and what a model sees of the steps after it.

:func:`cutoff_lengths` places the cutoffs; :func:`future_values` are the
targets after each, :func:`future_covariates` the future-known covariates a
model gets for them (``predict(futr_df=...)``), never the past ones.
:func:`covariate_names` collects the covariates the backtest's models read.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from rnncast.data.series import SeriesData, forecast_frame
from rnncast.exceptions import DataError, listing
from rnncast.protocol import ForecastingModel

__all__ = [
    "covariate_names",
    "covariates_seen",
    "cutoff_lengths",
    "future_covariates",
    "future_values",
    "reads_future",
]


def cutoff_lengths(
    series: SeriesData, horizon: int, n_windows: int, step: int
) -> np.ndarray:
    """Training length of each series (rows) at each window (columns)."""
    back = horizon + step * np.arange(n_windows - 1, -1, -1)  # values after each cutoff
    lengths = series.lengths[:, None] - back[None, :]
    short = np.flatnonzero(lengths[:, 0] < 2)
    if len(short):
        named = listing(f"{series.ids[i]} ({series.lengths[i]})" for i in short)
        raise DataError(
            f"{len(short)} series are too short for {n_windows} windows of horizon "
            f"{horizon} spaced {step} apart, which need more than "
            f"{int(back[0]) + 1} values: {named} (values in brackets). Use fewer "
            "windows or a smaller step, or drop those series."
        )
    return lengths


def future_values(series: SeriesData, before: SeriesData, horizon: int) -> pd.DataFrame:
    """Return the ``horizon`` values after each cutoff as ``unique_id, ds, y``.

    ``before`` is ``series`` cut at the cutoffs (see :meth:`SeriesData.head`).
    """
    first_after = series.offsets[:-1] + before.lengths
    values = series.values[first_after[:, None] + np.arange(horizon)]
    return forecast_frame(series.ids, before.last_ds, series.freq, values, column="y")


def future_covariates(
    series: SeriesData, before: SeriesData, horizon: int, futr: list[str]
) -> pd.DataFrame | None:
    """Return the future-known covariates of the ``horizon`` steps after cutoffs.

    Only ``futr`` columns: past covariates of those steps never reach a model.
    """
    if not futr:
        return None
    first_after = series.offsets[:-1] + before.lengths
    rows = (first_after[:, None] + np.arange(horizon)).reshape(-1)
    frame = future_values(series, before, horizon)[["unique_id", "ds"]]
    for name in futr:
        column = series.exog_names.index(name)
        frame[name] = series.exog[rows, column]  # type: ignore[index]
    return frame


def covariate_names(
    models: Iterable[ForecastingModel],
) -> tuple[list[str], list[str], list[str]]:
    """Every future-known, past and static covariate some model reads, in order.

    A column that one model reads as future-known and another as past is
    future-known data (known ahead, so it may also be read as past).
    """
    kinds: dict[str, list[str]] = {"futr_exog": [], "hist_exog": [], "stat_exog": []}
    for model in models:
        params = model.get_params()
        for kind, names in kinds.items():
            names += [c for c in params.get(kind, ()) or () if c not in names]
    futr = kinds["futr_exog"]
    hist = [c for c in kinds["hist_exog"] if c not in futr]
    return futr, hist, kinds["stat_exog"]


def covariates_seen(model: ForecastingModel) -> str:
    """Return what ``model`` reads besides the target ("-": nothing)."""
    params = model.get_params()
    seen = list(params.get("futr_exog") or ())
    seen += [f"{c} (past)" for c in params.get("hist_exog") or ()]
    seen += [f"{c} (static)" for c in params.get("stat_exog") or ()]
    if params.get("calendar"):
        holidays = params.get("holidays")
        seen.append("calendar" + (f" + {holidays} holidays" if holidays else ""))
    return ", ".join(seen) or "-"


def reads_future(model: ForecastingModel) -> bool:
    """Whether ``model`` takes future-known covariates in ``predict(futr_df=)``."""
    return bool(model.get_params().get("futr_exog"))
