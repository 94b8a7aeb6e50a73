"""One model's forecasts at one or more cutoffs: the unit of work of a backtest.

A :class:`ModelRun` fits a fresh copy of a model on the values up to each of its
cutoffs (or once, at the first, without ``refit``) and forecasts the horizon
after it; :func:`run_model` returns each window's forecasts, timings, fallbacks
and training history. The backtest maps runs over an engine
(:mod:`rnncast.distributed`): in this process one after the other, or as tasks
on a cluster, where a local model's run is also split into shards of whole
series (its forecasts of a series do not depend on the others).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rnncast.distributed.shards import split_series
from rnncast.evaluation.cutoffs import reads_future
from rnncast.exceptions import DataError
from rnncast.intervals import Levels, bound_column
from rnncast.protocol import ForecastingModel, clone

__all__ = [
    "ModelRun",
    "WindowCut",
    "WindowOutput",
    "merged",
    "run_model",
    "sharded",
]


@dataclass(frozen=True)
class WindowCut:
    """The data of one cutoff: the training frame and the horizon's known inputs."""

    window: int
    train: pd.DataFrame
    known: pd.DataFrame | None
    lengths: np.ndarray  # each series' training length, for error messages


@dataclass(frozen=True)
class ModelRun:
    """A model (unfitted) to fit and forecast at ``cuts``, named ``name``."""

    name: str
    model: ForecastingModel
    cuts: list[WindowCut]
    refit: bool
    levels: Levels = ()


@dataclass(frozen=True)
class WindowOutput:
    """What one model produced at one cutoff.

    ``forecasts``: ``unique_id, ds`` and the model's columns renamed to its name
    (``name``, ``name-lo-80``...), in the series' order.
    """

    name: str
    window: int
    forecasts: pd.DataFrame
    fit_seconds: float
    predict_seconds: float
    fallbacks: dict[Any, str] = field(default_factory=dict)
    history: Any = None


def run_model(run: ModelRun) -> list[WindowOutput]:
    """Fit and forecast ``run.model`` at each of its cutoffs."""
    outputs, fitted = [], None
    for cut in run.cuts:
        fit_seconds = 0.0
        if fitted is None or run.refit:
            fitted = clone(run.model)
            start = time.perf_counter()
            _fit(fitted, cut, run.name)
            fit_seconds = time.perf_counter() - start
            reused = False
        else:
            reused = True
        start = time.perf_counter()
        ahead = {"futr_df": cut.known} if reads_future(fitted) else {}
        level = list(run.levels) or None
        predicted = (
            fitted.predict(cut.train, level=level, **ahead)
            if reused
            else fitted.predict(level=level, **ahead)
        )
        outputs.append(
            WindowOutput(
                run.name,
                cut.window,
                _renamed(predicted, fitted.forecast_column, run.name, run.levels),
                fit_seconds,
                time.perf_counter() - start,
                _fallbacks(fitted, predicted),
                None if reused else getattr(fitted, "history_", None),
            )
        )
    return outputs


def sharded(run: ModelRun, shards: int) -> list[ModelRun]:
    """Return ``run`` split into runs on shards of whole series (local models).

    Each shard's model runs one worker process at a time (``n_jobs=1``): the
    engine runs the shards side by side.
    """
    if shards <= 1:
        return [run]
    model = run.model
    if "n_jobs" in model.get_params():  # the engine runs the shards side by side
        model = clone(model).set_params(n_jobs=1)
    pieces: list[list[WindowCut]] = [[] for _ in range(shards)]
    for cut in run.cuts:
        for k, train in enumerate(split_series(cut.train, shards)):
            ids = set(train["unique_id"])
            known = None
            if cut.known is not None:
                known = cut.known[cut.known["unique_id"].isin(ids)]
            pieces[k].append(WindowCut(cut.window, train, known, cut.lengths))
    return [
        ModelRun(run.name, model, cuts, run.refit, run.levels)
        for cuts in pieces
        if cuts
    ]


def merged(outputs: list[WindowOutput]) -> WindowOutput:
    """Return the shards' outputs of a model at a cutoff as one, in series order."""
    first = outputs[0]
    if len(outputs) == 1:
        return first
    forecasts = pd.concat([o.forecasts for o in outputs], ignore_index=True)
    return WindowOutput(
        first.name,
        first.window,
        forecasts.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True),
        sum(o.fit_seconds for o in outputs),
        sum(o.predict_seconds for o in outputs),
        {k: v for o in outputs for k, v in o.fallbacks.items()},
        first.history,
    )


def _renamed(
    predicted: pd.DataFrame, column: str, name: str, levels: Levels
) -> pd.DataFrame:
    columns = {"unique_id": "unique_id", "ds": "ds", column: name}
    for lv in levels:
        for side in ("lo", "hi"):
            columns[bound_column(column, side, lv)] = bound_column(name, side, lv)
    return predicted[list(columns)].rename(columns=columns).reset_index(drop=True)


def _fallbacks(model: ForecastingModel, predicted: pd.DataFrame) -> dict[Any, str]:
    """Series the model forecast by a fallback method, and why.

    The forecast frame's ``attrs["fallbacks"]`` where the model puts it there (a
    Forecaster), else the model's ``fallbacks_``.
    """
    if "fallbacks" in predicted.attrs:
        return dict(predicted.attrs["fallbacks"])
    return dict(getattr(model, "fallbacks_", {}) or {})


def _fit(model: ForecastingModel, cut: WindowCut, name: str) -> None:
    try:
        model.fit(cut.train)
    except DataError as e:
        lengths = cut.lengths
        raise DataError(
            f"{name} cannot be fitted at window {cut.window + 1} (training parts of "
            f"{int(lengths.min())} to {int(lengths.max())} values): {e}"
        ) from e
