"""The fixed cost of a default fit and forecast: everything that is not training.

Usage: python benchmarks/fixed_cost.py [--device cpu|cuda] [--repeats 3] [--profile]

For one small series (the air passengers, 1949-1959, horizon 12) it times, in a
fresh process each time (so imports and the device start count, as for a user):

* ``import rnncast`` and ``import rnncast.forecaster`` (which brings torch and
  pandas);
* a default ``Forecaster(horizon=12).fit(train).predict(level=[80, 95])``, split
  into the optimiser steps and validation passes of ``rnncast.training.train``
  (training), the classical fits of the mix, the data checks and reports, the
  first optimiser's construction (which imports torch's compiler machinery), and
  the rest.

``--profile`` prints cProfile's 25 most expensive calls (cumulative) of one fit.
Each figure is the median over ``--repeats`` fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
start = time.perf_counter()
import rnncast.forecaster
imported = time.perf_counter() - start
from rnncast import Forecaster
from rnncast.datasets import load_air_passengers
from rnncast.forecaster import estimator, fitting
from rnncast import combine, training

spent = {
    "training": 0.0,
    "classical fits": 0.0,
    "data checks": 0.0,
    "data report": 0.0,
    "optimiser": 0.0,
}

def timed(module, name, key):
    original = getattr(module, name)
    def call(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - t
    setattr(module, name, call)

timed(fitting, "train", "training")
timed(combine, "classical_forecasts", "classical fits")
timed(estimator, "read_series", "data checks")
timed(estimator, "data_report", "data report")
timed(training, "adam", "optimiser")
data = load_air_passengers().iloc[:-12]
device = sys.argv[1]
profile = sys.argv[2] == "1"
if profile:
    import cProfile, pstats
    profiler = cProfile.Profile()
    profiler.enable()
t = time.perf_counter()
model = Forecaster(horizon=12, device=device, progress=False).fit(data)
model.predict(level=[80, 95])
total = time.perf_counter() - t
if profile:
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
spent["training"] -= spent["optimiser"]  # the optimiser is built inside train
steps = len([r for r in model.history_])
print(json.dumps({"import": imported, "fit+predict": total, "epochs": steps, **spent}))
"""


def import_seconds(module: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, device {args.device}"
    )
    bare = statistics.median(import_seconds("rnncast") for _ in range(args.repeats))
    print(f"python -c 'import rnncast' (process included): {bare:.2f} s")
    runs = []
    for i in range(args.repeats):
        profile = "1" if args.profile and i == 0 else "0"
        out = subprocess.run(
            [sys.executable, "-c", CHILD, args.device, profile],
            check=True,
            capture_output=True,
            text=True,
        )
        if profile == "1":
            print(out.stderr)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    fixed = median["fit+predict"] - median["training"]
    print(f"import rnncast.forecaster (torch, pandas): {median['import']:.2f} s")
    print(f"fit + predict(level=[80, 95]): {median['fit+predict']:.2f} s")
    print(f"  training (steps and validation passes): {median['training']:.2f} s")
    print(f"  first optimiser (imports torch._dynamo): {median['optimiser']:.2f} s")
    print(f"  classical fits of the mix: {median['classical fits']:.2f} s")
    print(f"  reading and checking the data: {median['data checks']:.2f} s")
    print(f"  data report (outliers, seasonality): {median['data report']:.2f} s")
    print(
        f"not training: {fixed:.2f} s in the fit, {fixed + median['import']:.2f} s "
        "with the import"
    )


if __name__ == "__main__":
    main()
