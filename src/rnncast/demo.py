"""The demo: LSTM, GRU and vanilla RNN against seasonal naive on a real series.

Trains each network on the airline passengers series (1949-1959), forecasts 1960,
scores every model with all metrics and draws the forecasts. The networks' forecasts
are mixed with the Theta method's (the default ``combine="theta"``), so the Theta
forecast alone is scored too, and each network's share of its mix is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rnncast.baselines import SeasonalNaive
from rnncast.datasets import load_air_passengers
from rnncast.evaluation.metrics import evaluate
from rnncast.evaluation.plotting import plot_forecasts
from rnncast.forecaster import Forecaster
from rnncast.io import write_frame

__all__ = ["DemoResult", "run_demo"]

HORIZON = 12
SEASON = 12
CELLS = ("lstm", "gru", "rnn")


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the metrics table and the files it wrote."""

    metrics: pd.DataFrame  # one row per model, sorted by MASE
    seconds: dict[str, float]  # fit + predict wall time per model
    files: list[Path]
    weights: dict[str, float]  # each network's weight in its mix with Theta


def run_demo(
    output_dir: Path,
    *,
    epochs: int = 200,
    seed: int = 0,
    progress: bool = False,
    on_model: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo; write ``forecast.png``, ``forecasts.csv`` and ``metrics.csv``."""
    data = load_air_passengers()
    train, test = data.iloc[:-HORIZON], data.iloc[-HORIZON:]
    forecasts = (
        SeasonalNaive(horizon=HORIZON, season_length=SEASON).fit(train).predict()
    )
    seconds: dict[str, float] = {}
    weights: dict[str, float] = {}
    for cell in CELLS:
        if on_model is not None:
            on_model(cell)
        start = time.perf_counter()
        model = Forecaster(
            cell=cell,
            horizon=HORIZON,
            lookback=36,
            hidden=(128, 64),
            epochs=epochs,
            seed=seed,
            progress=progress,
        ).fit(train)
        forecasts[cell] = model.predict()["yhat"].to_numpy()
        seconds[cell] = time.perf_counter() - start
        weights[cell] = model.combine_weight_
    forecasts["theta"] = model.classical_[0]  # the same for every network
    models = [*CELLS, "theta", "snaive"]
    scores = evaluate(forecasts, test, train, models=models, season_length=SEASON)
    scores = scores.drop(columns="unique_id").sort_values("mase", ignore_index=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    files = [
        output_dir / "forecast.png",
        output_dir / "forecasts.csv",
        output_dir / "metrics.csv",
    ]
    plot_forecasts(
        files[0],
        train,
        forecasts,
        models=models,
        actuals=test,
        history_points=60,
        title="Airline passengers (thousands): forecasts of 1960 from 1949-1959",
    )
    write_frame(forecasts, files[1])
    write_frame(scores, files[2])
    return DemoResult(metrics=scores, seconds=seconds, files=files, weights=weights)
