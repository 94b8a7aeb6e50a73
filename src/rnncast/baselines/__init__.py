"""Benchmark forecasters with the same interface as :class:`~rnncast.Forecaster`.

* ``simple``: naive, seasonal naive and drift as pure functions over one series;
* ``base``: :class:`Baseline`, the local model fitted series by series in worker
  processes under a time limit, with fallbacks, intervals and JSON files;
* ``models``: the baselines themselves, by alias (``BASELINES``);
* ``classic``: pmdarima's and statsmodels' models, and :class:`OwnModel` for a
  user's configured one.
"""

from rnncast.baselines.base import Baseline, make_baseline
from rnncast.baselines.classic import (
    OwnModel,
    PmdarimaAutoARIMA,
    StatsmodelsETS,
    StatsmodelsSARIMAX,
)
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

# every baseline by alias: naive, snaive, drift, arima, ets, theta, mstl, prophet,
# pmdarima, sm-ets, sarimax
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
    "OwnModel",
    "PmdarimaAutoARIMA",
    "Prophet",
    "SeasonalNaive",
    "StatsmodelsETS",
    "StatsmodelsSARIMAX",
    "drift",
    "make_baseline",
    "naive",
    "seasonal_naive",
]
