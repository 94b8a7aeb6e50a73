"""What the default intervals cost: fit and predict with and without them.

Usage: python benchmarks/interval_cost.py [--repeats 3] [--max-steps 300]

Fits ``Forecaster(horizon=24)`` on the Tourism monthly training series shipped in
rnncast (366 series) with ``intervals="auto"`` (the default) and ``intervals=None``,
alternately, ``--repeats`` times each, every fit capped at ``--max-steps``
optimiser steps so that both train the same number of steps; then times
``predict()`` and ``predict(level=[80, 95])``. Prints the median and range of each,
and checks that the point forecasts are the same.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from rnncast import Forecaster, __version__
from rnncast.datasets import load_tourism_monthly


def timed(call):
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=300)
    args = parser.parse_args()
    data = load_tourism_monthly("train")
    seconds: dict[str, list[float]] = {}
    models = {}
    for _ in range(args.repeats):
        for label, intervals in (("auto", "auto"), ("none", None)):
            model, spent = timed(
                lambda i=intervals: Forecaster(
                    horizon=24, intervals=i, max_steps=args.max_steps
                ).fit(data)
            )
            seconds.setdefault(f"fit, intervals={label}", []).append(spent)
            models[label] = model
    auto = models["auto"]
    for label, level in (("predict()", None), ("predict(level=[80, 95])", [80, 95])):
        for _ in range(args.repeats):
            _, spent = timed(lambda lv=level: auto.predict(level=lv))
            seconds.setdefault(label, []).append(spent)
    same = models["auto"].predict().equals(models["none"].predict())
    print(f"rnncast {__version__}; Tourism monthly, 366 series, horizon 24")
    rows = [
        {
            "what": what,
            "median s": round(statistics.median(values), 3),
            "min s": round(min(values), 3),
            "max s": round(max(values), 3),
        }
        for what, values in seconds.items()
    ]
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"the same point forecasts with and without intervals: {same}")


if __name__ == "__main__":
    main()
