"""rnncast against NeuralForecast and Darts on the same data, network and steps.

Usage (in the benchmark environment of benchmarks/requirements.txt):
    python benchmarks/peers.py [--steps N] [--threads 2] [--hidden 128] [--layers 2]
                               [--device cpu] [--peers neuralforecast darts]

``--device cuda`` trains all three on the GPU (Lightning's ``accelerator="gpu"`` for
the peers); benchmarks/gpu_check.sh runs it so on a GPU machine.

Data: Tourism monthly (366 real series shipped with rnncast; competition training
part for fitting, its 24-month test part for MASE). Network for all three: LSTM,
2 layers x 128, lookback 36 (the shortest training series has 67 values,
so 36 + 24 keeps every series), direct horizon 24, batch of 256 windows, Adam lr 1e-3,
MAE loss, float32, CPU, no validation:

* rnncast: ``Forecaster(cell="lstm", hidden=(128, 128), lookback=36, ...)``;
* NeuralForecast: ``LSTM(h=24, input_size=36, encoder 2 x 128, windows_batch_size=256,
  max_steps=N)`` (its MLP decoder of 2 x 128 comes with it);
* Darts: ``BlockRNNModel(model="LSTM", input_chunk_length=36, output_chunk_length=24,
  hidden_dim=128, n_rnn_layers=2, batch_size=256)``, Lightning stopped at N steps.

N defaults to the steps of one rnncast epoch over every window (ceil(windows/256)).
Each model runs in its own process, so its peak resident memory (ru_maxrss) is its
own. Reported: wall seconds of the whole fit (data preparation included) per training
step; test MASE after the N steps; peak RSS. Then "time to the peer's MASE": rnncast
with its own defaults (``Forecaster(horizon=24, missing="mask")``: the mask lets
series shorter than the default lookback 48 + 24 in; early stopping on a validation
window) fitted with a budget of 16, 32, 64, ... optimiser steps (``max_steps``; one
epoch is 257 steps) until its test MASE is at most the peer's, and the wall time of
that fit.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd
import torch

from rnncast import Forecaster, __version__
from rnncast.datasets import load_tourism_monthly
from rnncast.evaluation.metrics import evaluate

HORIZON, LOOKBACK, BATCH, SEASON = 24, 36, 256, 12
PEERS = ("neuralforecast", "darts")
DEVICE = "cpu"  # set from --device in main()


def accelerator() -> str:
    """Lightning's name for DEVICE."""
    return "gpu" if DEVICE == "cuda" else "cpu"


def one_epoch_steps(train: pd.DataFrame) -> int:
    """Training steps of one rnncast epoch: every window once, BATCH at a time."""
    lengths = train.groupby("unique_id").size().to_numpy()
    windows = np.maximum(lengths - LOOKBACK - HORIZON + 1, 0).sum()
    return math.ceil(windows / BATCH)


def test_mase(forecast: pd.DataFrame, column: str) -> float:
    """Mean MASE over the series on the competition's test part."""
    scores = evaluate(
        forecast.rename(columns={column: "model"})[["unique_id", "ds", "model"]],
        load_tourism_monthly("test"),
        load_tourism_monthly("train"),
        models=["model"],
        season_length=SEASON,
    )
    return float(scores["mase"].mean())


def fit_rnncast(steps: int, hidden: int, layers: int) -> tuple[pd.DataFrame, str]:
    train = load_tourism_monthly("train")
    epochs = max(1, round(steps / one_epoch_steps(train)))
    model = Forecaster(
        horizon=HORIZON,
        cell="lstm",
        hidden=(hidden,) * layers,
        lookback=LOOKBACK,
        batch_size=BATCH,
        epochs=epochs,
        patience=epochs,
        validation=False,
        combine="none",  # the same network as the peers', nothing mixed in
        seed=0,
        device=DEVICE,
    )
    return model.fit(train).predict(), "yhat"


