"""Throughput of the engines: series per second for forecasts and backtests.

Usage: python benchmarks/scale.py [--series 2000 10000] [--workers 1 2 4]
       [--backtest-series 2000] [--files-backtest] [--statsforecast]
       [--skip-forecast] [--skip-backtest]

The panel is built from the shipped Tourism monthly data: each of its 366 series
is tiled (its values repeated until it has ``--length`` values, default 200) and
given a per-copy level and noise (x (1 + 0.1 N(0, 1)), + 2 % Gaussian noise), so
the copies keep real seasonal shapes without being equal; ids ``t<k>``.

* forecast: a ``Forecaster(horizon=12)`` fitted on 2,000 series of the panel,
  saved, then ``rnncast.distributed.forecast_files`` over the panel written as 8
  Parquet shards (whole series each): in this process (``local``), and on a
  local Ray instance limited to each ``--workers`` count of CPUs;
* backtest: ``rnncast.backtest`` of ``theta`` and ``snaive`` over 3 windows on
  ``--backtest-series`` series, in this process (worker processes for the
  baselines, as the default) and on Ray with each worker count;
* with ``--files-backtest``: ``rnncast.distributed.backtest_files`` of
  ``lstm`` (the default network), ``theta`` and ``snaive`` over 3 windows on
  ``--backtest-series`` series written as 8 Parquet shards: the local engine
  (the network fitted in this process at each cutoff) and Ray with each
  ``--workers`` count (the network fitted data-parallel on that many Ray Train
  workers at each cutoff, one task per shard for the rest);
* with ``--statsforecast``, the same models in statsforecast's own
  ``cross_validation`` (AutoTheta and SeasonalNaive, season 12, 3 windows of 12)
  on the same panel: in this process with ``n_jobs=-1``, and on Ray through
  Fugue (``df`` a Ray Dataset; needs ``pip install 'fugue[ray]'``) with each
  worker count.

Each figure is wall time of the whole call (the Ray start excluded, its first
task's imports included), on one run; series per second = series / seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from rnncast import Forecaster, __version__, backtest
from rnncast.datasets import load_tourism_monthly
from rnncast.distributed import (
    LocalEngine,
    RayEngine,
    backtest_files,
    forecast_files,
    split_series,
)


def panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """``n_series`` series of ``length`` monthly values tiled from Tourism monthly."""
    rng = np.random.default_rng(seed)
    source = load_tourism_monthly()
    groups = [g["y"].to_numpy() for _, g in source.groupby("unique_id")]
    ids = np.repeat([f"t{k}" for k in range(n_series)], length)
    values = np.empty(n_series * length)
    for k in range(n_series):
        base = np.resize(groups[k % len(groups)], length)
        level = 1 + 0.1 * rng.normal()
        noise = 1 + 0.02 * rng.normal(size=length)
        values[k * length : (k + 1) * length] = np.maximum(base * level * noise, 1.0)
    stamps = pd.date_range("2000-01-01", periods=length, freq="MS")
    return pd.DataFrame(
        {"unique_id": ids, "ds": np.tile(stamps, n_series), "y": values}
    )


def _rays(workers: list[int]) -> list[str]:
    return [f"ray x{w}" for w in workers]


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _statsforecast_rows(data: pd.DataFrame, workers: list[int]) -> list[tuple]:
    """Time statsforecast's cross-validation of the same models, local and on Ray."""
    import ray
    from statsforecast import StatsForecast
    from statsforecast.models import AutoTheta, SeasonalNaive

    models = [AutoTheta(season_length=12), SeasonalNaive(season_length=12)]
    rows = []
    n = data["unique_id"].nunique()
    for label in ["local", *[f"ray x{w}" for w in workers]]:
        if label != "local":
            ray.init(
                num_cpus=int(label.split("x")[1]),
                include_dashboard=False,
                log_to_driver=False,
            )
        seconds = _timed(
            lambda lab=label: StatsForecast(
                models=models, freq="MS", n_jobs=-1 if lab == "local" else 1
            ).cross_validation(
                df=data if lab == "local" else ray.data.from_pandas(data),
                h=12,
                n_windows=3,
                step_size=12,
            )
        )
        if label != "local":
            ray.shutdown()
        rows.append(("statsforecast cross-validation", n, label, seconds, n / seconds))
        print(rows[-1], flush=True)
    return rows


