"""Time to accuracy on a long hourly panel: rnncast against NeuralForecast and Darts.

Usage: .bench/bin/python benchmarks/long_panel.py [--dataset ett-hourly]
       [--budgets 50 100 200 400] [--seeds 0] [--skip-peer] [--peer-steps 400]
       [--darts-epochs 1 2] [--skip-defaults]

The panel is ``ett-hourly`` of competition_data.py unless ``--dataset`` names
another of its sets: 224 hourly series of 1,040 values (ETTh1 and ETTh2 cut into
pieces), horizon 48, scored by MASE (season 24) on the 48 values after each
series (``tourism-monthly``: 366 series, horizon 24, season 12). Every fit runs
in this process, one after the other, and its wall time is fit + predict
(imports excluded):

* ``neuralforecast``: NeuralForecast's ``LSTM(h=H)`` with its defaults (input 3 x
  horizon, 1,000 steps, MAE loss), the peer's out-of-the-box forecast, and the
  same with ``max_steps`` set to each of ``--peer-steps`` (its accuracy at
  another wall time);
* ``darts``: Darts' ``BlockRNNModel(model="LSTM", input_chunk_length=3 x H,
  output_chunk_length=H)`` with its other defaults (25 units, batches of 32,
  MSE loss) for each of ``--darts-epochs`` epochs. Its default of 100 epochs
  over every window (about 190,000 windows an epoch on ett-hourly) is far too
  long to run on a CPU; the epochs it does run say what one costs;
* ``rnncast``: ``Forecaster(horizon=48)`` with its defaults;
* ``rnncast max_steps=N``: the defaults with each training (the validated one and
  the refit) stopped after N optimiser steps: the budget at which rnncast reaches
  the peer's accuracy, and what it costs.

Needs the benchmark environment of ``requirements.txt`` (``--skip-peer`` runs
rnncast only, in the development environment).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import pandas as pd
import torch

from competition_data import Competition, load
from rnncast import Forecaster, __version__
from rnncast.evaluation.metrics import evaluate


def score(data: Competition, predicted: pd.DataFrame) -> dict[str, float]:
    """Mean MASE and sMAPE over the series of the ``yhat`` forecasts on the test."""
    scores = evaluate(
        predicted.rename(columns={"yhat": "model"}),
        data.test,
        data.train,
        models=["model"],
        season_length=data.season_length,
    )
    return {name: float(scores[name].mean()) for name in ("mase", "smape")}


def timed_rnncast(data: Competition, **params: Any) -> tuple[float, float]:
    """(MASE, seconds) of a default Forecaster with ``params`` on ``data``."""
    start = time.perf_counter()
    model = Forecaster(horizon=data.horizon, freq=data.freq, **params)
    predicted = model.fit(data.train).predict()
    seconds = time.perf_counter() - start
    return score(data, predicted)["mase"], seconds


def neuralforecast_forecast(
    data: Competition, seed: int, name: str = "LSTM", **settings: Any
) -> tuple[pd.DataFrame, float]:
    """(forecasts ``yhat``, seconds) of NeuralForecast's model ``name`` at its defaults.

    Only the horizon, the seed and the CPU are given, and the input size of
    3 x horizon that the recurrent models default to (``xLSTM`` needs it
    spelt out); ``name`` is a class of ``neuralforecast.models`` (``LSTM``,
    ``xLSTM``, ``DilatedRNN``, ...). Sets with series shorter than one window
    (input + horizon; Tourism quarterly) get ``start_padding_enabled=True``,
    without which NeuralForecast refuses them. ``settings`` (``max_steps=400``)
    replace defaults.
    """
    import neuralforecast.models
    from neuralforecast import NeuralForecast

    start = time.perf_counter()
    shortest = int(data.train.groupby("unique_id").size().min())
    model = getattr(neuralforecast.models, name)(
        h=data.horizon,
        input_size=3 * data.horizon,
        start_padding_enabled=shortest < 4 * data.horizon,
        random_seed=seed,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        **settings,
    )
    nf = NeuralForecast(models=[model], freq=data.freq)
    nf.fit(data.train)
    predicted = nf.predict()
    seconds = time.perf_counter() - start
    if "unique_id" not in predicted.columns:
        predicted = predicted.reset_index()
    predicted = predicted.rename(columns={name: "yhat"})[["unique_id", "ds", "yhat"]]
    return predicted, seconds


def timed_darts(data: Competition, seed: int, epochs: int) -> tuple[float, float]:
    """(MASE, seconds) of Darts' BlockRNNModel LSTM, its defaults but ``epochs``."""
    import numpy as np
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    start = time.perf_counter()
    series = TimeSeries.from_group_dataframe(
        data.train, group_cols="unique_id", time_col="ds", value_cols="y"
    )
    series = [s.astype(np.float32) for s in series]
    model = BlockRNNModel(
        model="LSTM",
        input_chunk_length=3 * data.horizon,
        output_chunk_length=data.horizon,
        n_epochs=epochs,
        use_static_covariates=False,  # the series id only names the rows
        random_state=seed,
        pl_trainer_kwargs={
            "accelerator": "cpu",
            "logger": False,
            "enable_progress_bar": False,
            "enable_checkpointing": False,
            "enable_model_summary": False,
        },
    )
    model.fit(series, verbose=False)
    forecasts = model.predict(data.horizon, series=series, verbose=False)
    seconds = time.perf_counter() - start
    predicted = pd.concat(
        pd.DataFrame(
            {
                "unique_id": s.static_covariates["unique_id"].iloc[0],
                "ds": f.time_index,
                "yhat": f.values().ravel(),
            }
        )
        for s, f in zip(series, forecasts, strict=True)
    )
    return score(data, predicted)["mase"], seconds


