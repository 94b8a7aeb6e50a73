"""One network trained data-parallel on Ray (Ray Train, DistributedDataParallel).

``Forecaster(...).fit(data, engine="ray", workers=4)`` (or
:func:`fit_on_cluster`) starts ``workers`` Ray Train workers, which join one
``torch.distributed`` group (gloo on CPU, NCCL on GPUs). Each worker reads its
own block of whole series (its share of an in-memory frame, shipped through
Ray's object store, or its Parquet files) and runs the fit of one process
(:func:`~rnncast.forecaster.fitting.fit_state`) with a
:class:`~rnncast.collective.ProcessGroup`: every decision about the whole panel
reads sums over the workers, and each optimiser step averages the gradients of
one global batch (:func:`~rnncast.training.train`). The workers' series parts
are put together on the first worker, which saves the model folder (safetensors
+ JSON) as Ray Train's checkpoint; the caller loads it from there.

"The same as one process": the blocks are consecutive in the order one process
reads the series (sorted by id), so the global windows, their shuffling (same
seed), the global batches, early stopping, the naive check, the refit, the mix
weight and the calibration rows are one process's; each step differs only by
the order of floating-point sums (tests/distributed/test_data_parallel.py:
float64 weights to 1e-10; a short default fit's forecasts to 1e-5), which in
float32 grow over a long training as between two machines (docs/scale.md).
Parquet files are read whole, in name
order: one process's order only where the files hold consecutive id ranges.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnncast.collective import SINGLE_PROCESS, Collective, ProcessGroup
from rnncast.data.inputs import to_pandas
from rnncast.data.quality import DataReport, ResampleReport, data_report
from rnncast.data.series import SeriesData, python_scalar
from rnncast.evaluation.cutoffs import cutoff_lengths
from rnncast.exceptions import ConfigError, DataError, listing
from rnncast.forecaster.files import load_model, save_model
from rnncast.forecaster.fitting import fit_state
from rnncast.forecaster.parts import merged_state
from rnncast.forecaster.plan import season_length
from rnncast.forecaster.reading import read_series
from rnncast.forecaster.state import FittedState
from rnncast.options import ForecasterParams

__all__ = ["ClusterFit", "WindowCutoff", "fit_block", "fit_on_cluster", "read_block"]


@dataclass(frozen=True)
class ClusterFit:
    """How a fit runs on the cluster.

    ``workers``: Ray Train workers (processes), each reserving ``cpus`` CPUs and,
    with ``gpu``, one GPU (NCCL then, else gloo). ``storage``: where Ray Train
    keeps the checkpoint (a folder every node reaches, or cloud storage, on a
    cluster of several machines; default a temporary folder, enough on one
    machine).
    """

    workers: int = 2
    cpus: float = 1.0
    gpu: bool = False
    storage: str | None = None


@dataclass(frozen=True)
class WindowCutoff:
    """Fit on the values up to a backtest's cutoff: window ``window`` of ``windows``.

    Each series keeps all but its last ``horizon + step * (windows - 1 - window)``
    values, as :func:`rnncast.backtest` cuts it
    (:func:`~rnncast.evaluation.cutoffs.cutoff_lengths`).
    """

    horizon: int
    windows: int
    step: int
    window: int

    def cut(self, series: SeriesData) -> SeriesData:
        """Return ``series`` up to this cutoff."""
        lengths = cutoff_lengths(series, self.horizon, self.windows, self.step)
        return series.head(lengths[:, self.window])


def fit_block(
    params: ForecasterParams,
    frame: pd.DataFrame,
    static: pd.DataFrame | None,
    cutoff: WindowCutoff | None = None,
    collective: Collective = SINGLE_PROCESS,
) -> FittedState:
    """Fit one process's block of series (up to ``cutoff``), with its data report."""
    series, resampled, ignored = read_series(params, frame, static_df=static)
    if cutoff is not None:
        series = cutoff.cut(series)
    season = season_length(params, series.freq)
    report = data_report(series, season, resampled=resampled, ignored_columns=ignored)
    return fit_state(params, series, report, collective=collective)