def _files_backtest_rows(
    data: pd.DataFrame, workers: list[int], work: Path
) -> list[tuple]:
    """Time backtest_files of a network and two baselines, local and on Ray."""
    import ray

    source = work / "backtest-in"
    source.mkdir()
    for k, shard in enumerate(split_series(data, 8)):
        shard.to_parquet(source / f"shard-{k}.parquet", index=False)
    n = data["unique_id"].nunique()
    rows = []
    for label in ["local", *[f"ray x{w}" for w in workers]]:
        count = None if label == "local" else int(label.split("x")[1])
        if count is not None:
            ray.init(num_cpus=count, include_dashboard=False, log_to_driver=False)
        done: dict[str, Any] = {}
        seconds = _timed(
            lambda c=count, d=done: d.update(
                result=backtest_files(
                    source,
                    ["lstm", "theta", "snaive"],
                    work / "backtest-out",
                    engine="local" if c is None else RayEngine(),
                    workers=c,
                    horizon=12,
                    n_windows=3,
                    neural_params={"progress": False},
                )
            )
        )
        if count is not None:
            ray.shutdown()
        board = done["result"].leaderboard.set_index("model")
        mase = ", ".join(f"{m} {board.loc[m, 'mase']:.4f}" for m in board.index)
        rows.append(("files backtest 3 windows", n, label, seconds, n / seconds))
        print(rows[-1], mase, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", nargs="+", type=int, default=[2000, 10000])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--backtest-series", type=int, default=2000)
    parser.add_argument("--statsforecast", action="store_true")
    parser.add_argument("--files-backtest", action="store_true")
    parser.add_argument("--skip-forecast", action="store_true")
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    import ray

    print(
        f"rnncast {__version__}, torch {torch.__version__}, ray {ray.__version__}, "
        f"{platform.machine()} with {os.cpu_count()} cores"
    )
    work = Path(tempfile.mkdtemp(prefix="rnncast-scale-"))
    try:
        rows = []
        if not args.skip_forecast:
            model = Forecaster(horizon=12, seed=0).fit(panel(2000, args.length))
            model.save(work / "model")
        for n in [] if args.skip_forecast else args.series:
            data = panel(n, args.length, seed=1)
            source = work / f"in-{n}"
            source.mkdir()
            for k, shard in enumerate(split_series(data, 8)):
                shard.to_parquet(source / f"shard-{k}.parquet", index=False)
            engines = [("local", LocalEngine())] + [
                (f"ray x{w}", RayEngine()) for w in args.workers
            ]
            for label, engine in engines:
                workers = None if label == "local" else int(label.split("x")[1])
                if workers is not None:
                    ray.init(
                        num_cpus=workers, include_dashboard=False, log_to_driver=False
                    )
                seconds = _timed(
                    lambda e=engine, s=source: forecast_files(
                        work / "model", s, work / "out", engine=e
                    )
                )
                if workers is not None:
                    ray.shutdown()
                rows.append(("forecast", n, label, seconds, n / seconds))
                print(rows[-1], flush=True)
        data = panel(args.backtest_series, args.length, seed=2)
        if args.files_backtest:
            rows += _files_backtest_rows(data, args.workers, work)
        for label in [] if args.skip_backtest else ["local", *_rays(args.workers)]:
            engine = None
            if label != "local":
                ray.init(
                    num_cpus=int(label.split("x")[1]),
                    include_dashboard=False,
                    log_to_driver=False,
                )
                engine = RayEngine()
            seconds = _timed(
                lambda e=engine: backtest(
                    data, ["theta", "snaive"], horizon=12, n_windows=3, engine=e
                )
            )
            if engine is not None:
                ray.shutdown()
            n = args.backtest_series
            rows.append(("backtest 3 windows", n, label, seconds, n / seconds))
            print(rows[-1], flush=True)
        if args.statsforecast:
            rows += _statsforecast_rows(data, args.workers)
        print("| job | series | engine | seconds | series/s |")
        print("|---|---|---|---|---|")
        for job, n, label, seconds, rate in rows:
            print(f"| {job} | {n:,} | {label} | {seconds:.1f} | {rate:,.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
