"""How much forecasts degrade when the training data is damaged, per model.

Usage: python benchmarks/robustness.py [--datasets tourism ili glucose] [--epochs 15]
       [--series 20] [--seed 0]

Real series only: Tourism monthly (a fixed random subset of the 366 competition
series, h=24, the official test part), US ILI weekly (h=12, 2 origins) and a
gap-free stretch (800 readings, the longest is 862) of the glucose CGM series (5-min,
h=12, 2 origins). The damage
goes into the training part only and the forecasts are scored on the untouched
test values, with MASE (season 12 / 52 / 1).

Damage levels: missing 5/10/20 % of the points at random, 10 % in bursts of 2-10
steps, 1 % spikes of +-5 robust deviations (1.4826 MAD) of the series, a level
shift of 2 robust deviations over the first half of the training part, Gaussian
noise of 10 % of the series' standard deviation.

Models: rnncast's LSTM (epochs capped by --epochs; ``--combine none``, the default
here, the network alone as the tables were measured, ``theta`` the library's
defaults; with missing points it
runs with missing="mask" and, for comparison, on linearly interpolated data);
AutoETS, AutoARIMA (statsforecast) and seasonal naive on interpolated data, since
they cannot take gaps.

Prints, per dataset, the MASE table and each model's MASE relative to its own
clean-data MASE, and says at each level whether the LSTM degraded no more than the
best baseline (the one with the lowest MASE at that level).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnncast import Forecaster, __version__
from rnncast.baselines import make_baseline
from rnncast.datasets import load_glucose, load_ili, load_tourism_monthly
from rnncast.evaluation.metrics import mase

_MAD_TO_STD = 1.4826
BASELINES = ("ets", "arima", "snaive")


@dataclass
class Task:
    """One forecasting problem: training frame, test values, settings."""

    name: str
    train: pd.DataFrame  # unique_id, ds, y
    test: pd.DataFrame  # unique_id, ds, y (the next `horizon` values)
    horizon: int
    season_length: int

    def clean_train_of(self, uid: object) -> np.ndarray:
        """Undamaged training values of one series (the MASE scale)."""
        return self.train.loc[self.train["unique_id"] == uid, "y"].to_numpy()


Damage = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _robust_scale(y: np.ndarray) -> float:
    return _MAD_TO_STD * float(np.median(np.abs(y - np.median(y)))) or float(np.std(y))


def missing_at_random(share: float) -> Damage:
    def damage(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = y.copy()
        k = round(share * len(y))
        out[1 + rng.choice(len(y) - 2, k, replace=False)] = np.nan  # keep both ends
        return out

    return damage


def missing_in_bursts(share: float) -> Damage:
    def damage(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = y.copy()
        target = round(share * len(y))
        while np.isnan(out).sum() < target:
            length = int(rng.integers(2, 11))
            start = int(rng.integers(1, max(2, len(y) - length - 1)))
            out[start : start + length] = np.nan
        out[-1] = y[-1]
        return out

    return damage


def spikes(share: float, size: float) -> Damage:
    def damage(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = y.copy()
        k = max(1, round(share * len(y)))
        at = rng.choice(len(y), k, replace=False)
        out[at] += size * _robust_scale(y) * rng.choice([-1.0, 1.0], k)
        return out

    return damage


def level_shift(size: float) -> Damage:
    def damage(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = y.copy()
        out[: len(y) // 2] += size * _robust_scale(y)
        return out

    return damage


def noise(share: float) -> Damage:
    def damage(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return y + rng.normal(0.0, share * float(np.std(y)), len(y))

    return damage


DAMAGES: dict[str, Damage | None] = {
    "clean": None,
    "missing 5%": missing_at_random(0.05),
    "missing 10%": missing_at_random(0.10),
    "missing 20%": missing_at_random(0.20),
    "missing 10% bursts": missing_in_bursts(0.10),
    "spikes 1% x 5 dev": spikes(0.01, 5.0),
    "level shift 2 dev": level_shift(2.0),
    "noise 10% std": noise(0.10),
}


def damaged(train: pd.DataFrame, damage: Damage | None, seed: int) -> pd.DataFrame:
    if damage is None:
        return train
    rng = np.random.default_rng(seed)
    parts = []
    for _, group in train.groupby("unique_id", sort=True):
        parts.append(group.assign(y=damage(group["y"].to_numpy(), rng)))
    return pd.concat(parts, ignore_index=True)


def interpolated(train: pd.DataFrame) -> pd.DataFrame:
    return train.assign(
        y=train.groupby("unique_id")["y"].transform(
            lambda s: s.interpolate(limit_direction="both")
        )
    )


def score(task: Task, forecast: pd.DataFrame, column: str) -> float:
    """Mean MASE over series; the scale uses the clean training data."""
    values = []
    for uid, test in task.test.groupby("unique_id", sort=True):
        yhat = forecast.loc[forecast["unique_id"] == uid, column].to_numpy()
        history = task.clean_train_of(uid)
        values.append(mase(test["y"].to_numpy(), yhat, history, task.season_length))
    return float(np.mean(values))


def run_lstm(
    train: pd.DataFrame, task: Task, epochs: int, combine: str, **kwargs: object
) -> float:
    model = Forecaster(
        horizon=task.horizon,
        season_length=task.season_length,
        epochs=epochs,
        patience=5,
        combine=combine,
        seed=0,
        **kwargs,
    )
    return score(task, model.fit(train).predict(), "yhat")


FALLBACKS: dict[str, int] = {}


def run_baseline(name: str, train: pd.DataFrame, task: Task) -> float:
    model = make_baseline(
        name, horizon=task.horizon, season_length=task.season_length, time_limit=10.0
    )
    model.fit(train)
    FALLBACKS[name] = FALLBACKS.get(name, 0) + len(model.fallbacks_)
    return score(task, model.predict(), model.alias)


def evaluate_level(
    tasks: list[Task], damage: Damage | None, epochs: int, seed: int, combine: str
):
    """Mean MASE over ``tasks`` (the origins of one dataset) of every model."""
    scores: dict[str, list[float]] = {}
    has_gaps = False
    for k, task in enumerate(tasks):
        train = damaged(task.train, damage, seed + k)
        has_gaps = bool(train["y"].isna().any())
        filled = interpolated(train) if has_gaps else train
        if has_gaps:
            scores.setdefault("lstm (mask)", []).append(
                run_lstm(train, task, epochs, combine, missing="mask")
            )
            scores.setdefault("lstm (interp.)", []).append(
                run_lstm(filled, task, epochs, combine)
            )
        else:
            scores.setdefault("lstm", []).append(run_lstm(train, task, epochs, combine))
        for name in BASELINES:
            scores.setdefault(name, []).append(run_baseline(name, filled, task))
    return {model: float(np.mean(v)) for model, v in scores.items()}


# ------------------------------------------------------------------ data
def tourism_tasks(n_series: int, seed: int) -> list[Task]:
    train, test = load_tourism_monthly("train"), load_tourism_monthly("test")
    ids = np.sort(train["unique_id"].unique())
    keep = np.random.default_rng(seed).choice(ids, n_series, replace=False)
    return [
        Task(
            "tourism monthly",
            train[train["unique_id"].isin(keep)].reset_index(drop=True),
            test[test["unique_id"].isin(keep)].reset_index(drop=True),
            horizon=24,
            season_length=12,
        )
    ]


def origin_tasks(
    name: str, frame: pd.DataFrame, horizon: int, season: int
) -> list[Task]:
    """Two forecast origins: the end, and ``horizon`` steps before it."""
    tasks = []
    for back in (horizon, 2 * horizon):
        end = len(frame) - back
        tasks.append(
            Task(
                name,
                frame.iloc[:end].reset_index(drop=True),
                frame.iloc[end : end + horizon].reset_index(drop=True),
                horizon,
                season,
            )
        )
    return tasks


def glucose_stretch(length: int = 800) -> pd.DataFrame:
    """Return the last gap-free stretch of ``length`` readings of the glucose series."""
    data = load_glucose()
    observed = data["y"].notna().to_numpy()
    run = 0
    for end in range(len(data) - 1, -1, -1):
        run = run + 1 if observed[end] else 0
        if run == length:
            return data.iloc[end : end + length].reset_index(drop=True)
    raise SystemExit("no gap-free stretch of glucose readings that long")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["tourism", "ili", "glucose"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--series", type=int, default=20, help="Tourism series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", nargs="+", default=list(DAMAGES))
    parser.add_argument(
        "--combine",
        default="none",
        choices=["none", "theta"],
        help="the LSTM's mix: none (the network alone, as the tables of "
        "docs/robustness.md were measured) or theta (the defaults)",
    )
    args = parser.parse_args()
    import statsforecast
    import torch

    print(
        f"rnncast {__version__}, torch {torch.__version__}, statsforecast "
        f"{statsforecast.__version__}, pandas {pd.__version__}; LSTM: rnncast "
        f"defaults, epochs <= {args.epochs}, patience 5, seed 0, combine "
        f"{args.combine}"
    )
    builders = {
        "tourism": lambda: tourism_tasks(args.series, args.seed),
        "ili": lambda: origin_tasks("US ILI weekly", load_ili(), 12, 52),
        "glucose": lambda: origin_tasks("glucose 5-min", glucose_stretch(), 12, 1),
    }
    for dataset in args.datasets:
        tasks = builders[dataset]()
        rows, started = {}, time.perf_counter()
        FALLBACKS.clear()
        for level in args.levels:
            rows[level] = evaluate_level(
                tasks, DAMAGES[level], args.epochs, args.seed, args.combine
            )
            print(f"  {tasks[0].name}, {level}: done", file=sys.stderr, flush=True)
        report(tasks[0].name, rows, time.perf_counter() - started)
        fits = len(args.levels) * sum(t.test["unique_id"].nunique() for t in tasks)
        print(
            "\nfell back to seasonal naive (failure or 10 s time limit): "
            + ", ".join(f"{m} {n} of {fits} series fits" for m, n in FALLBACKS.items())
        )


def report(name: str, rows: dict[str, dict[str, float]], seconds: float) -> None:
    table = pd.DataFrame(rows).T
    clean = table.loc["clean"] if "clean" in table.index else None
    print(f"\n## {name}: MASE ({seconds:.0f} s)\n")
    print(markdown(table))
    if clean is None:
        return
    relative = table.copy()
    for column in relative.columns:
        base = clean["lstm"] if column.startswith("lstm") else clean[column]
        relative[column] = table[column] / base
    print(f"\n## {name}: MASE relative to the same model on clean data\n")
    verdicts = []
    for level, row in relative.iterrows():
        baselines = table.loc[level, list(BASELINES)]
        best = baselines.idxmin()
        lstm = (
            row["lstm (mask)"]
            if np.isfinite(row.get("lstm (mask)", np.nan))
            else row["lstm"]
        )
        ok = "yes" if lstm <= row[best] + 1e-9 else "no"
        verdicts.append(f"{ok} (best baseline {best})")
    relative["LSTM degrades <= best baseline"] = verdicts
    print(markdown(relative))


def markdown(table: pd.DataFrame) -> str:
    """Format a DataFrame as a Markdown table, numbers to 3 decimals."""
    header = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in table.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(index), *cells]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
