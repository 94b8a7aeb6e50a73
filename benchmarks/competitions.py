"""Point accuracy on forecasting-competition data: rnncast against the classics.

Usage: python benchmarks/competitions.py DATASET [DATASET ...] [--models ...]
       [--config NAME:key=value,key=value ...] [--cache DIR]

DATASET: tourism-monthly (366 series, h=24), tourism-quarterly (427, h=8),
m3-monthly (1,428, h=18; the confirmation set), m3-quarterly (756, h=8),
m3-other (174, h=8; development sets), read by path from ../shared/data; and
the high-frequency development sets: ett-hourly (224 hourly series of 1,040
values cut from ETTh1 and ETTh2, h=48), traffic-hourly (16 pieces of the I-94
hourly traffic volume, h=48 and h=24 as traffic-hourly-24) and taylor-halfhourly
(3 four-week pieces of half-hourly electricity demand, h=48) and glucose-5min (9
22-day pieces of 5-minute glucose readings, h=288); see
competition_data.py for where they come from. Every
model is fitted on the competition's training part and forecasts its official
test part, scored as the competitions define it: MASE (mean over series of the
MAE divided by the in-sample seasonal-naive MAE), sMAPE (200 |y - f| / (|y| +
|f|), %) and OWA, the mean of MASE and sMAPE each relative to seasonal naive's
(M4's overall weighted average with seasonal naive as the reference). Wall
time is fit + predict.

Models:

* baselines: ``snaive``, ``naive``, ``ets`` (statsforecast AutoETS), ``arima``
  (AutoARIMA), ``theta`` (AutoTheta), ``mstl`` (statsforecast MSTL with an
  AutoETS trend, the day and the week of sub-daily data), ``snaive-week``
  (seasonal naive a week back: 7 times the season), ``comb`` (equal-weight mean of the
  forecasts of ets, arima and theta; its time is the sum of theirs);
* ``rnncast``: ``rnncast.Forecaster`` with its defaults (only horizon and
  frequency given, and the season length of integer time; the default
  ``missing="auto"`` pads the competitions' series shorter than a window, as
  ``missing="mask"`` did before 0.2.0);
* named variants of it (``CONFIGS`` below, the attempts recorded in
  docs/accuracy.md), and ad-hoc ones: ``--config log3:transform=log,ensemble=3``
  adds a model ``log3`` with those parameters on top of the defaults.

``--cache DIR`` keeps the baselines' forecasts (and their measured wall time) in
DIR, so that repeated runs while developing do not refit them. ``--save DIR`` writes
every model's forecasts to ``DIR/DATASET-MODEL.parquet`` for per-series analysis.
``--by-step`` adds a table of each model's scaled error per horizon step (whose
mean over the steps is its MASE), to see where in the horizon models differ.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsforecast
import torch

from competition_data import Competition, load
from rnncast import Forecaster, __version__
from rnncast.baselines import make_baseline
from rnncast.evaluation.metrics import evaluate, step_scores

BASELINES = ("snaive", "naive", "ets", "arima", "theta", "mstl", "snaive-week")
COMBINED = ("ets", "arima", "theta")

# Variants of the defaults tried while tuning on Tourism (docs/accuracy.md). Each
# adds its parameters to the current defaults (the network mixed with Theta): add
# combine=none with --config to measure a variant of the network alone.
CONFIGS: dict[str, dict[str, Any]] = {
    "rnncast": {},  # the defaults: the network mixed with Theta
    "rnncast-alone": {"combine": "none"},  # the network alone
    # 0.2.0's single season on sub-daily data (the day; 0.3.0 adds the week
    # where the data shows it)
    "rnncast-one-season": {"season_length": "the competition's"},
    # 0.2.0's training: every window in every epoch (0.3.0 draws 16,384 an epoch)
    "rnncast-every-window": {"windows_per_epoch": None},
    # the first defaults: standard scaling, MSE, forecasts relative to the last value
    "first-defaults": {
        "scaler": "standard",
        "loss": "mse",
        "window_level": "last",
        "combine": "none",
    },
    "rnncast-log": {"transform": "auto"},
    "rnncast-gru": {"cell": "gru"},
    # the xLSTM's cells, and two layers with and without a second layer that
    # steps a season at a time (the cells against the LSTM at the same budget)
    "rnncast-slstm": {"cell": "slstm"},
    "rnncast-mlstm": {"cell": "mlstm"},
    "rnncast-2x64": {"hidden": (64, 64)},
    "rnncast-2x64-dilated": {"hidden": (64, 64), "dilations": (1, "season")},
    # four layers in two residual groups: NeuralForecast DilatedRNN's default
    # dilations, and the M4 winner's hourly ones
    "rnncast-4x64-groups": {"hidden": (64,) * 4, "dilations": ((1, 2), (4, 8))},
    "rnncast-4x64-m4": {"hidden": (64,) * 4, "dilations": ((1, 4), (24, 168))},
    "rnncast-val4": {"validation_windows": 4},
    "rnncast-ens3": {"ensemble": 3},
    "rnncast-adaptive": {"window_level": "adaptive"},
    "rnncast-season": {"season_inputs": True},
    # a cheaper summary of a long season than a lookback covering it: four days of
    # lookback with the phase of every kept season (day and week) as inputs
    "rnncast-phases-96": {"season_inputs": True, "lookback": 96},
    "rnncast-smape": {"loss": "smape"},
    "rnncast-snaive": {"window_level": "snaive"},
    # mixed with the Theta method (or its mean with the damped trend's),
    # the network's weight chosen on validation
    "rnncast-theta": {"combine": "theta"},
    "rnncast-theta-damped": {"combine": "theta+damped"},
}


def rnncast_forecast(
    params: dict[str, Any], data: Competition
) -> tuple[pd.DataFrame, str]:
    settings = {"seed": 0, **params}
    if "dilations" in settings:  # "season": the competition's season length
        settings["dilations"] = tuple(
            data.season_length if d == "season" else d for d in settings["dilations"]
        )
    if isinstance(data.freq, int) or settings.get("season_length") is not None:
        # integer time has no calendar to take seasons from: the competition's
        settings["season_length"] = data.season_length
    model = Forecaster(horizon=data.horizon, freq=data.freq, **settings)
    return model.fit(data.train).predict(), "yhat"


def baseline_forecast(name: str, data: Competition) -> tuple[pd.DataFrame, str]:
    week = name == "snaive-week"  # seasonal naive a week back, for sub-daily data
    model = make_baseline(
        "snaive" if week else name,
        horizon=data.horizon,
        season_length=7 * data.season_length if week else data.season_length,
        freq=data.freq,
        time_limit=60.0,
    )
    predicted = model.fit(data.train).predict()
    return predicted.rename(columns={model.alias: "yhat"}), "yhat"


def cached_baseline(
    name: str, data: Competition, cache: Path | None
) -> tuple[pd.DataFrame, float]:
    """Forecasts of a baseline and the seconds they took, from ``cache`` if there."""
    path = None if cache is None else cache / f"{data.name}-{name}.parquet"
    if path is not None and path.exists():
        frame = pd.read_parquet(path)
        return frame.drop(columns="seconds"), float(frame["seconds"].iloc[0])
    start = time.perf_counter()
    predicted, _ = baseline_forecast(name, data)
    seconds = time.perf_counter() - start
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        predicted.assign(seconds=seconds).to_parquet(path)
    return predicted, seconds


def combination(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Equal-weight mean of forecasts (``unique_id, ds, yhat``) of several models."""
    keys = ["unique_id", "ds"]
    merged = parts[0][keys].copy()
    merged["yhat"] = np.mean(
        [
            p.set_index(keys)
            .loc[pd.MultiIndex.from_frame(merged[keys]), "yhat"]
            .to_numpy()
            for p in parts
        ],
        axis=0,
    )
    return merged