def fit_neuralforecast(
    steps: int, hidden: int, layers: int
) -> tuple[pd.DataFrame, str]:
    from neuralforecast import NeuralForecast
    from neuralforecast.losses.pytorch import MAE
    from neuralforecast.models import LSTM

    model = LSTM(
        h=HORIZON,
        input_size=LOOKBACK,
        encoder_n_layers=layers,
        encoder_hidden_size=hidden,
        decoder_hidden_size=hidden,
        loss=MAE(),
        max_steps=steps,
        learning_rate=1e-3,
        batch_size=32,  # series per step, from which...
        windows_batch_size=BATCH,  # ...this many windows are drawn
        random_seed=0,
        accelerator=accelerator(),
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    nf = NeuralForecast(models=[model], freq="MS")
    nf.fit(load_tourism_monthly("train"))
    forecast = nf.predict()
    if "unique_id" not in forecast.columns:  # older versions kept it as the index
        forecast = forecast.reset_index()
    return forecast, "LSTM"


def fit_darts(steps: int, hidden: int, layers: int) -> tuple[pd.DataFrame, str]:
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    train = load_tourism_monthly("train")
    series = TimeSeries.from_group_dataframe(
        train, group_cols="unique_id", time_col="ds", value_cols="y", freq="MS"
    )
    series = [s.astype(np.float32) for s in series]
    model = BlockRNNModel(
        model="LSTM",
        input_chunk_length=LOOKBACK,
        output_chunk_length=HORIZON,
        hidden_dim=hidden,
        n_rnn_layers=layers,
        batch_size=BATCH,
        n_epochs=10_000,  # stopped by max_steps
        use_static_covariates=False,  # the series id is only used to name rows
        optimizer_kwargs={"lr": 1e-3},
        loss_fn=torch.nn.L1Loss(),
        random_state=0,
        pl_trainer_kwargs={
            "accelerator": accelerator(),
            "devices": 1,
            "max_steps": steps,
            "logger": False,
            "enable_progress_bar": False,
            "enable_checkpointing": False,
            "enable_model_summary": False,
        },
    )
    model.fit(series, verbose=False)
    predicted = model.predict(HORIZON, series=series, verbose=False)
    frames = []
    for s, p in zip(series, predicted, strict=True):
        uid = s.static_covariates["unique_id"].iloc[0]
        frames.append(
            pd.DataFrame(
                {"unique_id": uid, "ds": p.time_index, "yhat": p.values().ravel()}
            )
        )
    return pd.concat(frames, ignore_index=True), "yhat"


def run_one(name: str, steps: int, hidden: int, layers: int) -> dict[str, Any]:
    """Fit ``name`` for ``steps`` steps in this process; time, MASE and peak RSS."""
    fit = {"rnncast": fit_rnncast, "neuralforecast": fit_neuralforecast}.get(
        name, fit_darts
    )
    start = time.perf_counter()
    forecast, column = fit(steps, hidden, layers)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "mase": test_mase(forecast, column),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def rnncast_defaults(steps: int) -> dict[str, Any]:
    """Fit the default configuration, capped at ``steps``: wall time and MASE."""
    start = time.perf_counter()
    model = Forecaster(
        horizon=HORIZON, max_steps=steps, missing="mask", seed=0, device=DEVICE
    )
    forecast = model.fit(load_tourism_monthly("train")).predict()
    return {"seconds": time.perf_counter() - start, "mase": test_mase(forecast, "yhat")}


def in_child(args: list[str], threads: int) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process; its JSON answer."""
    command = [
        *(sys.executable, __file__, "--threads", str(threads), "--device", DEVICE),
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def versions() -> str:
    names = ("torch", "neuralforecast", "pytorch-lightning", "darts")
    found = [f"{n} {version(n)}" for n in names]
    return ", ".join([*found, f"rnncast {__version__}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="training steps (default: 1 epoch)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--hidden", type=int, default=128, help="LSTM width")
    parser.add_argument("--layers", type=int, default=2, help="stacked LSTM layers")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--peers", nargs="+", default=list(PEERS), choices=PEERS, help="peers to run"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--defaults-steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(run_one(args.child, args.steps, args.hidden, args.layers)))
        return
    if args.defaults_steps:
        print(json.dumps(rnncast_defaults(args.defaults_steps)))
        return

    epoch = one_epoch_steps(load_tourism_monthly("train"))
    steps = epoch * max(1, round((args.steps or epoch) / epoch))  # whole epochs
    card = f", {torch.cuda.get_device_name()}" if DEVICE == "cuda" else ""
    print(
        f"{versions()}; {platform.machine()}, {os.cpu_count()} cores, "
        f"{args.threads} torch threads{card}"
    )
    print(
        f"Tourism monthly, LSTM {args.layers} x {args.hidden}, lookback {LOOKBACK}, "
        f"horizon {HORIZON}, batch {BATCH}, {steps} steps\n"
    )
    results = {
        name: in_child(
            [
                *("--child", name, "--steps", str(steps)),
                *("--hidden", str(args.hidden), "--layers", str(args.layers)),
            ],
            args.threads,
        )
        for name in ("rnncast", *args.peers)
    }
    ours = results["rnncast"]
    print("| library | s/step | rnncast faster by | test MASE | peak RSS MB |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        per_step = r["seconds"] / steps
        ratio = r["seconds"] / ours["seconds"]
        print(
            f"| {name} | {per_step:.4f} | {ratio:.1f}x | {r['mase']:.3f} "
            f"| {r['rss_mb']:.0f} |"
        )

    print(
        "\nTime to the peer's test MASE with rnncast's defaults "
        "(Forecaster(horizon=24), optimiser steps capped):\n"
    )
    trail = []
    for budget in (16, 32, 64, 128, 256, 512, 1024, 4096, 25_700):
        trail.append(
            (budget, in_child(["--defaults-steps", str(budget)], args.threads))
        )
        if trail[-1][1]["mase"] <= min(results[p]["mase"] for p in args.peers):
            break
    print("| rnncast steps | seconds | test MASE |")
    print("|---|---|---|")
    for budget, r in trail:
        print(f"| {budget} | {r['seconds']:.1f} | {r['mase']:.3f} |")
    print("\n| peer | peer MASE | peer seconds | rnncast seconds to reach it | ratio |")
    print("|---|---|---|---|---|")
    for name in args.peers:
        peer = results[name]
        reached = [r for _, r in trail if r["mase"] <= peer["mase"]]
        if reached:
            ratio = peer["seconds"] / reached[0]["seconds"]
            print(
                f"| {name} | {peer['mase']:.3f} | {peer['seconds']:.1f} "
                f"| {reached[0]['seconds']:.1f} | {ratio:.1f}x |"
            )
        else:
            print(
                f"| {name} | {peer['mase']:.3f} | {peer['seconds']:.1f} "
                "| not reached | - |"
            )


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    main()