def fit_on_cluster(
    settings: dict[str, Any],
    data: Any,
    static_df: Any,
    cluster: ClusterFit,
    cutoff: WindowCutoff | None = None,
) -> FittedState:
    """Fit a Forecaster of ``settings`` data-parallel on the connected Ray cluster.

    Returns the fitted state. :meth:`RayEngine.fit_state
    <rnncast.distributed.engines.RayEngine.fit_state>` connects first.

    ``data``: a long frame (pandas or polars), or a Parquet file, folder of
    Parquet files or list of them (each worker reads its own files, the
    driver none). ``cutoff``: fit on the values up to a backtest's cutoff.
    Raises what a worker raised (a DataError naming the series).
    """
    import ray

    with warnings.catch_warnings():  # as below
        warnings.simplefilter("ignore", DeprecationWarning)
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchConfig, TorchTrainer

    params = ForecasterParams(**settings).validate()
    blocks = _blocks(params, data, static_df, cluster.workers)
    storage = cluster.storage or tempfile.mkdtemp(prefix="rnncast-train-")
    device = "cuda" if cluster.gpu else "cpu"
    trainer = TorchTrainer(
        _worker,
        train_loop_config={
            "settings": settings,
            "device": device,
            "cutoff": cutoff,
            "blocks": [ray.put(b) for b in blocks],
        },
        scaling_config=ScalingConfig(
            num_workers=cluster.workers,
            use_gpu=cluster.gpu,
            resources_per_worker={"CPU": cluster.cpus},
        ),
        torch_config=TorchConfig(backend="nccl" if cluster.gpu else "gloo"),
        run_config=RunConfig(storage_path=storage, name="fit"),
    )
    try:
        try:
            with warnings.catch_warnings():  # Ray Train warns of Ray Data's changes
                warnings.simplefilter("ignore", DeprecationWarning)
                result = trainer.fit()
        except Exception as error:  # Ray wraps the worker's error
            raise _worker_error(error) from error
        with result.checkpoint.as_directory() as folder:
            state = load_model(Path(folder) / "model", params.device)[1]
            report = _read_report(Path(folder) / "report")
        return dataclasses.replace(state, data_report=report)
    finally:
        if cluster.storage is None:
            shutil.rmtree(storage, ignore_errors=True)


@dataclass(frozen=True)
class _Block:
    """One worker's series: a frame (and its static rows), or Parquet files."""

    frame: pd.DataFrame | None = None
    static: pd.DataFrame | None = None
    files: tuple[str, ...] = ()

    def read(self) -> pd.DataFrame:
        """Return the block's long frame."""
        if self.frame is not None:
            return self.frame
        return read_block(self.files)