def timed_neuralforecast(
    data: Competition, seed: int, **settings: Any
) -> tuple[float, float]:
    """(MASE, seconds) of NeuralForecast's LSTM, its defaults but ``settings``."""
    predicted, seconds = neuralforecast_forecast(data, seed, **settings)
    return score(data, predicted)["mase"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ett-hourly")
    parser.add_argument("--budgets", type=int, nargs="*", default=[50, 100, 200, 400])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--peer-steps", type=int, nargs="*", default=[])
    parser.add_argument("--darts-epochs", type=int, nargs="*", default=[])
    parser.add_argument("--skip-defaults", action="store_true")
    args = parser.parse_args()
    print(
        f"rnncast {__version__}, torch {torch.__version__}; {platform.machine()}, "
        f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    )
    data = load(args.dataset)
    rows = []
    for seed in args.seeds:
        if not args.skip_peer:
            mase, seconds = timed_neuralforecast(data, seed)
            rows.append(("neuralforecast LSTM defaults", seed, mase, seconds))
            print(rows[-1], flush=True)
        for steps in args.peer_steps:
            mase, seconds = timed_neuralforecast(data, seed, max_steps=steps)
            rows.append((f"neuralforecast LSTM max_steps={steps}", seed, mase, seconds))
            print(rows[-1], flush=True)
        for epochs in args.darts_epochs:
            mase, seconds = timed_darts(data, seed, epochs)
            rows.append((f"darts BlockRNNModel n_epochs={epochs}", seed, mase, seconds))
            print(rows[-1], flush=True)
        for budget in args.budgets:
            mase, seconds = timed_rnncast(data, seed=seed, max_steps=budget)
            rows.append((f"rnncast max_steps={budget}", seed, mase, seconds))
            print(rows[-1], flush=True)
        if not args.skip_defaults:
            mase, seconds = timed_rnncast(data, seed=seed)
            rows.append(("rnncast defaults", seed, mase, seconds))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows, columns=["model", "seed", "mase", "seconds"])
    print("\n| model | seed | MASE | seconds |\n|---|---|---|---|")
    for row in table.itertuples():
        print(f"| {row.model} | {row.seed} | {row.mase:.3f} | {row.seconds:.0f} |")


if __name__ == "__main__":
    main()
