"""Data-parallel training: seconds per epoch in one process and on 1 and 2 Ray workers.

Usage: python benchmarks/data_parallel.py [--series 2000] [--workers 1 2]
       [--epochs 2 4]

The panel is benchmarks/scale.py's (Tourism monthly tiled to ``--length`` values,
default 200). A default ``Forecaster(horizon=12)`` (three ensemble members,
validation, refit) is fitted with each number of ``--epochs`` (patience as
long, so every epoch runs) in this process and with ``fit(engine=RayEngine(),
workers=N)`` on a local Ray instance of N CPUs; the seconds per epoch are the
difference of the two fits' wall times divided by the difference of their
epochs, which leaves out what does not grow with the epochs (reading, planning,
Ray Train's start, the classical mix). One run each; the forecasts of the
data-parallel fits are compared with one process's (largest relative
difference).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from rnncast import Forecaster, __version__
from rnncast.distributed import RayEngine
from scale import panel


def _fit(data, epochs: int, workers: int | None):  # type: ignore[no-untyped-def]
    model = Forecaster(horizon=12, seed=0, epochs=epochs, patience=epochs)
    start = time.perf_counter()
    if workers is None:
        model.fit(data)
    else:
        model.fit(data, engine=RayEngine(), workers=workers)
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--epochs", nargs=2, type=int, default=[2, 4])
    args = parser.parse_args()
    import ray

    torch.set_num_threads(1)  # as each Ray worker runs
    print(
        f"rnncast {__version__}, torch {torch.__version__}, ray {ray.__version__}, "
        f"{platform.machine()} with {os.cpu_count()} cores; {args.series} series x "
        f"{args.length} values"
    )
    data = panel(args.series, args.length, seed=3)
    few, many = args.epochs
    rows, reference = [], None
    for workers in [None, *args.workers]:
        if workers is not None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        short, _ = _fit(data, few, workers)
        long, model = _fit(data, many, workers)
        if workers is not None:
            ray.shutdown()
        forecasts = model.predict()[model.forecast_column].to_numpy()
        if reference is None:
            reference, gap = forecasts, 0.0
        else:
            gap = float(np.max(np.abs(forecasts - reference) / np.abs(reference)))
        label = "one process" if workers is None else f"ray, {workers} worker(s)"
        per_epoch = (long - short) / (many - few)
        rows.append((label, short, long, per_epoch, gap))
        print(rows[-1], flush=True)
    print(
        f"| training | fit, {few} epochs (s) | fit, {many} epochs (s) | s/epoch "
        "| largest relative difference to one process |"
    )
    print("|---|---|---|---|---|")
    for label, short, long, per_epoch, gap in rows:
        print(f"| {label} | {short:.1f} | {long:.1f} | {per_epoch:.1f} | {gap:.1e} |")


if __name__ == "__main__":
    main()