def score(data: Competition, predicted: pd.DataFrame) -> dict[str, float]:
    scores = _scored(evaluate, data, predicted)
    return {"mase": scores["mase"].mean(), "smape": scores["smape"].mean()}


def step_errors(data: Competition, predicted: pd.DataFrame) -> np.ndarray:
    """MASE of every horizon step, (horizon,), as ``metrics.step_scores`` gives it.

    The mean over series of the step's absolute error over the series' in-sample
    seasonal-naive MAE, so the mean over the steps is the set's MASE.
    """
    return _scored(step_scores, data, predicted)["mase"].to_numpy()


def _scored(
    scorer: Callable[..., pd.DataFrame], data: Competition, predicted: pd.DataFrame
) -> pd.DataFrame:
    """``scorer`` (evaluate or step_scores) of the ``yhat`` forecasts on the test."""
    return scorer(
        predicted.rename(columns={"yhat": "model"}),
        data.test,
        data.train,
        models=["model"],
        season_length=data.season_length,
    )


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value,key=value`` -> (name, params); values are Python literals.

    A comma starts a new item only before ``key=``, so tuples are values:
    ``d1:hidden=(64,64),dilations=(1,4),seed=1``.
    """
    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, re.split(r",(?=\w+=)", rest)):
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return name, params


def run(
    data: Competition,
    models: list[str],
    configs: dict[str, dict[str, Any]],
    cache: Path | None,
    save: Path | None = None,
    steps: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Score every model on ``data``; ``steps``, if given, gets their step errors."""
    rows: dict[str, dict[str, float]] = {}
    kept: dict[str, tuple[pd.DataFrame, float]] = {}
    for name in models:
        if name in BASELINES:
            predicted, seconds = cached_baseline(name, data, cache)
            kept[name] = (predicted, seconds)
        elif name == "comb":
            parts = [kept.get(m) or cached_baseline(m, data, cache) for m in COMBINED]
            predicted = combination([p for p, _ in parts])
            seconds = sum(s for _, s in parts)
        elif name in configs:
            start = time.perf_counter()
            predicted, _ = rnncast_forecast(configs[name], data)
            seconds = time.perf_counter() - start
        else:
            raise SystemExit(f"unknown model {name!r}")
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            predicted.to_parquet(save / f"{data.name}-{name}.parquet")
        rows[name] = {**score(data, predicted), "seconds": seconds}
        if steps is not None:
            steps[name] = step_errors(data, predicted)
        print(f"  {name}: MASE {rows[name]['mase']:.3f} ({seconds:.0f} s)", flush=True)
    table = pd.DataFrame(rows).T
    if "snaive" not in table.index:
        predicted, seconds = cached_baseline("snaive", data, cache)
        reference = score(data, predicted)
    else:
        reference = table.loc["snaive"].to_dict()
    table["owa"] = 0.5 * (
        table["mase"] / reference["mase"] + table["smape"] / reference["smape"]
    )
    return table


