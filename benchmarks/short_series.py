"""Short series: padding against a shorter lookback, and the network against Theta.

Usage: python benchmarks/short_series.py [--seeds 0 1 2] [--parts window,lookback,tiny]

Built from the Tourism monthly series shipped in rnncast (366 series, forecast 24
months; the competition's test part scores every forecast) by truncating a share of
the training series to their last few values, as young series (new products, new
sensors) are:

* ``window``: 20 % of the series cut to 60-95 months, too short for the default
  lookback (48) + horizon (24) + validation (24) but long enough for a lookback of
  12. Padded and masked (``missing="mask"``, what the default ``"auto"`` does here)
  against one shorter lookback for every series (``lookback=12``, no masking).
* ``lookback``: 20 % cut to 2-59 months; the padded network on every series
  (no Theta fallback) against the Theta method, by the length of the short series.
* ``tiny``: 30 % cut to 1-12 months; the padded network (no fallback) against
  Theta and the naive forecast (the last value), by length.

Each truncated set is drawn once (fixed seeds below); each fit is repeated with the
network seeds given. MASE uses each series' untruncated training part for its scale,
so the scores of a series are comparable across its truncations. Prints one JSON
line per fit and a summary table (mean and spread over seeds).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

import rnncast.forecaster.plan as plan
from rnncast import Forecaster, __version__
from rnncast.classical import classical_forecasts
from rnncast.datasets import load_tourism_monthly

HORIZON, SEASON = 24, 12
PANELS = {  # part: (share truncated, shortest, longest, draw seed)
    "window": (0.2, 60, 95, 0),
    "lookback": (0.2, 2, 59, 0),
    "tiny": (0.3, 1, 12, 1),
}
LENGTHS = {
    "window": [(60, 95)],
    "lookback": [(2, 6), (7, 12), (13, 24), (25, 36), (37, 48), (49, 59)],
    "tiny": [(n, n) for n in range(1, 13)],
}


def truncated(train: pd.DataFrame, part: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return the training part with a share of its series cut to their last values."""
    share, shortest, longest, seed = PANELS[part]
    rng = np.random.default_rng(seed)
    ids = train["unique_id"].unique()
    short = rng.choice(ids, size=int(len(ids) * share), replace=False)
    keep = {uid: int(rng.integers(shortest, longest + 1)) for uid in short}
    parts = [
        group.tail(keep[uid]) if uid in keep else group
        for uid, group in train.groupby("unique_id", sort=False)
    ]
    return pd.concat(parts, ignore_index=True), keep


def scores(
    forecasts: pd.DataFrame, test: pd.DataFrame, scale: pd.Series, column: str
) -> pd.Series:
    """MASE of each series' ``column``."""
    joined = forecasts.merge(test, on=["unique_id", "ds"])
    error = (joined[column] - joined["y"]).abs().groupby(joined["unique_id"]).mean()
    return error / scale.loc[error.index]


def classical(data: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """Return Theta and naive forecasts of every series, on the rows of ``forecast``."""
    data = data.sort_values(["unique_id", "ds"])
    sizes = data.groupby("unique_id").size()
    starts = np.r_[0, np.cumsum(sizes.to_numpy())][:-1]
    theta = classical_forecasts(
        data["y"].to_numpy(), starts, sizes.to_numpy(), HORIZON, SEASON
    )
    last = data.groupby("unique_id")["y"].last().loc[sizes.index].to_numpy()
    rows = forecast.sort_values(["unique_id", "ds"])[["unique_id", "ds"]]
    return rows.assign(theta=theta.reshape(-1), naive=np.repeat(last, HORIZON))


def run(part: str, seed: int, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    data, keep = truncated(train, part)
    scale = train.groupby("unique_id")["y"].apply(
        lambda y: np.mean(np.abs(y.to_numpy()[SEASON:] - y.to_numpy()[:-SEASON]))
    )
    variants = {"padded": {"missing": "mask"}}
    if part == "window":
        variants["lookback 12"] = {"lookback": 12, "missing": "error"}
    result: dict = {"part": part, "seed": seed}
    for name, settings in variants.items():
        start = time.perf_counter()
        forecast = (
            Forecaster(horizon=HORIZON, seed=seed, **settings).fit(data).predict()
        )
        result[f"{name} seconds"] = round(time.perf_counter() - start, 1)
        mase = scores(forecast, test, scale, "yhat")
        longer = [uid for uid in mase.index if uid not in keep]
        result[f"{name}: untruncated"] = float(mase[longer].mean())
        result[f"{name}: truncated"] = float(mase[list(keep)].mean())
        if name != "padded":
            continue
        others = classical(data, forecast)
        baselines = {m: scores(others, test, scale, m) for m in ("theta", "naive")}
        for shortest, longest in LENGTHS[part]:
            uids = [u for u, n in keep.items() if shortest <= n <= longest]
            label = f"{shortest}-{longest}" if shortest < longest else str(shortest)
            result[f"{label} series"] = len(uids)
            result[f"{label} network"] = float(mase[uids].mean())
            for method, scored in baselines.items():
                result[f"{label} {method}"] = float(scored[uids].mean())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--parts", default="window,lookback,tiny")
    args = parser.parse_args()
    # measure the network on every series: no Theta fallback for the shortest
    plan.MIN_VALUES = 1
    train, test = load_tourism_monthly("train"), load_tourism_monthly("test")
    rows = []
    for part in args.parts.split(","):
        for seed in args.seeds:
            row = run(part, seed, train, test)
            print(json.dumps(row), flush=True)
            rows.append(row)
    table = pd.DataFrame(rows).drop(columns="seed").groupby("part")
    summary = table.agg(["mean", "min", "max"]).T.dropna(how="all")
    print(f"\nrnncast {__version__}; mean, min, max over seeds {args.seeds}")
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
