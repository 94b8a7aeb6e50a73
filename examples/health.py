"""Health: influenza-like illness (weekly) and continuous glucose monitoring (5 min).

Run: python examples/health.py   (about 2-3 minutes on 2 CPU cores)

ILI: 8 weeks ahead, networks against ETS, Theta and seasonal naive.

Glucose: 30 and 60 minutes ahead (6 and 12 steps of 5 minutes) over the last two
weeks of readings. The sensor skips readings, so the gaps are handled explicitly:
gaps of up to 30 minutes are interpolated, the series is cut after the last longer
gap (so no long invented stretch is learned), and the counts are printed. A band is
built from the absolute errors of the earlier backtest windows (the 90 % quantile per
step ahead, a split-conformal band), and observed readings of the last window that
fall outside it are flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnncast import backtest
from rnncast.datasets import load_glucose, load_ili

MAX_GAP = 6  # slots of 5 minutes: interpolate gaps up to 30 minutes


def prepare_glucose(days: int = 14) -> pd.DataFrame:
    """Return the last days of glucose: short gaps filled, cut at the last long gap."""
    glucose = load_glucose().tail(days * 288).reset_index(drop=True)
    missing = glucose["y"].isna()
    run_id = (missing != missing.shift()).cumsum()
    run_length = missing.groupby(run_id).transform("sum")
    long_gap = missing & (run_length > MAX_GAP)
    start = int(np.flatnonzero(long_gap)[-1]) + 1 if long_gap.any() else 0
    kept = glucose.iloc[start:].copy()
    filled = int(kept["y"].isna().sum())
    kept["y"] = kept["y"].interpolate(limit_area="inside")
    print(
        f"glucose: {len(glucose)} slots of 5 min in the last {days} days, "
        f"{int(missing.sum())} empty; {int(long_gap.sum())} slots in gaps over "
        f"{MAX_GAP * 5} min -> series cut after the last one; kept {len(kept)} slots, "
        f"{filled} interpolated"
    )
    return kept.dropna()


def conformal_flags(result, model: str, level: float = 0.9) -> pd.DataFrame:
    """Band from earlier windows' absolute errors per step; flag last-window misses."""
    fc = result.forecasts.copy()
    fc["step"] = fc.groupby(["unique_id", "cutoff"]).cumcount() + 1
    last = fc["cutoff"] == fc["cutoff"].max()
    errors = (fc.loc[~last, "y"] - fc.loc[~last, model]).abs()
    width = errors.groupby(fc.loc[~last, "step"]).quantile(level)
    window = fc[last].copy()
    window["lo"] = window[model] - window["step"].map(width)
    window["hi"] = window[model] + window["step"].map(width)
    window["outside"] = (window["y"] < window["lo"]) | (window["y"] > window["hi"])
    return window[["ds", "y", model, "lo", "hi", "outside"]]


def main() -> None:
    ili = backtest(
        load_ili(),
        ["lstm", "gru", "ets", "theta", "snaive"],
        horizon=8,
        n_windows=3,
        neural_params={"epochs": 40, "patience": 8},
    )
    print("\nInfluenza-like illness, 8 weeks ahead, 3 windows")
    print(
        ili.leaderboard.set_index("model")[
            ["mae", "smape", "mase", "owa", "fit_seconds"]
        ]
        .round(3)
        .to_string()
    )

    glucose = prepare_glucose()
    for horizon in (6, 12):
        result = backtest(
            glucose,
            ["lstm", "gru", "naive", "ets"],
            horizon=horizon,
            n_windows=8,
            season_length=288,
            reference="naive",
            neural_params={
                "lookback": 36,
                "hidden": (32,),
                "epochs": 30,
                "patience": 6,
            },
        )
        board = result.leaderboard.set_index("model")
        print(f"\nGlucose, {horizon * 5} minutes ahead, 8 windows (reference: naive)")
        print(
            board[["mae", "rmse", "mape", "mase", "fit_seconds"]].round(3).to_string()
        )
        best = board["mae"].idxmin()
        flags = conformal_flags(result, best)
        outside = flags[flags["outside"]]
        print(
            f"{best}: 90% band from 7 earlier windows; {len(outside)} of {len(flags)} "
            "readings of the last window fall outside it"
        )
        for row in outside.itertuples():
            print(
                f"  flag {row.ds:%Y-%m-%d %H:%M}: observed {row.y:.0f} mg/dL, band "
                f"{row.lo:.0f}-{row.hi:.0f}"
            )


if __name__ == "__main__":
    main()
