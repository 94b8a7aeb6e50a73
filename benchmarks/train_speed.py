"""Training throughput of rnncast's RNN, LSTM and GRU at a few sizes on this machine.

Usage: python benchmarks/train_speed.py [--epochs 3] [--threads N]

Data: Tourism monthly training series (366 real series, rnncast.datasets),
lookback 36, horizon 24, batch 256, float32, no validation. Prints windows per second
and seconds per epoch (median over the timed epochs, after one warm-up epoch).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from rnncast import Forecaster, __version__
from rnncast.datasets import load_tourism_monthly

SIZES = [(32,), (64,), (128,), (128, 64)]
CELLS = ["rnn", "lstm", "gru"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_tourism_monthly("train")
    machine = platform.processor() or platform.machine()
    print(
        f"rnncast {__version__}, torch {torch.__version__}, {machine}, "
        f"{os.cpu_count()} cores, {args.threads} torch threads"
    )
    n_series = data["unique_id"].nunique()
    print(f"data: Tourism monthly, {n_series} series, {len(data)} values")
    print(f"{'cell':<5} {'hidden':<10} {'windows':>8} {'s/epoch':>8} {'windows/s':>10}")
    for hidden in SIZES:
        for cell in CELLS:
            times: list[float] = []
            stamp = [time.perf_counter()]

            def on_epoch(record, times=times, stamp=stamp):
                now = time.perf_counter()
                times.append(now - stamp[0])
                stamp[0] = now

            model = Forecaster(
                horizon=24,
                lookback=36,
                cell=cell,
                hidden=hidden,
                epochs=args.epochs + 1,
                patience=args.epochs + 1,
                batch_size=256,
                validation=False,
                combine="none",  # training speed: the network alone
                seed=0,
            )
            stamp[0] = time.perf_counter()
            model.fit(data, on_epoch=on_epoch)
            per_epoch = float(np.median(times[1:]))  # skip the warm-up epoch
            n = model.n_train_windows_
            label = ",".join(map(str, hidden))
            print(
                f"{cell:<5} {label:<10} {n:>8} {per_epoch:>8.2f} {n / per_epoch:>10.0f}"
            )


if __name__ == "__main__":
    main()
