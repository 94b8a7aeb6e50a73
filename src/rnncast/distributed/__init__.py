"""Beyond one process: engines, shards of series, and the jobs that use them.

``engine="ray"`` (extra ``rnncast[ray]``) runs work on a Ray cluster: forecasts
of a fitted model shard by shard (:func:`forecast_files`, :func:`forecast_frame`)
and backtests as tasks (``rnncast.backtest(..., engine="ray")``). Without the
extra nothing here imports Ray. docs/scale.md says what runs where and what it
costs.
"""

from rnncast.distributed.engines import Engine, LocalEngine, RayEngine, resolve_engine
from rnncast.distributed.jobs import forecast_files, forecast_frame
from rnncast.distributed.shards import read_manifest, split_series

__all__ = [
    "Engine",
    "LocalEngine",
    "RayEngine",
    "forecast_files",
    "forecast_frame",
    "read_manifest",
    "resolve_engine",
    "split_series",
]
