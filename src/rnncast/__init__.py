"""rnncast: forecast time series with recurrent neural networks (RNN, LSTM, GRU).

>>> from rnncast import Forecaster
>>> Forecaster(horizon=12, cell="gru")
Forecaster(horizon=12, cell='gru')
"""

from rnncast._version import __version__
from rnncast.backtest import BacktestResult, backtest
from rnncast.baselines import Drift, Naive, SeasonalNaive
from rnncast.exceptions import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    RnncastError,
)
from rnncast.forecaster import Forecaster
from rnncast.tune import TuneResult, tune

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
