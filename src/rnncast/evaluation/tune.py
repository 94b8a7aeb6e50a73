"""Choose a recurrent configuration by validation (which RNN should I use?).

:func:`tune` fits every candidate configuration (by default RNN, LSTM and GRU at a
few lookbacks, widths and depths) on each series minus its last ``horizon`` values,
scores the forecasts of those held-out values by MASE, picks the best candidate and
refits it on the whole data. The scores of every candidate are kept, so the choice
can be read and checked; the same ``seed`` gives the same choice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rnncast.checks import require_positive_int
from rnncast.distributed.engines import Engine, LocalEngine, resolve_engine
from rnncast.evaluation.metrics import constant_histories, evaluate
from rnncast.exceptions import ConfigError, DataError
from rnncast.forecaster import Forecaster
from rnncast.forecaster.plan import season_length
from rnncast.options import options

__all__ = ["TuneResult", "candidate_grid", "tune"]

_COLUMN_PARAMS = ("id_col", "time_col", "target_col")


@dataclass
class TuneResult:
    """What :func:`tune` tried and chose.

    Attributes
    ----------
    scores : DataFrame
        One row per candidate: its parameters, validation ``mase`` and ``smape``
        (means over series and windows), ``seconds`` of fit + predict, and
        ``chosen``; best first.
    best_params : dict
        Parameters of the chosen candidate.
    forecaster : Forecaster or None
        The chosen candidate refitted on all of the data (None with
        ``refit=False``).
    """

    scores: pd.DataFrame
    best_params: dict[str, Any]
    forecaster: Forecaster | None = field(default=None, repr=False)

    def summary(self) -> str:
        """One line per candidate, best first, for printing."""
        lines = [f"chosen: {self.best_params} (lowest validation MASE)"]
        for _, row in self.scores.iterrows():
            mark = "*" if row["chosen"] else " "
            lines.append(
                f"{mark} {row['candidate']:<40} MASE {row['mase']:.3f}  sMAPE "
                f"{row['smape']:.2f}  {row['seconds']:.1f} s"
            )
        return "\n".join(lines)


def candidate_grid(
    cells: Sequence[str] = ("lstm", "gru", "rnn"),
    lookbacks: Sequence[int | None] = (None,),
    hidden: Sequence[int | tuple[int, ...]] = ((64,),),
) -> list[dict[str, Any]]:
    """Every combination of ``cells``, ``lookbacks`` and ``hidden`` as parameters.

    ``None`` as a lookback is the Forecaster's default.
    """
    grid = []
    for cell, lookback, width in itertools.product(cells, lookbacks, hidden):
        params: dict[str, Any] = {"cell": cell, "hidden": width}
        if lookback is not None:
            params["lookback"] = lookback
        grid.append(params)
    return grid


def tune(
    data: Any,
    *,
    horizon: int,
    candidates: Sequence[dict[str, Any]] | None = None,
    windows: int = 1,
    refit: bool = True,
    seed: int = 0,
    on_candidate: Callable[[dict[str, Any], float], None] | None = None,
    engine: str | Engine | None = None,
    **params: Any,
) -> TuneResult:
    """Pick the configuration with the lowest validation MASE and refit it.

    Parameters
    ----------
    data : DataFrame, Series, ndarray or path
        Training data, as for :meth:`Forecaster.fit`.
    horizon : int
        Forecast horizon, also the length of each validation window.
    candidates : sequence of dict, optional
        Parameter sets to compare, each on top of ``params``; default
        :func:`candidate_grid` (RNN, LSTM and GRU with the default lookback and
        width).
    windows : int, default 1
        Validation windows per series: window ``j = 1 .. windows`` holds out the
        last ``j * horizon`` values, fits on the rest and forecasts the next
        ``horizon``; a candidate's score is its mean MASE over series and windows.
    refit : bool, default True
        Refit the chosen candidate on all of ``data``.
    seed : int, default 0
        Seed of every fit.
    on_candidate : callable, optional
        Called with each candidate's parameters and validation MASE (in this
        process; not with a cluster engine).
    engine : "local", "ray" or an Engine, optional
        Where the fits run: here (the default), or every candidate at every
        window as a task on a Ray cluster (:mod:`rnncast.distributed`), with
        the same scores.
    **params
        Parameters shared by every candidate (e.g. ``epochs=50``, ``freq="MS"``).

    Returns
    -------
    TuneResult

    Notes
    -----
    The validation windows lie inside ``data``: nothing after its end is used, so
    a test period after ``data`` stays untouched. MASE (the absolute error
    divided by each series' in-sample seasonal-naive MAE, averaged over series)
    weighs every series equally whatever its scale.
    """
    require_positive_int("horizon", horizon)
    require_positive_int("windows", windows)
    candidates = candidate_grid() if candidates is None else list(candidates)
    if not candidates:
        raise ConfigError("tune needs at least one candidate.")
    _check_names(candidates, params)
    reader = Forecaster(horizon=horizon, seed=seed, **params)
    series = reader.read(data)  # validated once; candidates get unique_id, ds, y
    history = series.to_frame()
    season = season_length(reader.checked_params(), series.freq)
    plain = {k: v for k, v in params.items() if k not in _COLUMN_PARAMS}
    position = history.groupby("unique_id", sort=False).cumcount(ascending=False)
    splits = [
        _split(history, position, j * horizon, horizon) for j in range(1, windows + 1)
    ]
    runner = resolve_engine(engine)
    tasks = [
        (_model(horizon, seed, plain, candidate), train, test, season)
        for candidate in candidates
        for train, test in splits
    ]
    if isinstance(runner, LocalEngine):
        scores = []
        for k, candidate in enumerate(candidates):
            done = [_timed_score(t) for t in tasks[k * windows : (k + 1) * windows]]
            scores += done
            if on_candidate is not None:
                on_candidate(candidate, sum(s["mase"] for s in done) / windows)
    else:  # every candidate at every window a task on the cluster
        scores = runner.map(_timed_score, tasks)
    rows = []
    for k, candidate in enumerate(candidates):
        done = scores[k * windows : (k + 1) * windows]
        rows.append(
            {
                "candidate": _label(candidate),
                "index": k,
                "mase": sum(s["mase"] for s in done) / windows,
                "smape": sum(s["smape"] for s in done) / windows,
                "seconds": sum(s["seconds"] for s in done),
            }
        )
    table = pd.DataFrame(rows).sort_values(["mase", "index"], kind="stable")
    best = int(table["index"].iloc[0])
    table["chosen"] = table["index"] == best
    best_params = {**params, **candidates[best]}
    forecaster = (
        _model(horizon, seed, params, candidates[best]).fit(data) if refit else None
    )
    return TuneResult(
        table.drop(columns="index").reset_index(drop=True), best_params, forecaster
    )


def _check_names(candidates: list[dict[str, Any]], params: dict[str, Any]) -> None:
    """ConfigError naming a parameter that Forecaster does not have."""
    known = {option.name for option in options()} - {"horizon", "seed"}
    for names in (params, *candidates):
        unknown = sorted(set(names) - known)
        if unknown:
            raise ConfigError(
                f"unknown Forecaster parameter {unknown[0]!r} in tune; choose from "
                f"{sorted(known)}."
            )


def _model(
    horizon: int, seed: int, params: dict[str, Any], candidate: dict[str, Any]
) -> Forecaster:
    return Forecaster(horizon=horizon, seed=seed, **{**params, **candidate})


def _split(
    history: pd.DataFrame, position: pd.Series, cut: int, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each series without its last ``cut`` values, and the ``horizon`` after that.

    ``position``: each row's distance from its series' last row (0 for the last).
    """
    train = history[position >= cut]
    test = history[(position < cut) & (position >= cut - horizon)]
    missing = set(history["unique_id"]) - set(train["unique_id"])
    if missing:
        raise DataError(
            f"series {sorted(missing, key=str)[0]!r} has no values left before its "
            f"last {cut} (the validation windows); use fewer windows or drop it."
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _timed_score(
    task: tuple[Forecaster, pd.DataFrame, pd.DataFrame, int],
) -> dict[str, float]:
    """Return :func:`_score` of a candidate at a window, with its seconds."""
    start = time.perf_counter()
    scores = _score(*task)
    return {**scores, "seconds": time.perf_counter() - start}


def _score(
    model: Forecaster, train: pd.DataFrame, test: pd.DataFrame, season: int
) -> dict[str, float]:
    known = test if model.futr_exog else None  # type: ignore[attr-defined]
    predicted = model.fit(train).predict(futr_df=known)  # the horizon's known inputs
    scores = evaluate(
        predicted.rename(columns={model.forecast_column: "model"}),
        test,
        train,
        models=["model"],
        season_length=season,
    )
    flat = constant_histories(train, season)
    scaled = scores.loc[~scores["unique_id"].isin(flat), "mase"]  # as the backtest
    return {
        "mase": float(scaled.mean()),
        "smape": float(scores["smape"].mean()),
    }


def _label(candidate: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in candidate.items()) or "defaults"
