"""Training throughput of rnncast's cells at a few sizes on this machine.

Usage: python benchmarks/train_speed.py [--epochs 3] [--threads N]
       [--cells rnn lstm gru slstm mlstm] [--sizes 64 128,64] [--dilations 1,12]
       [--lookback 36]

Data: Tourism monthly training series (366 real series, rnncast.datasets),
lookback 36 (``--lookback``; a series shorter than lookback + horizon has no
window), horizon 24, batch 256, float32, no validation. Prints the windows an
epoch trains on (windows_per_epoch of the 78,902), seconds per epoch (median over
the timed epochs, after one warm-up epoch) and windows per second.
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
    parser.add_argument("--cells", nargs="+", default=CELLS)
    parser.add_argument(
        "--sizes", nargs="+", default=[",".join(map(str, s)) for s in SIZES]
    )
    parser.add_argument(
        "--dilations", help="one per layer, e.g. 1,12 (sizes of that many layers)"
    )
    parser.add_argument("--lookback", type=int, default=36)
    args = parser.parse_args()
    dilations = None
    if args.dilations:
        dilations = tuple(int(d) for d in args.dilations.split(","))
    torch.set_num_threads(args.threads)
    data = load_tourism_monthly("train")
    machine = platform.processor() or platform.machine()
    print(
        f"rnncast {__version__}, torch {torch.__version__}, {machine}, "
        f"{os.cpu_count()} cores, {args.threads} torch threads"
    )
    n_series = data["unique_id"].nunique()
    print(f"data: Tourism monthly, {n_series} series, {len(data)} values")
    print(f"lookback {args.lookback}, horizon 24, batch 256")
    if dilations:
        print(f"dilations {dilations}")
    print(f"{'cell':<5} {'hidden':<10} {'windows':>8} {'s/epoch':>8} {'windows/s':>10}")
    for hidden in [tuple(int(w) for w in s.split(",")) for s in args.sizes]:
        for cell in args.cells:
            times: list[float] = []
            stamp = [time.perf_counter()]

            def on_epoch(record, times=times, stamp=stamp):
                now = time.perf_counter()
                times.append(now - stamp[0])
                stamp[0] = now

            model = Forecaster(
                horizon=24,
                lookback=args.lookback,
                cell=cell,
                hidden=hidden,
                dilations=dilations,
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
            # an epoch draws windows_per_epoch of the windows (all, if fewer)
            n = min(model.n_train_windows_, model.windows_per_epoch or np.inf)
            label = ",".join(map(str, hidden))
            print(
                f"{cell:<5} {label:<10} {n:>8.0f} {per_epoch:>8.2f} "
                f"{n / per_epoch:>10.0f}"
            )


if __name__ == "__main__":
    main()
