"""Calibration of prediction intervals on forecasting-competition data.

Usage: python benchmarks/intervals.py [DATASET ...] [--epochs 30] [--patience 5]
                                     [--models ...] [--validation-windows N]
                                     [--conformal-errors signed|absolute]

DATASET: tourism-monthly, tourism-quarterly, m3-monthly (from ../shared/data; the
default runs all three). Every model is fitted on the competition's training part
and forecasts its official test part with 80 % and 95 % intervals. Prints, per
model: empirical coverage at 80 % and 95 % (target: within 3 points of nominal),
mean scaled interval score MSIS at 95 % (the M4 interval measure) and 80 %, the
scaled pinball loss, MASE and sMAPE of the point forecasts, and wall time.

Models: ``defaults`` (``Forecaster`` with nothing but the horizon, frequency and
season length given: its default ``intervals="auto"``; run it with ``--epochs 100
--patience 20`` for the default training), ``lstm-conformal`` (rnncast's LSTM alone,
``combine="none"``, with split-conformal intervals from its validation windows, from
the signed errors or with ``--conformal-errors absolute`` the absolute ones, as for
``ets-conformal``; ``missing="mask"``, so that the competitions' series shorter than
a window are padded instead of refused), ``lstm-conformal-series`` (the same,
calibrated per series where a series has enough validation errors: set
``--validation-windows``), ``lstm-quantile`` (quantile heads, pinball loss),
``lstm-cqr`` (the quantile heads conformalized on the validation windows),
``lstm-theta-conformal`` (the LSTM mixed with the Theta method, ``combine="theta"``,
the defaults, conformal intervals calibrated on the mixed forecast),
``lstm-theta-cqr`` (the mix with conformalized quantile heads moved by the median's
change), ``ets`` and ``theta`` (statsforecast's model-based intervals),
``ets-conformal`` (ETS with conformal intervals from refits at 3 earlier origins)
and ``snaive`` (normal intervals from its residuals).
"""

from __future__ import annotations

import argparse
import platform
import time

import pandas as pd
import statsforecast
import torch

from competition_data import Competition, load
from rnncast import Forecaster, __version__
from rnncast.baselines import make_baseline
from rnncast.evaluation.metrics import evaluate

LEVELS = (80, 95)
MODELS = (
    "defaults",
    "lstm-conformal",
    "lstm-conformal-series",
    "lstm-quantile",
    "lstm-cqr",
    "lstm-theta-conformal",
    "lstm-theta-cqr",
    "ets",
    "ets-conformal",
    "theta",
    "snaive",
)


