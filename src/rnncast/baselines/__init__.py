"""Benchmark forecasters with the same interface as :class:`~rnncast.Forecaster`.

* ``simple``: naive, seasonal naive and drift as pure functions over one series;
* ``base``: :class:`Baseline`, the local model fitted series by series in worker
  processes under a time limit, with fallbacks, intervals and JSON files;
* ``models``: the baselines themselves, by alias (``BASELINES``).
"""

from rnncast.baselines.base import Baseline, make_baseline
from rnncast.baselines.models import (
    MSTL,
    AutoARIMA,
    AutoETS,
    AutoTheta,
    Drift,
    Naive,
    Prophet,
    SeasonalNaive,
)
from rnncast.baselines.simple import drift, naive, seasonal_naive

# every baseline by alias: naive, snaive, drift, arima, ets, theta, mstl, prophet
BASELINES = Baseline.registry

__all__ = [
    "BASELINES",
    "MSTL",
    "AutoARIMA",
    "AutoETS",
    "AutoTheta",
    "Baseline",
    "Drift",
    "Naive",
    "Prophet",
    "SeasonalNaive",
    "drift",
    "make_baseline",
    "naive",
    "seasonal_naive",
]
