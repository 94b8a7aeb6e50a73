"""How far the last training horizon predicts the test horizon's errors.

Usage: python benchmarks/calibration_shift.py [DATASET ...]

A model-free check of split-conformal calibration on competition data (from
../shared/data; default: Tourism quarterly and monthly, M3 monthly). The seasonal
naive forecasts each series' last ``horizon`` training values from the values
before them (the calibration window a network's validation holds out) and the
official test part from the whole training part. Errors are in MASE units (each
divided by the in-sample seasonal-naive MAE before its origin). Prints, per set:
the mean signed error and MASE on both windows, then the test coverage and mean
width of 80 % and 95 % intervals calibrated on the last training window, per
horizon step: symmetric (quantile of the absolute errors) and signed (each tail
from its own quantile of the errors). No network is trained, so what it shows is
the data's, not a model's.
"""

from __future__ import annotations

import argparse

import numpy as np
from numpy.typing import NDArray

from competition_data import load

LEVELS = (80, 95)


def snaive_errors(
    y: NDArray[np.float64], origin: int, horizon: int, season: int
) -> NDArray[np.float64]:
    """Errors ``y - yhat`` of the seasonal naive from ``origin``, in MASE units."""
    history = y[:origin]
    unit = np.mean(np.abs(history[season:] - history[:-season]))
    repeats = horizon // season + 1
    forecast = np.tile(history[-season:], repeats)[:horizon]
    return (y[origin : origin + horizon] - forecast) / unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "datasets",
        nargs="*",
        default=["tourism-quarterly", "tourism-monthly", "m3-monthly"],
    )
    for name in parser.parse_args().datasets:
        data = load(name)
        h, m = data.horizon, data.season_length
        train = {k: g["y"].to_numpy() for k, g in data.train.groupby("unique_id")}
        test = {k: g["y"].to_numpy() for k, g in data.test.groupby("unique_id")}
        last = np.array([snaive_errors(y, len(y) - h, h, m) for y in train.values()])
        future = np.array(
            [snaive_errors(np.r_[y, test[k]], len(y), h, m) for k, y in train.items()]
        )
        print(
            f"\n## {name}: {len(train)} series, horizon {h}\n\n"
            f"mean error (MASE): last training window {last.mean():+.2f} "
            f"({np.abs(last).mean():.3f}), test {future.mean():+.2f} "
            f"({np.abs(future).mean():.3f})\n\n"
            "| level | symmetric: coverage % | width | signed: coverage % | width |\n"
            "|---|---|---|---|---|"
        )
        for level in LEVELS:
            tail = (1 - level / 100) / 2
            half = np.quantile(np.abs(last), level / 100, axis=0)
            lower = np.quantile(last, tail, axis=0)
            upper = np.quantile(last, 1 - tail, axis=0)
            symmetric = np.abs(future) <= half
            signed = (future >= lower) & (future <= upper)
            print(
                f"| {level} | {100 * symmetric.mean():.1f} | {2 * half.mean():.2f} "
                f"| {100 * signed.mean():.1f} | {(upper - lower).mean():.2f} |"
            )


if __name__ == "__main__":
    main()
