"""rnncast: forecast time series with recurrent networks (RNN, LSTM, GRU, xLSTM).

>>> from rnncast import Forecaster
>>> Forecaster(horizon=12, cell="gru")
Forecaster(horizon=12, cell='gru')

The public names below load on first use, so ``import rnncast`` (and the command
line's ``--help``) does not import torch until a model is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rnncast.exceptions import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    RnncastError,
)
from rnncast.version import __version__

if TYPE_CHECKING:
    from rnncast.baselines import Drift, Naive, SeasonalNaive
    from rnncast.evaluation.backtest import BacktestResult, backtest
    from rnncast.evaluation.tune import TuneResult, tune
    from rnncast.forecaster import Forecaster

__all__ = [
    "BacktestResult",
    "ConfigError",
    "DataError",
    "Drift",
    "Forecaster",
    "ModelFileError",
    "Naive",
    "NotFittedError",
    "RnncastError",
    "SeasonalNaive",
    "TuneResult",
    "__version__",
    "backtest",
    "tune",
]

# where each lazily loaded public name lives
_LAZY = {
    "BacktestResult": "rnncast.evaluation.backtest",
    "backtest": "rnncast.evaluation.backtest",
    "Drift": "rnncast.baselines",
    "Naive": "rnncast.baselines",
    "SeasonalNaive": "rnncast.baselines",
    "Forecaster": "rnncast.forecaster",
    "TuneResult": "rnncast.evaluation.tune",
    "tune": "rnncast.evaluation.tune",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rnncast' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
