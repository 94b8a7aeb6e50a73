"""Forecasting with a fitted model on an engine, shard by shard.

The model folder (safetensors + JSON, never pickle) is shipped to the workers
once as its files' bytes (:meth:`~rnncast.distributed.engines.Engine.put`); each
worker loads it once and forecasts the shards it is given:

* :func:`forecast_files`: a folder of Parquet shards in, a folder of forecast
  shards out (one part per input file, written atomically, then the manifest),
  never pulling the panel onto the driver;
* :func:`forecast_frame`: an in-memory frame split into shards of whole series,
  forecast on the engine and put back together in one process's order.

The forecasts equal one process's: each series is forecast from its own history
with the fitted weights and scaling, whichever shard it is in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rnncast.distributed.engines import Engine, resolve_engine, shipped
from rnncast.distributed.shards import (
    MANIFEST,
    clear_output,
    shard_files,
    split_series,
    write_manifest,
    write_part,
)
from rnncast.forecaster import Forecaster

__all__ = ["forecast_files", "forecast_frame", "loaded_model", "model_files"]

_LOADED: dict[str, Forecaster] = {}  # per worker process: model hash -> model


def model_files(model_dir: str | os.PathLike[str]) -> dict[str, bytes]:
    """Return the files of a saved model folder by name (what workers get)."""
    folder = Path(model_dir)
    Forecaster.load(folder)  # a damaged folder fails here, on the driver
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@dataclass(frozen=True)
class _ShardTask:
    model: Any  # the shipped model files
    source: Any  # a Parquet path, or a frame
    futr: Any  # the same for the future-known covariates, or None
    level: tuple[float, ...]
    destination: str | None  # folder of the output part, or None: return the frame
    part: str


def forecast_files(
    model_dir: str | os.PathLike[str],
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    engine: str | Engine | None = "ray",
    level: Sequence[float] = (),
    futr: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Forecast every series in a folder of Parquet shards; write a folder of parts.

    Parameters
    ----------
    model_dir : path
        A model saved by :meth:`~rnncast.Forecaster.save`.
    source : path
        A folder of ``.parquet`` files, each holding whole series in the model's
        columns (a series split over two files is an error).
    destination : path
        The output folder: ``part-<input name>`` per input file, then
        ``_manifest.json`` once all are written. A folder from an earlier run
        loses its manifest first, so an interrupted run never looks complete.
    engine : "ray", "local" or an Engine
    level : sequence of float
        Interval levels, as ``predict(level=...)``.
    futr : path, optional
        With future-known covariates: a folder with the same file names holding
        those columns for the horizon.

    Returns
    -------
    dict
        The manifest: every part with its rows and series count, and the totals.
    """
    runner = resolve_engine(engine)
    inputs = shard_files(source)
    out = Path(destination)
    clear_output(out, _is_output, "run")
    shipped_model = runner.put(model_files(model_dir))
    tasks = [
        _ShardTask(
            shipped_model,
            str(path),
            None if futr is None else str(Path(futr) / path.name),
            tuple(level),
            str(out),
            f"part-{path.stem}.parquet",
        )
        for path in inputs
    ]
    parts = runner.map(_forecast_shard, tasks)
    write_manifest(out, parts, engine=runner.name, model=str(model_dir))
    return {"parts": parts, "series": sum(p["series"] for p in parts)}


def forecast_frame(
    model: Forecaster,
    data: Any,
    *,
    engine: str | Engine | None = "ray",
    shards: int | None = None,
    level: Sequence[float] = (),
    futr_df: pd.DataFrame | None = None,
    model_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """``model.predict(data, level=, futr_df=)`` computed shard by shard on ``engine``.

    ``data`` is split into ``shards`` frames of whole series (default: one per
    worker); the result is the one-process frame, rows in its order.
    """
    runner = resolve_engine(engine)
    id_col = model.id_col  # type: ignore[attr-defined]
    frame = data if isinstance(data, pd.DataFrame) else model.history_frame(data)
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "model" if model_dir is None else Path(model_dir)
        if model_dir is None:
            model.save(saved)
        shipped_model = runner.put(model_files(saved))
    pieces = split_series(frame, shards or runner.workers(), id_col)
    tasks = [
        _ShardTask(
            shipped_model,
            piece,
            None if futr_df is None else futr_df[futr_df[id_col].isin(piece[id_col])],
            tuple(level),
            None,
            str(k),
        )
        for k, piece in enumerate(pieces)
    ]
    forecasts = pd.concat(runner.map(_forecast_shard, tasks), ignore_index=True)
    return forecasts.sort_values(
        [id_col, model.time_col],
        kind="stable",
        ignore_index=True,  # type: ignore[attr-defined]
    )


def _forecast_shard(task: _ShardTask) -> Any:
    model = loaded_model(shipped(task.model))
    if isinstance(task.source, str):
        data = pd.read_parquet(task.source)
        futr = None if task.futr is None else pd.read_parquet(task.futr)
    else:
        data, futr = task.source, task.futr
    forecast = model.predict(data, level=list(task.level) or None, futr_df=futr)
    if task.destination is None:
        return forecast
    write_part(forecast, Path(task.destination), task.part)
    ids = sorted(forecast[model.id_col].unique().tolist(), key=str)  # type: ignore[attr-defined]
    return {
        "file": task.part,
        "source": os.path.basename(str(task.source)),
        "rows": len(forecast),
        "series": len(ids),
        "ids": ids,
    }


def loaded_model(files: dict[str, bytes]) -> Forecaster:
    """Return the model of ``files``, loaded once per worker process."""
    key = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()
    if key not in _LOADED:
        folder = Path(tempfile.mkdtemp(prefix="rnncast-model-"))
        try:
            for name, content in files.items():
                (folder / name).write_bytes(content)
            _LOADED[key] = Forecaster.load(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _LOADED[key]


def _is_output(path: Path) -> bool:
    """Return whether ``path`` is a part, the manifest or a partial file of a run."""
    name = path.name
    return path.is_file() and (
        name == MANIFEST
        or (name.startswith("part-") and name.endswith(".parquet"))
        or (name.startswith(".") and name.endswith(".partial"))
    )
