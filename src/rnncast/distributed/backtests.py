"""Backtests of a folder of Parquet shards, the panel never read by the driver.

:func:`backtest_files` runs :func:`rnncast.backtest` over a folder of Parquet
files (each holding whole series) on an engine:

1. At each cutoff (at the first only without ``refit``), each network of the
   backtest (``"lstm"``, a :class:`~rnncast.Forecaster`...) is fitted once on
   the whole panel up to the cutoff: data-parallel on a Ray cluster
   (:func:`~rnncast.distributed.training.fit_on_cluster`, each worker reading
   its own files and cutting them at the cutoff), or in this process with the
   local engine. The model folders are written to ``destination/models``.
2. One task per file backtests that file's series with every local model (the
   baselines, fitted per series) and the networks fitted in step 1
   (:class:`FittedAtCutoffs`), writes its forecasts, metrics and fallbacks as
   parts (each atomically) and returns the sums the leaderboard needs.
3. The driver adds the sums into the leaderboard (the means over every series
   and window, OWA: :func:`~rnncast.evaluation.backtest.mean_scores`; timings),
   writes it and the manifest last: a folder without ``_manifest.json`` is
   unfinished.

The results are one process's backtest of the whole panel: the cutoffs are
each series' own (counted from its end), a baseline's forecast of a series
reads only that series, and a network's forecasts are those of one fit on the
whole panel (equal to one process's up to the floating-point rounding of a
data-parallel fit, docs/scale.md).
"""

from __future__ import annotations

import inspect
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnncast.distributed.engines import Engine, resolve_engine, shipped
from rnncast.distributed.jobs import loaded_model, model_files
from rnncast.distributed.shards import (
    MANIFEST,
    clear_output,
    shard_files,
    write_manifest,
    write_part,
)
from rnncast.distributed.training import WindowCutoff
from rnncast.evaluation.backtest import backtest, mean_scores, metric_totals
from rnncast.evaluation.cutoffs import covariate_names
from rnncast.evaluation.entries import BacktestSettings, model_entries
from rnncast.exceptions import ConfigError, DataError
from rnncast.forecaster import Forecaster
from rnncast.intervals import check_levels
from rnncast.io import atomic_path
from rnncast.protocol import ForecastingModel, clone

__all__ = ["FilesBacktest", "FittedAtCutoffs", "backtest_files"]

_OUTPUTS = ("forecasts", "metrics", "fallbacks", "models", "leaderboard.csv", MANIFEST)
# backtest options that the files backtest sets itself
_OWN = ("data", "models", "engine", "static_df", "on_step")


@dataclass(frozen=True)
class FilesBacktest:
    """What :func:`backtest_files` returns; its frames are in ``destination`` too.

    ``leaderboard``: as :attr:`rnncast.BacktestResult.leaderboard`;
    ``summary``: the panel (series, values, lengths, windows, horizon...);
    ``manifest``: the content of ``_manifest.json`` (every part and model folder).
    """

    leaderboard: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any]


