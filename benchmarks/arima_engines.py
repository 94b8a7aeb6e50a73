"""statsforecast's AutoARIMA against pmdarima's auto_arima on Tourism monthly.

Usage: python benchmarks/arima_engines.py [--series 366] [--jobs 2]

Each of the shipped Tourism monthly series (its competition training part,
horizon 24) is fitted by both, with season 12: statsforecast
``AutoARIMA(season_length=12)`` and pmdarima ``auto_arima(y, seasonal=True,
m=12, stepwise=True, suppress_warnings=True, error_action="ignore")`` (the
settings pmdarima's documentation recommends), one series per task over
``--jobs`` worker processes. Prints MASE (season 12, on the 24-month test part),
the time per series (median, total CPU seconds), how often the two choose the
same orders, and the orders each chose most often.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import platform
import statistics
import time
import warnings

import numpy as np

from rnncast import __version__
from rnncast.datasets import load_tourism_monthly


def _fit(y: np.ndarray) -> dict:  # type: ignore[type-arg]
    import pmdarima as pm
    from statsforecast.models import AutoARIMA

    out = {}
    start = time.perf_counter()
    model = AutoARIMA(season_length=12).fit(y)
    out["statsforecast"] = (
        model.predict(24)["mean"],
        time.perf_counter() - start,
        _sf_orders(model.model_),
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = pm.auto_arima(
            y,
            seasonal=True,
            m=12,
            stepwise=True,
            suppress_warnings=True,
            error_action="ignore",
        )
    out["pmdarima"] = (
        np.asarray(fitted.predict(n_periods=24)),
        time.perf_counter() - start,
        (*fitted.order, *fitted.seasonal_order[:3]),
    )
    return out


def _sf_orders(model: dict) -> tuple[int, ...]:  # type: ignore[type-arg]
    """Return (p, d, q, P, D, Q) of a statsforecast ARIMA (``arma``: p q P Q m d D)."""
    p, q, big_p, big_q, _, d, big_d = model["arma"]
    return (p, d, q, big_p, big_d, big_q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=366)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    import pmdarima
    import statsforecast

    print(
        f"rnncast {__version__}, statsforecast {statsforecast.__version__}, "
        f"pmdarima {pmdarima.__version__}, {platform.machine()} with "
        f"{os.cpu_count()} cores, {args.jobs} worker processes"
    )
    train, test = load_tourism_monthly("train"), load_tourism_monthly("test")
    ids = list(train["unique_id"].unique())[: args.series]
    ys = [train.loc[train["unique_id"] == i, "y"].to_numpy() for i in ids]
    actual = [test.loc[test["unique_id"] == i, "y"].to_numpy() for i in ids]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(_fit, ys, chunksize=1)
    wall = time.perf_counter() - start
    print(f"both engines, all series: {wall:.0f} s wall")
    print("| engine | MASE | median s per series | CPU s in all |")
    print("|---|---|---|---|")
    for engine in ("statsforecast", "pmdarima"):
        scores, seconds = [], []
        for y, real, result in zip(ys, actual, results, strict=True):
            forecast, spent, _ = result[engine]
            scale = np.mean(np.abs(y[12:] - y[:-12]))
            scores.append(np.mean(np.abs(real - forecast)) / scale)
            seconds.append(spent)
        print(
            f"| {engine} | {np.mean(scores):.3f} | {statistics.median(seconds):.2f} "
            f"| {sum(seconds):.0f} |"
        )
    same = sum(r["statsforecast"][2] == r["pmdarima"][2] for r in results)
    print(f"same (p,d,q)(P,D,Q) chosen: {same} of {len(results)} series")
    for engine in ("statsforecast", "pmdarima"):
        common = collections.Counter(r[engine][2] for r in results).most_common(5)
        print(engine, "most chosen (p,d,q,P,D,Q):", common)


if __name__ == "__main__":
    main()
