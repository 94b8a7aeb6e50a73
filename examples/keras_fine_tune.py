"""Keras in rnncast: the text's LSTM imported, fine-tuned and backtested.

Run: python examples/keras_fine_tune.py [SERIES]
     (pip install 'rnncast[keras,pmdarima]'; Keras runs on its PyTorch backend.
     With the default 40 series it takes about an hour on 2 CPU cores, 56
     minutes of it pmdarima's auto_arima; ``python examples/keras_fine_tune.py
     12`` is a quicker look.)

1. The model of the forecasting text rnncast grew from, written in Keras as the
   text does: ``Sequential([LSTM(128, return_sequences=True), LSTM(64),
   Dense(1)])``, MSE, Adam, each series min-max scaled, windows of 24 months ->
   the next month. It trains on 40 Tourism monthly series, only on the values
   before the backtest's first cutoff, so no backtest window is seen.
2. A backtest of 3 windows of 12 months compares:

   * ``keras``: the Keras model as trained (its scaling; one month forecast
     and fed back, 12 times), computed by the rnncast network that
     :func:`rnncast.interop.keras.keras_network` reads from the file;
   * ``keras-tuned``: ``Forecaster.from_keras``: the same weights fine-tuned
     at every cutoff with rnncast's scaling, window start, early stopping and
     Theta mix, on a short budget;
   * ``lstm``: rnncast's defaults, from a random start;
   * ``pmdarima``: ``auto_arima``, seasonal; ``snaive``: the reference.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pandas as pd
import torch

from rnncast import Forecaster, backtest
from rnncast.datasets import load_tourism_monthly
from rnncast.interop.keras import keras_network

LOOKBACK, HORIZON, WINDOWS, SERIES = 24, 12, 3, 40
KERAS_EPOCHS = 15


def panel(count: int) -> pd.DataFrame:
    """``count`` Tourism monthly series of 10 years or more, spread over the ids."""
    data = load_tourism_monthly()
    lengths = data.groupby("unique_id").size()
    long = sorted(lengths[lengths >= 120].index, key=lambda s: int(s[1:]))
    chosen = long[:: max(1, len(long) // count)][:count]
    return data[data["unique_id"].isin(chosen)].reset_index(drop=True)


def min_max(values: np.ndarray) -> tuple[float, float]:
    """Return the text's MinMaxScaler: ``(x - low) / span``, as ``(low, span)``."""
    low, high = float(values.min()), float(values.max())
    return low, max(high - low, 1e-12)


def train_keras(data: pd.DataFrame, path: Path) -> None:
    """Train the text's model on every window before the first cutoff."""
    import keras

    held = HORIZON * WINDOWS
    inputs, targets = [], []
    for _, series in data.groupby("unique_id"):
        values = series["y"].to_numpy(dtype=np.float64)[:-held]
        low, span = min_max(values)
        scaled = (values - low) / span
        for end in range(LOOKBACK, len(scaled)):
            inputs.append(scaled[end - LOOKBACK : end])
            targets.append(scaled[end])
    x = np.asarray(inputs, dtype=np.float32)[:, :, None]
    y = np.asarray(targets, dtype=np.float32)[:, None]
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((LOOKBACK, 1)),
            keras.layers.LSTM(128, return_sequences=True),
            keras.layers.LSTM(64),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    started = time.perf_counter()
    model.fit(x, y, epochs=KERAS_EPOCHS, batch_size=64, verbose=0)
    print(
        f"Keras: {len(x)} windows x {KERAS_EPOCHS} epochs in "
        f"{time.perf_counter() - started:.0f} s"
    )
    model.save(path)


class KerasAsTrained:
    """The Keras model as the text uses it, in rnncast's model protocol.

    Each series is min-max scaled on the history it is given; the last
    ``LOOKBACK`` scaled values give the next month, which is fed back until
    ``horizon`` months exist, then scaled back.
    """

    def __init__(self, path: str, horizon: int | None = None) -> None:
        self.path = path
        self.horizon = horizon

    name = "keras"
    forecast_column = "keras"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's parameters."""
        return {"path": self.path, "horizon": self.horizon}

    def set_params(self, **params: Any) -> KerasAsTrained:
        """Set parameters by name; return the model."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, data: pd.DataFrame) -> KerasAsTrained:
        """Read the Keras model; keep the histories to forecast from."""
        self.network_ = keras_network(self.path)
        self.data_ = data
        return self

    def predict(self, data: Any = None, *, level: Any = None) -> pd.DataFrame:
        """Forecast each series recursively from its last LOOKBACK values."""
        history = self.data_ if data is None else data
        rows = []
        for uid, series in history.groupby("unique_id", sort=False):
            values = series["y"].to_numpy(dtype=np.float64)
            low, span = min_max(values)
            window = torch.as_tensor((values[-LOOKBACK:] - low) / span).float()
            steps = []
            with torch.no_grad():
                for _ in range(int(self.horizon)):
                    step = self.network_(window[None, :, None])[0, 0]
                    steps.append(float(step))
                    window = torch.cat([window[1:], step[None]])
            dates = pd.date_range(
                series["ds"].iloc[-1], periods=len(steps) + 1, freq="MS"
            )
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": uid,
                        "ds": dates[1:],
                        "keras": np.asarray(steps) * span + low,
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)


def main() -> None:
    data = panel(int(sys.argv[1]) if len(sys.argv) > 1 else SERIES)
    print(
        f"{data['unique_id'].nunique()} Tourism monthly series, "
        f"{len(data)} values; backtest: {WINDOWS} windows of {HORIZON} months"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "text_lstm.keras"
        train_keras(data, path)
        tuned = Forecaster.from_keras(
            path,
            alias="keras-tuned",
            lookback=LOOKBACK,
            max_steps=300,
            progress=False,
        )
        result = backtest(
            data,
            [KerasAsTrained(str(path)), tuned, "lstm", "pmdarima", "snaive"],
            horizon=HORIZON,
            n_windows=WINDOWS,
            neural_params={"progress": False},
        )
    columns = ["mase", "smape", "owa", "fit_seconds"]
    board = result.leaderboard.set_index("model")[columns]
    print(board.round(3).to_string())


if __name__ == "__main__":
    sys.exit(main())