class FittedAtCutoffs:
    """A network fitted on the whole panel at each cutoff, as a model of one shard.

    ``fit(data)`` fits nothing: it takes the network fitted at the cutoff that
    ``data`` ends at (the one whose fitted series end where ``data``'s do) and
    ``predict`` forecasts ``data``'s series with it, as that fit's
    ``predict()`` would have forecast them.
    """

    def __init__(
        self,
        fitted: Sequence[Forecaster],
        alias: str,
        horizon: int | None = None,
        fit_seconds: float = 0.0,
    ) -> None:
        self.fitted = tuple(fitted)
        self.alias = alias
        self.horizon = horizon
        self.fit_seconds = fit_seconds

    @property
    def name(self) -> str:
        """The network's label in the backtest."""
        return self.alias

    @property
    def forecast_column(self) -> str:
        """The fitted networks' forecast column."""
        return self.fitted[0].forecast_column

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's parameters."""
        return {
            "fitted": self.fitted,
            "alias": self.alias,
            "horizon": self.horizon,
            "fit_seconds": self.fit_seconds,
        }

    def set_params(self, **params: Any) -> FittedAtCutoffs:
        """Set parameters by name; return the model."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, data: pd.DataFrame) -> FittedAtCutoffs:
        """Take the network fitted at the cutoff ``data`` ends at."""
        first = data["unique_id"].iloc[0]
        last_ds = data.loc[data["unique_id"] == first, "ds"].max()
        for model in self.fitted:
            series = model.fitted_state().series
            row = series.rows([first])[0]
            if row >= 0 and series.last_ds[row] == last_ds:
                self.model_, self.data_ = model, data
                return self
        raise DataError(
            f"no network of {self.alias} was fitted on series {first!r} up to "
            f"{last_ds}: was the folder changed during the backtest?"
        )

    def predict(
        self, data: Any = None, *, level: Sequence[float] | None = None
    ) -> pd.DataFrame:
        """Forecast the series of ``fit`` (or of ``data``) with the fitted network."""
        return self.model_.predict(self.data_ if data is None else data, level=level)

    @property
    def history_(self) -> Any:
        """The training history of the network in use."""
        return self.model_.history_


def backtest_files(
    source: str | os.PathLike[str],
    models: Sequence[str | ForecastingModel],
    destination: str | os.PathLike[str],
    *,
    engine: str | Engine | None = "ray",
    workers: int | None = None,
    **options: Any,
) -> FilesBacktest:
    """Backtest ``models`` on a folder of Parquet shards; write the results.

    Parameters
    ----------
    source : path
        A folder of ``.parquet`` files, each holding whole series (``unique_id,
        ds, y``; a series split over two files is an error).
    models : sequence of str or model objects
        As in :func:`rnncast.backtest`. Networks are fitted once per cutoff on
        the whole panel; covariates are not read here yet.
    destination : path
        A new or empty folder, or the output of an earlier files backtest
        (replaced: its manifest goes first). Written: ``forecasts/``,
        ``metrics/`` and ``fallbacks/`` (one part per input file),
        ``models/<label>/window-<k>`` (the networks fitted at each cutoff),
        ``leaderboard.csv``, and ``_manifest.json`` last.
    engine : "ray", "local" or an Engine
        Where the shards' backtests and the networks' fits run.
    workers : int, optional
        Processes of each data-parallel network fit (default: one per CPU).
    **options
        The keyword options of :func:`rnncast.backtest` (``horizon``,
        ``n_windows``, ``step``, ``refit``, ``level``, ``seed``,
        ``neural_params``, ``reference``, ``sort_by``...).

    Returns
    -------
    FilesBacktest
        The leaderboard, the summary of the panel and the manifest.
    """
    runner = resolve_engine(engine)
    run = _Run.of(options)
    if isinstance(models, str | ForecastingModel):
        models = [models]
    entries = model_entries(models, run.reference, run.settings())
    networks = {k: m for k, m in entries.items() if isinstance(m, Forecaster)}
    # in the caller's order: the networks by label, the others as given (each
    # shard's backtest sets their season from its data)
    listed = [
        _Network(label) if label in networks else model
        for model, label in zip(models, entries, strict=False)
    ]
    for label, model in networks.items():
        if any(covariate_names([model])):
            raise ConfigError(
                f"{label} reads covariates, which backtest_files does not pass yet; "
                "backtest it with rnncast.backtest on a frame."
            )
    inputs = shard_files(source)
    out = Path(destination)
    clear_output(out, _ours, "backtest")
    files = [str(p) for p in inputs]
    fitted = {
        label: _fit_windows(label, model, files, run, runner, workers, out)
        for label, model in networks.items()
    }
    tasks = [_ShardTask(str(p), listed, fitted, run, str(out)) for p in inputs]
    parts = runner.map(_backtest_shard, tasks)
    return _finish(out, parts, fitted, run, runner)


@dataclass(frozen=True)
class _Run:
    """The backtest's options, checked, and the sizes the driver needs."""

    options: dict[str, Any]
    horizon: int
    windows: int
    step: int
    refit: bool
    reference: str
    sort_by: str

    @classmethod
    def of(cls, options: dict[str, Any]) -> _Run:
        """Check ``options`` against :func:`rnncast.backtest`'s; read the sizes."""
        signature = inspect.signature(backtest)
        unknown = sorted(set(options) - set(signature.parameters))
        own = sorted(set(options) & set(_OWN))
        if unknown or own:
            raise ConfigError(
                f"backtest_files does not take {unknown + own}; it takes "
                "rnncast.backtest's options but data, models, engine, static_df "
                "and on_step."
            )
        if "horizon" not in options:
            raise ConfigError("backtest_files needs horizon=, as backtest does.")
        bound = signature.bind(None, [], **options)
        bound.apply_defaults()
        given = dict(bound.arguments)
        horizon = int(given["horizon"])
        return cls(
            {**options, "n_jobs": options.get("n_jobs", 1)},  # a task: one process
            horizon,
            int(given["n_windows"]),
            int(given["step"] or horizon),
            bool(given["refit"]),
            str(given["reference"]),
            str(given["sort_by"]),
        )

    def settings(self) -> BacktestSettings:
        """Return the settings the networks get (season and frequency: as given)."""
        given = self.options
        return BacktestSettings(
            horizon=self.horizon,
            season_length=1,  # the baselines' season: each shard's backtest sets it
            seasons=given.get("season_length"),
            freq=given.get("freq"),
            seed=int(given.get("seed", 0)),
            neural_params=dict(given.get("neural_params") or {}),
            time_limit=None,
            n_jobs=None,
            levels=check_levels(given.get("level")),
            baseline_intervals="model",
            conformal={
                "conformal_errors": given.get("conformal_errors", "signed"),
                "conformal_unit": given.get("conformal_unit", "recent"),
            },
        )

    def cutoffs(self) -> list[WindowCutoff]:
        """Return the cutoffs networks are fitted at: every window's, or the first's."""
        windows = range(self.windows) if self.refit else range(1)
        return [WindowCutoff(self.horizon, self.windows, self.step, w) for w in windows]


