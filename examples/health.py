"""Health: influenza-like illness (weekly) and continuous glucose monitoring (5 min).

Run: python examples/health.py   (about 2-3 minutes on 2 CPU cores)

ILI: 8 weeks ahead, networks against ETS, Theta and seasonal naive: the defaults mix
each network's forecast with the Theta method's (``combine="theta"``; with one
series the validation windows are few, so the weight stays near equal), the LSTM
alone (``lstm+none``), and the LSTM alone again with ``window_level="detect"``
forced. The last windows fall in spring 2020, when reported influenza-like illness
collapsed (COVID-19 measures) far below any earlier season. The start of seasonal
series (the window's seasonal pattern around its last season's mean) anchors on the
year before; with the default ``window_level="auto"`` such a network does not beat
the last value on validation, so one forecasting changes from the last value is
trained too and kept (the naive check), and it follows the break. The forced row
shows what the check prevents.

Glucose: a monitoring run over the last day of readings. The sensor skips readings;
the gaps stay gaps (missing="mask": the network sees which readings are missing and
never trains on invented ones) and the data report says how many there were. Every
hour, the LSTM forecasts the next hour (12 readings of 5 minutes) with a 90 %
conformal band calibrated on its validation windows, and readings outside the band
are flagged, as a clinician's dashboard would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnncast import Forecaster, backtest
from rnncast.datasets import load_glucose, load_ili

LEVEL = 90  # the band of the glucose monitor, in percent


def monitor_glucose(days: int = 14) -> None:
    """Fit on all but the last day, then flag readings outside each hour's band."""
    glucose = load_glucose().tail(days * 288).reset_index(drop=True)
    history = glucose.iloc[:-288]
    model = Forecaster(
        horizon=12,
        lookback=36,
        hidden=(32,),
        epochs=30,
        patience=6,
        missing="mask",
        intervals="conformal",
        validation_windows=200,
        seed=0,
    ).fit(history)
    print(f"\nGlucose: {len(history)} slots of 5 min before the last day")
    for line in model.data_report_.lines():
        print(f"  data: {line}")
    inside = total = 0
    for origin in range(len(history), len(glucose), 12):
        band = model.predict(glucose.iloc[:origin], level=[LEVEL])
        actual = glucose.iloc[origin : origin + 12].reset_index(drop=True)
        seen = actual["y"].notna()
        lo, hi = band[f"yhat-lo-{LEVEL}"], band[f"yhat-hi-{LEVEL}"]
        outside = seen & ((actual["y"] < lo) | (actual["y"] > hi))
        inside += int((seen & ~outside).sum())
        total += int(seen.sum())
        for k in np.flatnonzero(outside):
            print(
                f"  flag {actual['ds'][k]:%Y-%m-%d %H:%M}: observed "
                f"{actual['y'][k]:.0f} mg/dL, {LEVEL} % band {lo[k]:.0f}-{hi[k]:.0f}"
            )
    print(
        f"  last day: {inside} of {total} observed readings inside the {LEVEL} % "
        f"band ({inside / total:.1%}); the rest are flagged above"
    )


def ili_leaderboard(models: list[str], **network: object) -> pd.DataFrame:
    """Backtest ``models`` on ILI, 8 weeks ahead from 3 origins, with intervals."""
    result = backtest(
        load_ili(),
        models,
        horizon=8,
        n_windows=3,
        neural_params={"epochs": 40, "patience": 8, **network},
        level=[80, 95],
    )
    return result.leaderboard.set_index("model")


def main() -> None:
    board = ili_leaderboard(["lstm", "lstm+none", "gru", "ets", "theta", "snaive"])
    forced = ili_leaderboard(["lstm+none"], window_level="detect").loc[["lstm+none"]]
    board = pd.concat(
        [board, forced.rename(index={"lstm+none": "lstm+none, window_level=detect"})]
    )
    print("\nInfluenza-like illness, 8 weeks ahead, 3 windows")
    print(
        board.sort_values("mase")[
            ["mae", "smape", "mase", "owa", "coverage_80", "msis_95", "fit_seconds"]
        ]
        .round(3)
        .to_string()
    )

    monitor_glucose()


if __name__ == "__main__":
    main()
