"""NeuralForecast's recurrent models at their defaults on the development sets.

Usage: .bench/bin/python benchmarks/peer_cells.py DATASET [DATASET ...]
       [--models LSTM xLSTM DilatedRNN] [--seeds 0 1 2]

Each model is a class of ``neuralforecast.models`` given only the horizon, the
seed and the CPU (``xLSTM``: two mLSTM blocks of 128 with an MLP decoder;
``DilatedRNN``: LSTM layers dilated ``[[1, 2], [4, 8]]`` with residual
connections between the two groups; both 1,000 steps of 32 series x 128
windows, input 3 x horizon, MAE loss, robust scaling), fitted on the set's
training part and scored on its test part as benchmarks/competitions.py
scores rnncast and the classics (MASE, sMAPE). Wall time is fit + predict,
imports excluded; one fit at a time. rnncast's cells on the same sets come
from competitions.py (``--config rnncast-slstm`` and the like); the table in
docs/accuracy.md puts both side by side.

Needs the benchmark environment of ``requirements.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
from importlib.metadata import version

import pandas as pd
import torch

from competition_data import load
from long_panel import neuralforecast_forecast, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--models", nargs="+", default=["xLSTM", "DilatedRNN"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    print(
        f"neuralforecast {version('neuralforecast')}, torch {torch.__version__}; "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads"
    )
    rows = []
    for name in args.datasets:
        data = load(name)
        for model in args.models:
            for seed in args.seeds:
                predicted, seconds = neuralforecast_forecast(data, seed, model)
                scores = score(data, predicted)
                rows.append((name, model, seed, *scores.values(), seconds))
                print(rows[-1], flush=True)
    table = pd.DataFrame(
        rows, columns=["dataset", "model", "seed", "mase", "smape", "seconds"]
    )
    print("\n| dataset | model | seed | MASE | sMAPE | seconds |")
    print("|---|---|---|---|---|---|")
    for row in table.itertuples():
        print(
            f"| {row.dataset} | {row.model} | {row.seed} | {row.mase:.3f} | "
            f"{row.smape:.2f} | {row.seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
