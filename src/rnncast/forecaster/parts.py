"""One fitted state from the states of a data-parallel fit's processes.

Each process of a data-parallel fit (:mod:`rnncast.collective`) ends with the
same network, mix, history and plan, and with what it knows of its own series
(their context, scaling, classical forecasts, units, calibration rows):
:func:`merged_state` puts the series parts together in rank order, which is the
order of the series one process would have fitted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from rnncast.data.quality import DataReport, ResampleReport
from rnncast.data.scaling import ScalerStats
from rnncast.forecaster.state import FittedSeries, FittedState
from rnncast.intervals.methods import Calibration

__all__ = ["merged_report", "merged_state"]


def merged_state(parts: Sequence[FittedState]) -> FittedState:
    """Return the state of every process's series, from each process's state.

    The network, plan and validation results are the first part's (every
    process holds the same); calibration rows keep their series; the data
    reports are summed (:func:`merged_report`).
    """
    first = parts[0]
    if len(parts) == 1:
        return first
    sizes = [len(p.series.ids) for p in parts]
    series = [p.series for p in parts]
    fallback = None
    if any(s.fallback is not None for s in series):
        horizon = next(s.fallback for s in series if s.fallback is not None).shape[1]
        fallback = np.concatenate(
            [
                np.full((len(s.ids), horizon), np.nan)
                if s.fallback is None
                else s.fallback
                for s in series
            ]
        )
    merged = FittedSeries(
        ids=[uid for s in series for uid in s.ids],
        freq=first.series.freq,
        last_ds=[ds for s in series for ds in s.last_ds],
        context=np.concatenate([s.context for s in series]),
        scaler=_stacked_stats([s.scaler for s in series]),
        classical=_stacked([s.classical for s in series]),
        unit=_stacked([s.unit for s in series]),
        filled={k: v for s in series for k, v in s.filled.items()},
        fallback=fallback,
        context_exog=_stacked([s.context_exog for s in series]),
    )
    return dataclasses.replace(
        first,
        series=merged,
        calibration=_merged_calibration([p.calibration for p in parts], sizes),
        n_train_windows=sum(p.n_train_windows for p in parts),
        fallbacks={k: v for p in parts for k, v in p.fallbacks.items()},
        data_report=merged_report([p.data_report for p in parts]),
    )


def merged_report(reports: Sequence[DataReport | None]) -> DataReport | None:
    """Return one report of every process's series: counts summed, tables joined."""
    if any(r is None for r in reports):
        return None
    done = [r for r in reports if r is not None]
    first = done[0]
    resample = None
    if first.resample is not None:
        tables = [r.resample.table for r in done if r.resample is not None]
        resample = ResampleReport(
            first.resample.freq,
            first.resample.aggregation,
            first.resample.max_gap,
            pd.concat(tables, ignore_index=True),
        )
    return DataReport(
        series=sum(r.series for r in done),
        values=sum(r.values for r in done),
        filled=sum(r.filled for r in done),
        masked=sum(r.masked for r in done),
        resample=resample,
        outliers=pd.concat([r.outliers for r in done], ignore_index=True),
        outlier_k=first.outlier_k,
        ignored_columns=sorted({c for r in done for c in r.ignored_columns}),
        fallbacks={k: v for r in done for k, v in r.fallbacks.items()},
    )


def _stacked(arrays: Sequence[NDArray[Any] | None]) -> NDArray[Any] | None:
    """Return the arrays one after the other along the series; None if all are."""
    if all(a is None for a in arrays):
        return None
    if any(a is None for a in arrays):
        raise ValueError("the processes' states disagree on what they hold")
    return np.concatenate(arrays)  # type: ignore[arg-type]


def _stacked_stats(stats: Sequence[ScalerStats]) -> ScalerStats:
    """Return every process's series statistics, in rank order."""
    fields = [f.name for f in dataclasses.fields(ScalerStats)]
    return ScalerStats(
        **{name: _stacked([getattr(s, name) for s in stats]) for name in fields}
    )


def _merged_calibration(
    parts: Sequence[Calibration | None], sizes: Sequence[int]
) -> Calibration | None:
    """Return the calibration rows of every process, owners renumbered."""
    if all(c is None for c in parts):
        return None
    offsets = np.cumsum([0, *sizes[:-1]])
    scores, owners = [], []
    for calibration, offset in zip(parts, offsets, strict=True):
        if calibration is None or calibration.owners is None:
            raise ValueError("every process's calibration needs its owners")
        scores.append(calibration.scores)
        owners.append(calibration.owners + offset)
    return Calibration(np.concatenate(scores), np.concatenate(owners))
