"""Covariates measured: each model with and without them, on the shipped real data.

Usage: python benchmarks/covariates.py [--datasets traffic_weather ett_covariates]
       [--seeds 0 1 2] [--hours 1500] [--windows 7] [--step 24] [--skip-prophet]

Two datasets that ship with rnncast (``rnncast.datasets``):

* ``traffic_weather``: hourly I-94 traffic volume with the weather of the hour
  (temp, rain_1h, clouds_all and rain/snow/fog flags) as future-known covariates.
  The weather is observed, so it stands for a perfect weather forecast: an upper
  bound on what a real forecast would give. US public holidays come from
  ``calendar=True, holidays="US"``.
* ``ett_covariates``: ETTh1's oil temperature with the six loads as past
  covariates (observed up to the forecast origin only).

Each is cut to its last ``--hours`` values (auto-ARIMA with a season of 24 takes
about two minutes per fit on 2,000 hours) and backtested with
``rnncast.backtest``: ``--windows`` cutoffs ``--step`` hours apart (7 days in a
row by default, so every weekday is forecast once), horizon 24, a refit at every
cutoff, 80 % intervals; missing targets are interpolated for every model alike.
No time limit: no model falls back to seasonal naive. Models:

* ``net``: ``Forecaster(horizon=24)`` with its defaults, the target only;
* ``net+calendar``: the same with ``calendar=True`` (and US holidays for traffic);
* ``net+covariates``: with the calendar and the dataset's covariates;
* ``arima`` / ``arima+X``: statsforecast's AutoARIMA (season 24) without and with
  the future-known covariates as regressors (``futr_exog``);
* ``prophet`` / ``prophet+X``: Prophet without and with the future-known
  covariates as regressors;
* ``snaive``: the seasonal naive forecast (the MASE reference).

Past covariates have no regressor form in auto-ARIMA or Prophet (their future
values are unknown), so ``arima+X`` and ``prophet+X`` run on traffic only. The
network rows repeat for each ``--seeds`` seed; the table gives the mean and the
spread (max - min). Prints a markdown table; each row names its model and data.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import pandas as pd
import torch

from rnncast import Forecaster, __version__, backtest
from rnncast.baselines import AutoARIMA, Prophet
from rnncast.datasets import load_dataset

HORIZON = 24
SETUPS: dict[str, dict[str, Any]] = {
    "traffic_weather": {
        "futr": ["temp", "rain_1h", "clouds_all", "rain", "snow", "fog"],
        "hist": [],
        "holidays": "US",
    },
    "ett_covariates": {
        "futr": [],
        "hist": ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"],
        "holidays": None,
    },
}


def _networks(setup: dict[str, Any], seed: int) -> list[Forecaster]:
    calendar = {"calendar": True, "holidays": setup["holidays"]}
    return [
        Forecaster(horizon=HORIZON, seed=seed, alias="net"),
        Forecaster(horizon=HORIZON, seed=seed, alias="net+calendar", **calendar),
        Forecaster(
            horizon=HORIZON,
            seed=seed,
            alias="net+covariates",
            futr_exog=setup["futr"],
            hist_exog=setup["hist"],
            **calendar,
        ),
    ]


def _baselines(setup: dict[str, Any], prophet: bool) -> list[Any]:
    models: list[Any] = [AutoARIMA(horizon=HORIZON, season_length=24, time_limit=None)]
    if setup["futr"]:
        models.append(
            AutoARIMA(
                horizon=HORIZON,
                season_length=24,
                time_limit=None,
                futr_exog=setup["futr"],
            )
        )
        if prophet:
            models.append(Prophet(horizon=HORIZON, time_limit=None))
            models.append(
                Prophet(horizon=HORIZON, time_limit=None, futr_exog=setup["futr"])
            )
    return models


def _run(models: list[Any], frame: pd.DataFrame, windows: int, step: int) -> Any:
    return backtest(
        frame,
        models,
        horizon=HORIZON,
        n_windows=windows,
        step=step,
        season_length=24,
        fill="interpolate",
        level=[80],
        time_limit=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(SETUPS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--hours", type=int, default=1500)
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--step", type=int, default=24)
    parser.add_argument("--skip-prophet", action="store_true")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    print(
        f"rnncast {__version__}, torch {torch.__version__}, "
        f"{platform.machine()} with {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads"
    )
    rows = []
    for name in args.datasets:
        setup = SETUPS[name]
        frame = load_dataset(name).groupby("unique_id").tail(args.hours)
        runs: list[tuple[int | None, list[Any]]] = [
            (seed, _networks(setup, seed)) for seed in args.seeds
        ]
        if not args.skip_baselines:
            runs.insert(0, (None, _baselines(setup, not args.skip_prophet)))
        for seed, models in runs:
            start = time.perf_counter()
            result = _run(models, frame, args.windows, args.step)
            board = result.leaderboard.set_index("model")
            for model in board.index:
                row = board.loc[model]
                rows.append(
                    {
                        "data": name,
                        "model": model,
                        "seed": seed,
                        "mase": row["mase"],
                        "smape": row["smape"],
                        "coverage_80": row["coverage_80"],
                        "fallbacks": row["fallbacks"],
                        "seconds": row["fit_seconds"] + row["predict_seconds"],
                    }
                )
            print(
                f"{name} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True
            )
    table = pd.DataFrame(rows)
    print(table.to_csv(index=False, float_format="%.4f"))
    _print_markdown(_summary(table))


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per data and model, with the MASE spread (max - min)."""
    grouped = table.groupby(["data", "model"], sort=False)
    summary = grouped[["mase", "smape", "coverage_80", "seconds", "fallbacks"]].mean()
    summary["mase_spread"] = grouped["mase"].max() - grouped["mase"].min()
    summary["runs"] = grouped.size()
    return summary.reset_index().drop_duplicates(["data", "model"])


def _print_markdown(frame: pd.DataFrame) -> None:
    print("| " + " | ".join(frame.columns) + " |")
    print("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
