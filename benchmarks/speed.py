"""How fast rnncast is against what this machine can do.

Usage: python benchmarks/speed.py [--series 10000] [--length 1000]
                                 [--parts hardware prep growth backtest]
                                 [--device cpu]

``--device cuda`` runs every part's networks (and the matmul rate) on the GPU; its
figures are absolute times on that card (docs/speed.md, "On a GPU").

1. Hardware: the sustained float32 matmul rate of this machine (torch.mm, best of
   several sizes, including the LSTM's gate matmul shapes) in GFLOP/s.
2. Training: FLOPs of one LSTM training step (forward and backward gate matmuls) and
   the rate rnncast achieves on Tourism monthly windows at the default batch size,
   as a fraction of the machine's rate.
3. Data preparation: validation, scaling and window starts for SERIES x LENGTH real
   values (windows of the hourly ETTh1 series, shipped with rnncast, cut into series
   of LENGTH values), with its wall time and peak memory against the raw values.
4. Inference: forecasting horizon 48 for all those series with a fitted LSTM.
5. Growth: seconds of one full training epoch (every window once; a small LSTM,
   lookback 24, horizon 12, batch 1024, no validation) against the number of series
   (1 to 10,000 of 1,000 values) and the series length (100 to 10,000, 100 series),
   with the slope of log(seconds) on log(windows): 1 is linear growth.
6. Backtests: ``backtest(refit=False)`` with n rolling windows against one fit plus
   n predicts of the same model on the same data, done by hand.

Figures are printed, never asserted; nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd
import torch

from rnncast import Forecaster, __version__, backtest
from rnncast.data.frame import validate_frame
from rnncast.data.scaling import fit_scaler, transform
from rnncast.data.windows import gather, training_starts
from rnncast.datasets import load_ett, load_tourism_monthly
from rnncast.models.networks import NetworkConfig, RecurrentNetwork

DEVICE = torch.device("cpu")  # set from --device in main()


def now() -> float:
    """Wall clock after the device's queued work is done (GPU work is asynchronous)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def matmul_rate(m: int, k: int, n: int, seconds: float = 0.5) -> float:
    """Sustained GFLOP/s of ``(m x k) @ (k x n)`` in float32 (2 m k n FLOPs each)."""
    a = torch.randn(m, k, device=DEVICE)
    b = torch.randn(k, n, device=DEVICE)
    for _ in range(3):
        a @ b
    count, start = 0, now()
    while time.perf_counter() - start < seconds:
        for _ in range(10):  # queue several, so the GPU is never starved
            a @ b
        count += 10
    return 2 * m * k * n * count / (now() - start) / 1e9


def lstm_step_flops(batch: int, lookback: int, inputs: int, hidden: int) -> float:
    """Gate-matmul FLOPs of one LSTM training step (one layer, direct head).

    Forward: per time step ``[x_t, h_{t-1}] @ W`` with W of shape
    (inputs + hidden, 4 hidden): ``2 B (D + H) 4H``. Backward: the gradients with
    respect to the inputs and to W are two matmuls of the same size, so a training
    step is 3x the forward.
    """
    forward = 2 * batch * (inputs + hidden) * 4 * hidden * lookback
    return 3.0 * forward