def print_table(data: Competition, table: pd.DataFrame) -> None:
    n = data.train["unique_id"].nunique()
    print(f"\n## {data.name}: {n} series, horizon {data.horizon}\n")
    print("| model | MASE | sMAPE % | OWA | seconds |")
    print("|---|---|---|---|---|")
    for model, row in table.iterrows():
        print(
            f"| {model} | {row['mase']:.3f} | {row['smape']:.2f} | {row['owa']:.3f} "
            f"| {row['seconds']:.0f} |"
        )
    classics = [m for m in COMBINED if m in table.index]
    for model in [m for m in table.index if m not in (*BASELINES, "comb")]:
        if not classics:
            break
        best = min(classics, key=lambda m: table.loc[m, "mase"])
        gap = 100 * (table.loc[model, "mase"] / table.loc[best, "mase"] - 1)
        beaten = [
            m for m in classics if table.loc[model, "mase"] < table.loc[m, "mase"]
        ]
        print(
            f"\n{model}: MASE {gap:+.1f} % against the best classic ({best}); "
            f"beats {', '.join(beaten) or 'none'} of {', '.join(classics)}."
        )


def print_steps(steps: dict[str, np.ndarray]) -> None:
    """Each model's mean scaled error per horizon step (:func:`step_errors`)."""
    horizon = len(next(iter(steps.values())))
    print("\nScaled absolute error per horizon step (their mean is MASE):\n")
    print("| model | " + " | ".join(str(k + 1) for k in range(horizon)) + " |")
    print("|---|" + "---|" * horizon)
    for model, errors in steps.items():
        print(f"| {model} | " + " | ".join(f"{e:.3f}" for e in errors) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument(
        "--models",
        nargs="+",
        default=["snaive", "ets", "arima", "theta", "comb", "rnncast"],
    )
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--save", type=Path)
    parser.add_argument(
        "--by-step", action="store_true", help="also print errors per horizon step"
    )
    args = parser.parse_args()
    configs = dict(CONFIGS)
    for text in args.config:
        name, params = parse_config(text)
        configs[name] = params
        if name not in args.models:
            args.models.append(name)
    print(
        f"rnncast {__version__}, torch {torch.__version__}, statsforecast "
        f"{statsforecast.__version__}, numpy {np.__version__}, pandas "
        f"{pd.__version__}; {platform.machine()}, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads"
    )
    for name in args.models:
        if configs.get(name):
            print(f"  {name}: {configs[name]}")
    for dataset in args.datasets:
        data = load(dataset)
        steps: dict[str, np.ndarray] | None = {} if args.by_step else None
        table = run(data, args.models, configs, args.cache, args.save, steps)
        print_table(data, table)
        if steps:
            print_steps(steps)


if __name__ == "__main__":
    main()