def _fit_windows(
    label: str,
    model: Forecaster,
    files: list[str],
    run: _Run,
    runner: Engine,
    workers: int | None,
    out: Path,
) -> tuple[list[Any], float]:
    """Fit ``model`` at every cutoff; return the shipped model folders and seconds."""
    shipped_models, seconds = [], 0.0
    for cutoff in run.cutoffs():
        fresh = clone(model)
        started = time.perf_counter()
        fresh.fitted_ = runner.fit_state(
            fresh.get_params(), files, None, workers, cutoff=cutoff
        )
        seconds += time.perf_counter() - started
        folder = out / "models" / _safe(label) / f"window-{cutoff.window}"
        folder.parent.mkdir(parents=True, exist_ok=True)
        fresh.save(folder)
        shipped_models.append(runner.put(model_files(folder)))
    return shipped_models, seconds


@dataclass(frozen=True)
class _Network:
    """The place of a network in the model list (fitted on the whole panel)."""

    label: str


@dataclass(frozen=True)
class _ShardTask:
    source: str
    models: list[Any]  # names, model objects and _Network places
    fitted: dict[str, tuple[list[Any], float]]
    run: _Run
    destination: str


def _backtest_shard(task: _ShardTask) -> dict[str, Any]:
    """Backtest one file's series; write its parts; return the leaderboard's sums."""
    frame = pd.read_parquet(task.source)
    models = [
        FittedAtCutoffs(
            [loaded_model(shipped(m)) for m in task.fitted[item.label][0]], item.label
        )
        if isinstance(item, _Network)
        else item
        for item in task.models
    ]
    result = backtest(frame, models, **task.run.options)
    name = f"part-{Path(task.source).stem}.parquet"
    out = Path(task.destination)
    for folder, part in (
        ("forecasts", result.forecasts),
        ("metrics", result.metrics),
        ("fallbacks", result.fallbacks),
    ):
        write_part(part, out / folder, name)
    ids = sorted(result.history["unique_id"].unique().tolist(), key=str)
    return {
        "file": f"forecasts/{name}",
        "source": Path(task.source).name,
        "rows": len(result.forecasts),
        "series": len(ids),
        "ids": ids,
        "totals": metric_totals(result.metrics),
        "seconds": _seconds(result.leaderboard),
        "fallbacks": result.fallbacks.groupby("model").size().to_dict(),
        "summary": result.summary,
        "lengths": result.history.groupby("unique_id").size().to_numpy(),
    }


