"""Data-parallel training: seconds per epoch in one process and on 1 and 2 Ray workers.

Usage: python benchmarks/data_parallel.py [--series 2000] [--workers 1 2]
       [--epochs 2 10]

The panel is benchmarks/scale.py's (Tourism monthly tiled to ``--length`` values,
default 200), the last 12 values of every series held out. A default
``Forecaster(horizon=12)`` (validation, naive check, Theta mix, refit) is fitted
with each number of ``--epochs`` (patience as long, so every epoch runs) in this
process (after a first fit that warms it up; seeds 0 and 1) and with
``fit(engine=RayEngine(), workers=N)`` on a local Ray instance of N CPUs (seed
0). The seconds per epoch are the difference of the two fits' wall times
divided by the difference of their epochs (the refit's included, counted in the
fitted history), which leaves out what does not grow with the epochs (reading,
planning, Ray Train's start, the classical mix). One run each. The forecasts of
the longer fits are compared with one process's at seed 0 (median and largest
relative difference) and scored on the held-out values (MASE, season 12).
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


def _fit(data, epochs: int, workers: int | None, seed: int = 0):  # type: ignore[no-untyped-def]
    model = Forecaster(horizon=12, seed=seed, epochs=epochs, patience=epochs)
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
    parser.add_argument("--epochs", nargs=2, type=int, default=[2, 10])
    args = parser.parse_args()
    import ray

    torch.set_num_threads(1)  # as each Ray worker runs
    print(
        f"rnncast {__version__}, torch {torch.__version__}, ray {ray.__version__}, "
        f"{platform.machine()} with {os.cpu_count()} cores; {args.series} series x "
        f"{args.length} values"
    )
    whole = panel(args.series, args.length, seed=3)  # in the forecasts' order:
    whole = whole.sort_values(["unique_id", "ds"], ignore_index=True)
    last = whole.groupby("unique_id").cumcount(ascending=False) < 12
    data, actual = whole[~last], whole[last]["y"].to_numpy()
    history = data["y"].to_numpy().reshape(args.series, -1)
    scale = np.abs(history[:, 12:] - history[:, :-12]).mean(axis=1)
    few, many = args.epochs
    _fit(data, 1, None)  # imports and first calls, paid once by this process
    rows, reference = [], None
    for workers, seed in [(None, 0), (None, 1), *[(w, 0) for w in args.workers]]:
        if workers is not None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        short, first = _fit(data, few, workers, seed)
        long, model = _fit(data, many, workers, seed)
        epochs = len(model.fitted_.history) - len(first.fitted_.history)
        if workers is not None:
            ray.shutdown()
        forecasts = model.predict()[model.forecast_column].to_numpy()
        if reference is None:
            reference = forecasts
        gaps = np.abs(forecasts - reference) / np.abs(reference)
        errors = np.abs(forecasts - actual).reshape(args.series, 12).mean(axis=1)
        mase = float(np.mean(errors / scale))
        label = "one process" if workers is None else f"ray, {workers} worker(s)"
        label += f", seed {seed}"
        per_epoch = (long - short) / epochs
        rows.append((label, short, long, per_epoch, np.median(gaps), gaps.max(), mase))
        print(rows[-1], flush=True)
    print(
        f"| training | fit, {few} epochs (s) | fit, {many} epochs (s) | s/epoch "
        "| relative difference to one process (seed 0), median / largest "
        f"| MASE, {many} epochs |"
    )
    print("|---|---|---|---|---|---|")
    for label, short, long, per_epoch, median, largest, mase in rows:
        print(
            f"| {label} | {short:.1f} | {long:.1f} | {per_epoch:.2f} "
            f"| {median:.1e} / {largest:.1e} | {mase:.4f} |"
        )


if __name__ == "__main__":
    main()
