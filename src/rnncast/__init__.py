"""rnncast: forecast time series with recurrent networks (RNN, LSTM, GRU, xLSTM).

>>> from rnncast import Forecaster
>>> Forecaster(horizon=12, cell="gru")
Forecaster(horizon=12, cell='gru')

The public names below load on first use, so ``import rnncast`` (and the command
line's ``--help``) does not import torch until a model is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnncast.exceptions import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    RnncastError,
)
from rnncast.lazy import lazy_names
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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