def forecast(
    name: str,
    data: Competition,
    epochs: int,
    validation_windows: int | None = None,
    patience: int = 5,
    conformal_errors: str = "signed",
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """Fit ``name`` on the training part; return its forecasts and their column.

    ``validation_windows``: the networks' calibration windows per series (default:
    the Forecaster's choice); ``conformal_errors``: of the conformal intervals;
    ``seed``: the networks'.
    """
    if name == "defaults":  # nothing but the data's facts: intervals="auto"
        model = Forecaster(
            horizon=data.horizon,
            season_length=data.season_length,
            freq=data.freq,
            epochs=epochs,
            patience=patience,
            seed=seed,
        )
        return model.fit(data.train).predict(level=LEVELS), "yhat"
    if name.startswith("lstm"):
        model = Forecaster(
            horizon=data.horizon,
            season_length=data.season_length,
            freq=data.freq,
            intervals=name.removeprefix("lstm-")
            .removeprefix("theta-")
            .removesuffix("-series"),
            combine="theta" if name.startswith("lstm-theta") else "none",
            conformal_per_series=name.endswith("-series"),
            levels=LEVELS,
            missing="mask",  # pads the competition's series shorter than a window
            epochs=epochs,
            patience=patience,
            validation_windows=validation_windows,
            conformal_errors=conformal_errors,
            seed=seed,
        )
        return model.fit(data.train).predict(level=LEVELS), "yhat"
    kind = "conformal" if name.endswith("-conformal") else "model"
    model = make_baseline(
        name.removesuffix("-conformal"),
        intervals=kind,
        horizon=data.horizon,
        season_length=data.season_length,
        freq=data.freq,
        levels=LEVELS,
        time_limit=60.0,
        conformal_errors=conformal_errors,
    )
    return model.fit(data.train).predict(level=LEVELS), model.alias


def score(data: Competition, predicted: pd.DataFrame, column: str) -> pd.Series:
    renamed = predicted.rename(
        columns={c: c.replace(column, "model", 1) for c in predicted.columns}
    )
    scores = evaluate(
        renamed,
        data.test,
        data.train,
        models=["model"],
        season_length=data.season_length,
        levels=LEVELS,
    )
    return scores.drop(columns=["unique_id", "model"]).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "datasets",
        nargs="*",
        default=["tourism-monthly", "tourism-quarterly", "m3-monthly"],
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument(
        "--patience", type=int, default=5, help="the networks' early-stopping patience"
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument(
        "--validation-windows",
        type=int,
        help="calibration windows per series for the networks (default: automatic)",
    )
    parser.add_argument(
        "--conformal-errors", choices=("signed", "absolute"), default="signed"
    )
    parser.add_argument("--seed", type=int, default=0, help="the networks' seed")
    args = parser.parse_args()
    print(
        f"rnncast {__version__}, torch {torch.__version__}, statsforecast "
        f"{statsforecast.__version__}, {platform.machine()}, {torch.get_num_threads()}"
        f" threads; LSTM: defaults, epochs <= {args.epochs}, patience {args.patience}, "
        f"seed {args.seed}; conformal errors: {args.conformal_errors}"
    )
    for dataset in args.datasets:
        data = load(dataset)
        rows = {}
        for name in args.models:
            start = time.perf_counter()
            predicted, column = forecast(
                name,
                data,
                args.epochs,
                args.validation_windows,
                args.patience,
                args.conformal_errors,
                args.seed,
            )
            seconds = time.perf_counter() - start
            rows[name] = {**score(data, predicted, column), "seconds": seconds}
        report(data, pd.DataFrame(rows).T)


def report(data: Competition, table: pd.DataFrame) -> None:
    n = data.train["unique_id"].nunique()
    print(f"\n## {data.name}: {n} series, horizon {data.horizon}\n")
    columns = {
        "coverage_80": "coverage 80 %",
        "coverage_95": "coverage 95 %",
        "msis_95": "MSIS 95 %",
        "msis_80": "MSIS 80 %",
        "pinball": "pinball",
        "mase": "MASE",
        "smape": "sMAPE %",
        "seconds": "seconds",
    }
    print("| model | " + " | ".join(columns.values()) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for model, row in table.iterrows():
        cells = []
        for key in columns:
            value = row[key]
            if key.startswith("coverage"):
                cells.append(f"{100 * value:.1f}")
            elif key == "seconds":
                cells.append(f"{value:.0f}")
            else:
                cells.append(f"{value:.3f}")
        print(f"| {model} | " + " | ".join(cells) + " |")
    if "ets" in table.index and "lstm-conformal" in table.index:
        gap = [
            abs(100 * table.loc["lstm-conformal", f"coverage_{lv}"] - lv)
            for lv in LEVELS
        ]
        better = table.loc["lstm-conformal", "msis_95"] < table.loc["ets", "msis_95"]
        print(
            f"\nlstm-conformal: coverage off nominal by {gap[0]:.1f} / {gap[1]:.1f} "
            f"points (target <= 3); MSIS 95 % {'better' if better else 'worse'} than "
            f"ETS ({table.loc['lstm-conformal', 'msis_95']:.4f} vs "
            f"{table.loc['ets', 'msis_95']:.4f})."
        )


if __name__ == "__main__":
    main()