def tourism_windows(
    lookback: int, horizon: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled Tourism monthly training values and their window starts, on ``device``."""
    series = validate_frame(load_tourism_monthly("train"))
    stats = fit_scaler(
        series.values, series.offsets, series.lengths, "mase", "none", 12
    )
    values = torch.as_tensor(
        transform(series.values, series.offsets, stats),
        dtype=torch.float32,
        device=device,
    )
    starts = training_starts(series.offsets, lookback, horizon)
    return values, torch.as_tensor(starts, device=device)


def train_step(
    network: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    values: torch.Tensor,
    starts: torch.Tensor,
    sizes: tuple[int, int],
) -> torch.Tensor:
    """One step as rnncast's loop takes it (MAE, clipping at 1, Adam); its loss.

    ``sizes`` is (lookback, horizon). The gradients are left for the caller to zero.
    """
    inputs, targets = gather(values, starts, *sizes)
    loss = torch.nn.functional.l1_loss(network(inputs), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
    optimiser.step()
    return loss.detach()


def training_rate(batch: int, lookback: int, hidden: int, steps: int = 30) -> float:
    """Seconds per training step of rnncast's LSTM on Tourism monthly windows."""
    values, starts = tourism_windows(lookback, 24, DEVICE)
    network = RecurrentNetwork(
        NetworkConfig(cell="lstm", hidden=(hidden,), horizon=24, level="none")
    ).to(DEVICE)
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
    order = starts[torch.randperm(len(starts), device=DEVICE)]
    batches = list(order.split(batch))[: steps + 5]
    times = []
    for i, chunk in enumerate(batches):
        start = now()
        train_step(network, optimiser, values, chunk, (lookback, 24))
        optimiser.zero_grad(set_to_none=True)
        if i >= 5:  # warm-up steps excluded
            times.append(now() - start)
    return float(np.median(times))


def real_panel(n_series: int, length: int) -> pd.DataFrame:
    """``n_series`` windows of ``length`` real hourly values cut from ETTh1."""
    ett = load_ett()
    columns = [g["y"].to_numpy() for _, g in ett.groupby("unique_id")]
    rng = np.random.default_rng(0)
    values = np.empty((n_series, length))
    for i in range(n_series):
        column = columns[i % len(columns)]
        start = rng.integers(0, len(column) - length)
        values[i] = column[start : start + length]
    stamps = pd.date_range("2020-01-01", periods=length, freq="h")
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n_series), length),
            "ds": np.tile(stamps.to_numpy(), n_series),
            "y": values.ravel(),
        }
    )


def prepare(panel: pd.DataFrame) -> tuple[Any, torch.Tensor, np.ndarray]:
    """Validate, scale and index the windows of ``panel``, as ``fit`` does."""
    series = validate_frame(panel, freq="h")
    stats = fit_scaler(
        series.values, series.offsets, series.lengths, "mase", "none", 24
    )
    scaled = torch.as_tensor(
        transform(series.values, series.offsets, stats), dtype=torch.float32
    )
    return series, scaled, training_starts(series.offsets, 96, 48)


def epoch_seconds(panel: pd.DataFrame) -> tuple[int, float]:
    """Windows and wall seconds of ``fit`` for one epoch (data preparation included)."""
    model = Forecaster(
        horizon=12,
        lookback=24,
        hidden=(16,),
        epochs=1,
        batch_size=1024,
        validation=False,
        combine="none",  # the network's cost alone (the Theta mix is timed apart)
        freq="h",
        seed=0,
        device=str(DEVICE),
    )
    start = now()
    model.fit(panel)
    seconds = now() - start
    lengths = panel.groupby("unique_id").size().to_numpy()
    return int(np.maximum(lengths - 35, 0).sum()), seconds


def growth() -> None:
    print("\n## 5. Growth of one training epoch\n")
    print("| series | length | windows | s/epoch | microseconds/window |")
    print("|---|---|---|---|---|")
    epoch_seconds(real_panel(1, 200))  # warm-up: the first fit pays torch's set-up
    cells = [(n, 1000) for n in (1, 10, 100, 1000, 10_000)]
    cells += [(100, n) for n in (100, 3000, 10_000)]
    points = []
    for n_series, length in cells:
        windows, seconds = epoch_seconds(real_panel(n_series, length))
        points.append((windows, seconds))
        print(
            f"| {n_series:,} | {length:,} | {windows:,} | {seconds:.2f} "
            f"| {1e6 * seconds / windows:.1f} |"
        )
    big = [(w, t) for w, t in points if w >= 50_000]  # past the fixed costs
    slope = np.polyfit(np.log([w for w, _ in big]), np.log([t for _, t in big]), 1)[0]
    print(
        f"\nslope of log(seconds) on log(windows), cells with >= 50,000 windows: "
        f"{slope:.2f} (1 = linear)"
    )