def _seconds(board: pd.DataFrame) -> dict[str, list[Any]]:
    """Each model's fit and predict seconds, and the covariates it read."""
    return {
        str(row.model): [
            float(row.fit_seconds),
            float(row.predict_seconds),
            row.covariates,
        ]
        for row in board.itertuples()
    }


def _finish(
    out: Path,
    parts: list[dict[str, Any]],
    fitted: dict[str, tuple[list[Any], float]],
    run: _Run,
    runner: Engine,
) -> FilesBacktest:
    """Add up the shards' sums into the leaderboard; write it, then the manifest."""
    sums = sum(p["totals"][0] for p in parts)
    counts = sum(p["totals"][1] for p in parts)
    board = mean_scores(sums, counts, run.reference)
    board["fit_seconds"] = [
        sum(p["seconds"][m][0] for p in parts) + fitted.get(m, ([], 0.0))[1]
        for m in board.index
    ]
    board["predict_seconds"] = [
        sum(p["seconds"][m][1] for p in parts) for m in board.index
    ]
    board["fallbacks"] = [
        int(sum(p["fallbacks"].get(m, 0) for p in parts)) for m in board.index
    ]
    board["covariates"] = [parts[0]["seconds"][m][2] for m in board.index]
    board = board.sort_values(run.sort_by, kind="stable").reset_index()
    with atomic_path(out / "leaderboard.csv") as tmp:
        board.to_csv(tmp, index=False)
    lengths = np.concatenate([p["lengths"] for p in parts])
    first = parts[0]["summary"]
    summary = {
        "series": len(lengths),
        "values": int(lengths.sum()),
        "min_length": int(lengths.min()),
        "median_length": float(np.median(lengths)),
        "max_length": int(lengths.max()),
        **{k: first[k] for k in ("freq", "season_length")},
        "filled": int(sum(p["summary"]["filled"] for p in parts)),
        **{k: first[k] for k in ("windows", "horizon", "levels")},
        "constant_histories": int(
            sum(p["summary"]["constant_histories"] for p in parts)
        ),
    }
    models = sorted(
        str(p.relative_to(out)) for p in (out / "models").glob("*/window-*")
    )
    manifest = _write_manifest(out, parts, summary, models, runner)
    return FilesBacktest(board, summary, manifest)


def _write_manifest(
    out: Path,
    parts: list[dict[str, Any]],
    summary: dict[str, Any],
    models: list[str],
    runner: Engine,
) -> dict[str, Any]:
    listed = [
        {k: v for k, v in p.items() if k in ("file", "source", "rows", "series", "ids")}
        for p in parts
    ]
    for entry in listed:
        name = Path(entry["file"]).name
        entry["metrics"] = f"metrics/{name}"
        entry["fallbacks"] = f"fallbacks/{name}"
    write_manifest(
        out,
        listed,
        kind="backtest",
        engine=runner.name,
        leaderboard="leaderboard.csv",
        models=models,
        summary=json.loads(json.dumps(summary, default=str)),
    )
    return json.loads((out / MANIFEST).read_text())


def _ours(path: Path) -> bool:
    """Return whether ``path`` is an output of a files backtest (or a partial one)."""
    return path.name in _OUTPUTS or path.name.endswith(".partial")


def _safe(label: str) -> str:
    """``label`` as a folder name (``lstm[hidden=(32,)]`` -> ``lstm_hidden_32_``)."""
    return "".join(c if c.isalnum() or c in "+-." else "_" for c in label)