def read_block(files: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """Return the long frame of Parquet ``files``, in their order."""
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _blocks(
    params: ForecasterParams, data: Any, static_df: Any, workers: int
) -> list[_Block]:
    """Split ``data`` into ``workers`` blocks of whole series, consecutive by id."""
    if isinstance(data, str | os.PathLike | list | tuple):
        return _file_blocks(data, workers)
    frame = to_pandas(data)
    if params.id_col not in frame.columns:
        raise DataError(
            f"the data has no id column {params.id_col!r} (id_col); columns: "
            f"{listing(list(frame.columns))}."
        )
    codes, ids = pd.factorize(frame[params.id_col], sort=True)
    if len(ids) < workers:
        raise ConfigError(
            f"{len(ids)} series cannot be shared by {workers} workers; use at most "
            f"{len(ids)} workers."
        )
    rows = np.bincount(codes, minlength=len(ids))
    # consecutive series, about the same number of rows each
    bounds = np.searchsorted(
        np.cumsum(rows), np.arange(1, workers) * len(frame) / workers
    )
    bounds = np.unique(np.clip(bounds, 1, len(ids) - 1))
    if len(bounds) < workers - 1:  # two workers' bounds fell on one series
        raise ConfigError(
            f"the series cannot be split into {workers} non-empty blocks; use fewer "
            "workers."
        )
    owner = np.searchsorted(bounds, codes, side="right")
    static = None if static_df is None else to_pandas(static_df)
    blocks = []
    for k in range(workers):
        part = frame[owner == k]
        rows_static = None
        if static is not None:
            kept = static[params.id_col].isin(part[params.id_col].unique())
            rows_static = static[kept]
        blocks.append(_Block(part, rows_static))
    return blocks


def _file_blocks(source: Any, workers: int) -> list[_Block]:
    """Split Parquet files (a file, a folder, or a list) into consecutive groups."""
    paths = [
        Path(p) for p in (source if isinstance(source, list | tuple) else [source])
    ]
    files = sorted(
        str(f)
        for p in paths
        for f in (sorted(p.glob("*.parquet")) if p.is_dir() else [p])
    )
    if len(files) < workers:
        raise ConfigError(
            f"{len(files)} Parquet file(s) cannot be shared by {workers} workers "
            "(each reads whole files); split the data into more files or use fewer "
            "workers."
        )
    groups = np.array_split(np.arange(len(files)), workers)
    return [_Block(files=tuple(files[i] for i in group)) for group in groups]


def _worker(config: dict[str, Any]) -> None:
    """Ray Train's loop of one worker: read its block, fit, report the model."""
    import ray
    import ray.train
    import ray.train.torch

    context = ray.train.get_context()
    rank = context.get_world_rank()
    device = config["device"]
    params = ForecasterParams(
        **{**config["settings"], "device": device, "progress": False}
    ).validate()
    collective = ProcessGroup(
        ray.train.torch.get_device() if device == "cuda" else "cpu"
    )
    block: _Block = ray.get(config["blocks"][rank])
    state = fit_block(params, block.read(), block.static, config["cutoff"], collective)
    parts = collective.collect(state)
    if parts is None:
        ray.train.report({"series": len(state.series.ids)})
        return
    folder = Path(tempfile.mkdtemp(prefix="rnncast-model-"))
    merged = merged_state(parts)
    save_model(folder / "model", config["settings"], merged)
    _write_report(merged.data_report, folder / "report")  # not in model folders
    from ray.train import Checkpoint

    try:
        ray.train.report(  # Ray Train copies the folder into its storage
            {"series": len(merged.series.ids)},
            checkpoint=Checkpoint.from_directory(str(folder)),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_report(report: DataReport | None, folder: Path) -> None:
    """Write a data report as JSON (counts) and Parquet (its tables)."""
    if report is None:
        return
    folder.mkdir()
    about: dict[str, Any] = {
        "series": report.series,
        "values": report.values,
        "filled": report.filled,
        "masked": report.masked,
        "outlier_k": report.outlier_k,
        "ignored_columns": report.ignored_columns,
        "fallbacks": [[python_scalar(k), v] for k, v in report.fallbacks.items()],
    }
    report.outliers.to_parquet(folder / "outliers.parquet")
    if report.resample is not None:
        resample = report.resample
        about["resample"] = [resample.freq, resample.aggregation, resample.max_gap]
        resample.table.to_parquet(folder / "resample.parquet")
    (folder / "report.json").write_text(json.dumps(about))


def _read_report(folder: Path) -> DataReport | None:
    """Read what :func:`_write_report` wrote; None if it wrote nothing."""
    if not folder.is_dir():
        return None
    about = json.loads((folder / "report.json").read_text())
    resample = None
    if "resample" in about:
        table = pd.read_parquet(folder / "resample.parquet")
        resample = ResampleReport(*about.pop("resample"), table)
    fallbacks = dict(about.pop("fallbacks"))
    outliers = pd.read_parquet(folder / "outliers.parquet")
    return DataReport(
        **about, resample=resample, outliers=outliers, fallbacks=fallbacks
    )


def _worker_error(error: Exception) -> Exception:
    """Return the error a worker raised, if Ray's error carries one, else ``error``."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, DataError | ConfigError):
            return current  # type: ignore[return-value]
        current = current.__cause__ or current.__context__
    for found in _nested(error):
        if isinstance(found, DataError | ConfigError):
            return found
    return error


def _nested(error: BaseException) -> Sequence[BaseException]:
    """Return the errors inside Ray's error (worker failures by rank)."""
    inner: list[BaseException] = []
    for attribute in ("worker_failures", "errors"):
        value = getattr(error, attribute, None)
        if isinstance(value, dict):
            inner += [v for v in value.values() if isinstance(v, BaseException)]
        elif isinstance(value, list):
            inner += [v for v in value if isinstance(v, BaseException)]
    return inner