def backtest_cost(n_windows: int = 10) -> None:
    print(f"\n## 6. Backtest cost, {n_windows} windows without refits\n")
    panel = real_panel(1000, 1000)
    params = {
        "lookback": 96,
        "hidden": (32,),
        "epochs": 1,
        "validation": False,
        "combine": "none",  # the network's cost alone
        "device": str(DEVICE),
    }
    horizon = 48
    lengths = 1000 - horizon * np.arange(n_windows, 0, -1)  # history at each cutoff
    rank = panel.groupby("unique_id").cumcount().to_numpy()
    start = time.perf_counter()
    model = Forecaster(horizon=horizon, freq="h", seed=0, **params)
    model.fit(panel[rank < lengths[0]])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for cut in lengths:
        model.predict(panel[rank < cut])
    predict_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = backtest(
        panel,
        ["lstm"],
        horizon=horizon,
        n_windows=n_windows,
        refit=False,
        freq="h",
        neural_params=params,
    )
    seconds = time.perf_counter() - start
    board = result.leaderboard
    if "model" in board.columns:
        board = board.set_index("model")
    print("| part | seconds |")
    print("|---|---|")
    print(f"| by hand: one fit | {fit_seconds:.2f} |")
    print(
        f"| by hand: {n_windows} predicts with the history to each cutoff "
        f"| {predict_seconds:.2f} |"
    )
    print(
        f"| backtest, all of it (with the snaive reference and metrics) "
        f"| {seconds:.2f} |"
    )
    for name in ("lstm", "snaive"):
        row = board.loc[name]
        print(
            f"| backtest: {name} fit / predict | {row['fit_seconds']:.2f} / "
            f"{row['predict_seconds']:.2f} |"
        )
    print(
        f"\nbacktest / (fit + {n_windows} predicts): "
        f"{seconds / (fit_seconds + predict_seconds):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=1_000)
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["hardware", "prep", "growth", "backtest"],
        choices=["hardware", "prep", "growth", "backtest"],
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    card = f", {torch.cuda.get_device_name()}" if DEVICE.type == "cuda" else ""
    print(
        f"rnncast {__version__}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads{card}"
    )

    if "hardware" in args.parts:
        hardware()
    if "prep" in args.parts:
        preparation(args.series, args.length)
    if "growth" in args.parts:
        growth()
    if "backtest" in args.parts:
        backtest_cost()


def hardware() -> None:
    print("\n## 1-2. Hardware rate and training efficiency\n")
    shapes = {
        "1024 x 1024 x 1024": (1024, 1024, 1024),
        "gates, batch 256, H 64": (256, 65, 256),
        "gates, batch 256, H 128": (256, 129, 512),
        "gates, batch 1024, H 128": (1024, 129, 512),
    }
    if DEVICE.type == "cuda":  # a GPU needs far larger products to be busy
        shapes["8192 x 8192 x 8192"] = (8192, 8192, 8192)
        shapes["gates, batch 4096, H 256"] = (4096, 257, 1024)
    rates = {name: matmul_rate(*shape) for name, shape in shapes.items()}
    peak = max(rates.values())
    print("| matmul (float32) | GFLOP/s |")
    print("|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.1f} |")
    print("\n| LSTM step | batch | lookback | hidden | s/step | GFLOP/s | of peak |")
    print("|---|---|---|---|---|---|---|")
    cases = [(256, 64), (256, 128), (1024, 128)]
    if DEVICE.type == "cuda":
        cases.append((4096, 256))
    for batch, hidden in cases:
        seconds = training_rate(batch, 48, hidden)
        achieved = lstm_step_flops(batch, 48, 1, hidden) / seconds / 1e9
        print(
            f"| train | {batch} | 48 | {hidden} | {seconds:.4f} | {achieved:.1f} "
            f"| {100 * achieved / peak:.0f} % |"
        )


def preparation(n_series: int, length: int) -> None:
    print(f"\n## 3-4. Data preparation and inference, {n_series} x {length}\n")
    panel = real_panel(n_series, length)
    raw_bytes = n_series * length * 8
    start = time.perf_counter()
    series, scaled, starts = prepare(panel)
    prep = time.perf_counter() - start
    tracemalloc.start()  # a second, traced run: tracing slows allocation down
    prepare(panel)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    held = series.values.nbytes + scaled.numel() * 4 + starts.nbytes
    print(
        f"windows ready: {len(starts):,} windows in {prep:.2f} s; held "
        f"{held / raw_bytes:.2f}x the raw float64 values, peak during preparation "
        f"{peak_bytes / raw_bytes:.2f}x (target: < 2 s, < 2x)"
    )
    model = Forecaster(
        horizon=48,
        lookback=96,
        hidden=(64,),
        epochs=1,
        validation=False,
        combine="none",
        seed=0,
        device=str(DEVICE),
    )
    small = panel[panel["unique_id"] < 200]
    model.fit(small)  # a fitted network; inference cost does not depend on training
    history = panel.groupby("unique_id").tail(96)
    start = now()
    forecast = model.predict(history)
    seconds = now() - start
    print(
        f"inference: {forecast['unique_id'].nunique():,} series x 48 steps in "
        f"{seconds:.2f} s (predict with new history: reading, scaling, network, "
        "output frame; target < 1 s)"
    )


if __name__ == "__main__":
    main()
