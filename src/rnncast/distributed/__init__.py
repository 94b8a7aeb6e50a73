"""Beyond one process: engines, shards of series, and the jobs that use them.

``engine="ray"`` (extra ``rnncast[ray]``) runs work on a Ray cluster: forecasts
of a fitted model shard by shard (:func:`forecast_files`, :func:`forecast_frame`),
backtests as tasks (``rnncast.backtest(..., engine="ray")``), backtests of a
folder of Parquet files the driver never reads (:func:`backtest_files`) and one
network trained data-parallel (``Forecaster.fit(data, engine="ray")``,
:mod:`rnncast.distributed.training`). Without the extra nothing here imports
Ray. docs/scale.md says what runs where and what it costs.

The names load lazily: the estimator uses the engines, and the jobs use the
estimator.
"""

from __future__ import annotations

from rnncast.lazy import lazy_names

__all__ = [
    "Engine",
    "FilesBacktest",
    "LocalEngine",
    "RayEngine",
    "backtest_files",
    "forecast_files",
    "forecast_frame",
    "read_manifest",
    "resolve_engine",
    "split_series",
]

# where each public name lives
_LAZY = {
    "Engine": "rnncast.distributed.engines",
    "LocalEngine": "rnncast.distributed.engines",
    "RayEngine": "rnncast.distributed.engines",
    "resolve_engine": "rnncast.distributed.engines",
    "FilesBacktest": "rnncast.distributed.backtests",
    "backtest_files": "rnncast.distributed.backtests",
    "forecast_files": "rnncast.distributed.jobs",
    "forecast_frame": "rnncast.distributed.jobs",
    "read_manifest": "rnncast.distributed.shards",
    "split_series": "rnncast.distributed.shards",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
